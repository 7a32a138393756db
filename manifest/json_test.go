package manifest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecoderStrings(t *testing.T) {
	tests := []string{
		`""`, `"plain"`, `"\"\\\/\b\f\n\r\t"`, `"\u0041\u00e9\u20ac"`, `"\ud83d\ude00"`,
		`"\ud83d"`, `"\ude00"`, `"\ud83d\u0041"`, `"\ud83dx"`, `"\ud83d\ud83d\ude00"`,
		"\"caf\xc3\xa9\"", "\"bad \xff byte\"", "\"cut \xe2\x82\"", `"a\u0000b"`,
	}
	for _, in := range tests {
		d := decoder{s: in}
		got, err := d.str()
		var want string
		if jerr := json.Unmarshal([]byte(in), &want); jerr != nil {
			t.Fatalf("%q: encoding/json: %v", in, jerr)
		}
		if err != nil || got != want || d.i != len(in) {
			t.Errorf("str(%q) = %q, %v at %d; want %q", in, got, err, d.i, want)
		}
	}
}

func TestDecoderRejects(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{`"unterminated`, ErrMalformed},
		{`"unterminated\`, ErrMalformed},
		{"\"unterminated\\u12", ErrMalformed},
		{"\"tab\there\"", ErrMalformed},
		{`{"a":1,}`, ErrMalformed},
		{`{"a" 1}`, ErrMalformed},
		{`{"a":1 "b":2}`, ErrMalformed},
		{`{1:2}`, ErrInvalid},
		{`[1 2]`, ErrMalformed},
		{`[1,]`, ErrMalformed},
		{`-`, ErrMalformed},
		{`1.`, ErrMalformed},
		{`1e`, ErrMalformed},
		{`.5`, ErrMalformed},
		{`+1`, ErrMalformed},
		{`tru`, ErrMalformed},
		{`{"a":1,"a":1}`, ErrDuplicateKey},
		{`{"a":{"b":[{"c":1,"c":2}]}}`, ErrDuplicateKey},
		{strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1), ErrMalformed},
		{strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1), ErrMalformed},
		{``, ErrMalformed},
	}
	for _, tt := range tests {
		d := decoder{s: tt.in}
		err := d.skip()
		if err == nil {
			err = d.end()
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("skip(%q) = %v, want %v", tt.in, err, tt.want)
		}
	}
}

func TestDecoderInt64(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"-0", 0, true}, {"42", 42, true}, {"-42", -42, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"18446744073709551616", 0, false}, {"1.0", 0, false}, {"1e2", 0, false},
		{`"1"`, 0, false}, {"true", 0, false}, {"-", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		d := decoder{s: tt.in}
		got, err := d.int64()
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("int64(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestErrorPaths(t *testing.T) {
	body := `{"schemaVersion":2,"config":` + cfg + `,"layers":[` + lay + `,{"mediaType":"a/b","digest":"sha256:x","size":1}]}`
	_, err := Parse(mtImg, []byte(body), nil)
	if err == nil || !strings.Contains(err.Error(), "manifest: layers[1].digest: ") {
		t.Errorf("error %q does not name layers[1].digest", err)
	}
	body = `{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"` + dgA + `","size":1,"platform":{"os":"linux","architecture":"amd64","os.features":["a",1]}}]}`
	_, err = Parse(mtIdx, []byte(body), nil)
	if err == nil || !strings.Contains(err.Error(), "manifest: manifests[0].platform.os.features[1]: ") {
		t.Errorf("error %q does not name the path", err)
	}
	_, err = Parse(mtImg, []byte(img(`,"a b":{"x":1,"x":2}`)), nil)
	if err == nil || !strings.Contains(err.Error(), `manifest: "a b".x: duplicate key`) {
		t.Errorf("error %q does not name the path", err)
	}
}

func TestKeySetSpills(t *testing.T) {
	var k keySet
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}
	for _, s := range keys {
		if !k.add(s) {
			t.Fatalf("add(%q) reported a duplicate", s)
		}
	}
	for _, s := range keys {
		if k.add(s) {
			t.Errorf("add(%q) again was not a duplicate", s)
		}
	}
}
