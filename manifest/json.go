package manifest

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of arrays and objects, so hostile input cannot
// make the decoder recurse deeply. Real manifests nest four or five levels.
const maxDepth = 64

// decoder is a strict, single-pass JSON reader over an immutable string.
// Compared with encoding/json it rejects duplicate keys (at every level,
// including inside values nobody interprets), keys that differ only in case
// from a field the caller interprets, and nesting beyond maxDepth. Strings
// without escapes are returned as substrings of the input, so decoding
// allocates little. Like encoding/json it replaces invalid UTF-8 and lone
// surrogates inside strings with U+FFFD.
type decoder struct {
	s     string
	i     int
	depth int
}

// syntaxError reports malformed JSON at the current offset.
func (d *decoder) syntaxError(what string) error {
	return fmt.Errorf("offset %d: %s: %w", d.i, what, ErrMalformed)
}

// unexpected reports a value of the wrong JSON type.
func (d *decoder) unexpected(want string) error {
	if d.i >= len(d.s) {
		return d.syntaxError("unexpected end of input")
	}
	var got string
	switch d.s[d.i] {
	case '{':
		got = "object"
	case '[':
		got = "array"
	case '"':
		got = "string"
	case 't', 'f':
		got = "boolean"
	case 'n':
		got = "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		got = "number"
	default:
		return d.syntaxError(fmt.Sprintf("invalid character %q", d.s[d.i]))
	}
	return fmt.Errorf("offset %d: want %s, got %s: %w", d.i, want, got, ErrInvalid)
}

func (d *decoder) ws() {
	s, i := d.s, d.i
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	d.i = i
}

// peek returns the next byte after white space, or 0 at the end.
func (d *decoder) peek() byte {
	d.ws()
	if d.i < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

// end checks that only white space remains.
func (d *decoder) end() error {
	d.ws()
	if d.i != len(d.s) {
		return fmt.Errorf("offset %d: %w", d.i, ErrTrailingData)
	}
	return nil
}

// null consumes a null literal if one comes next.
func (d *decoder) null() bool {
	if d.peek() == 'n' && strings.HasPrefix(d.s[d.i:], "null") {
		d.i += 4
		return true
	}
	return false
}

// str reads a string.
func (d *decoder) str() (string, error) {
	if d.peek() != '"' {
		return "", d.unexpected("string")
	}
	s := d.s
	start := d.i + 1
	i := start
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			i++
			continue
		}
		if c == '"' {
			d.i = i + 1
			return s[start:i], nil
		}
		if c >= utf8.RuneSelf {
			if r, size := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		d.i = i
		return d.strSlow(start)
	}
	d.i = i
	return "", d.syntaxError("unterminated string")
}

// strSlow finishes a string that holds escapes or invalid UTF-8; d.i is at
// the first byte the fast path could not take.
func (d *decoder) strSlow(start int) (string, error) {
	b := make([]byte, 0, d.i-start+16)
	b = append(b, d.s[start:d.i]...)
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			return string(b), nil
		case c < 0x20:
			return "", d.syntaxError("control character in string")
		case c == '\\':
			if d.i+1 >= len(d.s) {
				return "", d.syntaxError("unterminated string")
			}
			e := d.s[d.i+1]
			d.i += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", d.syntaxError("invalid \\u escape")
				}
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					if strings.HasPrefix(d.s[d.i:], `\u`) {
						save := d.i
						d.i += 2
						if lo, ok := d.hex4(); ok && utf16.DecodeRune(r, lo) != utf8.RuneError {
							r2 = utf16.DecodeRune(r, lo)
						} else {
							d.i = save
						}
					}
					r = r2
				}
				b = utf8.AppendRune(b, r)
			default:
				d.i--
				return "", d.syntaxError("invalid escape")
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.i++
		default:
			r, size := utf8.DecodeRuneInString(d.s[d.i:])
			d.i += size
			b = utf8.AppendRune(b, r) // invalid bytes become U+FFFD
		}
	}
	return "", d.syntaxError("unterminated string")
}

// hex4 reads the four hex digits of a \u escape.
func (d *decoder) hex4() (rune, bool) {
	if d.i+4 > len(d.s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(d.s[d.i : d.i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.i += 4
	return r, true
}

// int64 reads a number that must be an integer in the int64 range.
func (d *decoder) int64() (int64, error) {
	c := d.peek()
	if c != '-' && (c < '0' || c > '9') {
		return 0, d.unexpected("integer")
	}
	start := d.i
	if err := d.number(); err != nil {
		return 0, err
	}
	lit := d.s[start:d.i]
	neg := lit[0] == '-'
	digits := lit
	if neg {
		digits = lit[1:]
	}
	var n uint64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("offset %d: %s is not an integer: %w", start, truncate(lit), ErrInvalid)
		}
		if n > (1<<63)/10 {
			return 0, fmt.Errorf("offset %d: %s is out of range: %w", start, truncate(lit), ErrInvalid)
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<63 || (!neg && n == 1<<63) {
		return 0, fmt.Errorf("offset %d: %s is out of range: %w", start, truncate(lit), ErrInvalid)
	}
	if neg {
		return -int64(n), nil
	}
	return int64(n), nil
}

// number consumes a number, checking the JSON grammar.
func (d *decoder) number() error {
	if d.i < len(d.s) && d.s[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.s) && d.s[d.i] == '0':
		d.i++
	case d.i < len(d.s) && d.s[d.i] >= '1' && d.s[d.i] <= '9':
		d.digits()
	default:
		return d.syntaxError("invalid number")
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		if d.digits() == 0 {
			return d.syntaxError("invalid number")
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if d.digits() == 0 {
			return d.syntaxError("invalid number")
		}
	}
	return nil
}

func (d *decoder) digits() int {
	start := d.i
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
		d.i++
	}
	return d.i - start
}

// enter consumes an opening bracket, counting depth.
func (d *decoder) enter(open byte, want string) error {
	if d.peek() != open {
		return d.unexpected(want)
	}
	if d.depth >= maxDepth {
		return d.syntaxError("nested too deeply")
	}
	d.depth++
	d.i++
	return nil
}

// members reads an object like object, for the manifest types' fields: a
// null value counts as absent and is skipped, every known key met is
// recorded in *have (bit f), and fn gets the index of the key.
func (d *decoder) members(fields []string, have *uint, fn func(f int) error) error {
	return d.object(fields, func(f int, _ string) error {
		if d.null() {
			return nil
		}
		if f >= 0 {
			*have |= 1 << f
		}
		return fn(f)
	})
}

// object reads an object. fields lists the keys the caller interprets (at
// most 64). For each member fn is called, positioned at the value, with the
// index of the key in fields (-1 for other keys) and the key; it must
// consume the value. Duplicate keys, and other keys that match one of
// fields when case is ignored, are rejected.
func (d *decoder) object(fields []string, fn func(f int, key string) error) error {
	if err := d.enter('{', "object"); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		d.depth--
		return nil
	}
	var known uint64
	var others keySet
	for {
		key, err := d.str()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return d.syntaxError("missing colon after object key")
		}
		d.i++
		f := indexOf(fields, key)
		if f >= 0 {
			if known&(1<<f) != 0 {
				return atKey(key, ErrDuplicateKey)
			}
			known |= 1 << f
		} else {
			for _, name := range fields {
				if strings.EqualFold(name, key) {
					return atKey(key, fmt.Errorf("differs only in case from %q: %w", name, ErrDuplicateKey))
				}
			}
			if !others.add(key) {
				return atKey(key, ErrDuplicateKey)
			}
		}
		d.ws()
		if err := fn(f, key); err != nil {
			return atKey(key, err)
		}
		switch d.peek() {
		case ',':
			d.i++
			if d.peek() == '}' {
				return d.syntaxError("trailing comma in object")
			}
		case '}':
			d.i++
			d.depth--
			return nil
		default:
			return d.syntaxError("missing comma or } in object")
		}
	}
}

// array reads an array, calling fn for each element; fn must consume it.
func (d *decoder) array(fn func(i int) error) error {
	if err := d.enter('[', "array"); err != nil {
		return err
	}
	if d.peek() == ']' {
		d.i++
		d.depth--
		return nil
	}
	for i := 0; ; i++ {
		d.ws()
		if err := fn(i); err != nil {
			return atIndex(i, err)
		}
		switch d.peek() {
		case ',':
			d.i++
			if d.peek() == ']' {
				return d.syntaxError("trailing comma in array")
			}
		case ']':
			d.i++
			d.depth--
			return nil
		default:
			return d.syntaxError("missing comma or ] in array")
		}
	}
}

// skip consumes any value, checking it as strictly as interpreted values.
func (d *decoder) skip() error {
	switch c := d.peek(); c {
	case '{':
		return d.object(nil, func(int, string) error { return d.skip() })
	case '[':
		return d.array(func(int) error { return d.skip() })
	case '"':
		_, err := d.str()
		return err
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	case 0:
		return d.syntaxError("unexpected end of input")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return d.number()
		}
		return d.syntaxError(fmt.Sprintf("invalid character %q", c))
	}
}

func (d *decoder) literal(lit string) error {
	if !strings.HasPrefix(d.s[d.i:], lit) {
		return d.syntaxError("invalid literal")
	}
	d.i += len(lit)
	return nil
}

// stringMap reads an object whose values are all strings (annotations).
func (d *decoder) stringMap() (map[string]string, error) {
	m := make(map[string]string)
	err := d.object(nil, func(_ int, key string) error {
		v, err := d.str()
		if err != nil {
			return err
		}
		m[key] = v
		return nil
	})
	return m, err
}

// stringArray reads an array of strings.
func (d *decoder) stringArray() ([]string, error) {
	var out []string
	err := d.array(func(int) error {
		v, err := d.str()
		out = append(out, v)
		return err
	})
	if out == nil && err == nil {
		out = []string{}
	}
	return out, err
}

func indexOf(fields []string, key string) int {
	for i, f := range fields {
		if f == key {
			return i
		}
	}
	return -1
}

// keySet remembers the keys of one object that the caller does not
// interpret. Small objects stay in a fixed array; big ones spill to a map.
type keySet struct {
	n     int
	small [8]string
	big   map[string]struct{}
}

// add records key and reports whether it was new.
func (k *keySet) add(key string) bool {
	if k.big != nil {
		if _, dup := k.big[key]; dup {
			return false
		}
		k.big[key] = struct{}{}
		return true
	}
	for _, s := range k.small[:k.n] {
		if s == key {
			return false
		}
	}
	if k.n < len(k.small) {
		k.small[k.n] = key
		k.n++
		return true
	}
	k.big = make(map[string]struct{}, 2*len(k.small))
	for _, s := range k.small {
		k.big[s] = struct{}{}
	}
	k.big[key] = struct{}{}
	return true
}
