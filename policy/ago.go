package policy

import (
	"strconv"
	"strings"
	"time"
)

// MaxAgo is the longest age ParseAgo returns: 150 years, as acr purge caps
// it. Longer values are capped rather than overflowing into a negative
// window that would select everything.
const MaxAgo = 150 * 365 * 24 * time.Hour

// ParseAgo parses an age in acr purge's --ago syntax: an optional whole
// number of days followed by "d", then an optional Go duration
// (time.ParseDuration): "30d", "2d3h6m", "1.5h", "0d", "90m". Values over
// MaxAgo, including ones too large for a time.Duration, are capped at
// MaxAgo. Negative values, fractional days and anything else fail with an
// error wrapping ErrInvalid.
func ParseAgo(s string) (time.Duration, error) {
	if s == "" {
		return 0, invalidf("empty age")
	}
	rest := s
	var total time.Duration
	capped := false
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		days := rest[:i]
		if days == "" || strings.IndexFunc(days, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return 0, invalidf("age %q: days must be a whole number before \"d\"", s)
		}
		n, err := strconv.ParseUint(days, 10, 64)
		if err != nil || n > uint64(MaxAgo/(24*time.Hour)) {
			capped = true
		} else {
			total = time.Duration(n) * 24 * time.Hour
		}
		rest = rest[i+1:]
	}
	if rest != "" {
		if strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") {
			return 0, invalidf("age %q: signs are not allowed", s)
		}
		d, err := time.ParseDuration(rest)
		switch {
		case err != nil && isOverflow(rest):
			capped = true
		case err != nil:
			return 0, invalidf("age %q: want [N]d followed by a Go duration such as 3h30m", s)
		case d > MaxAgo-total:
			capped = true
		default:
			total += d
		}
	}
	if capped || total > MaxAgo {
		return MaxAgo, nil
	}
	return total, nil
}

// isOverflow reports whether s is a well-formed Go duration whose value is
// too large for a time.Duration: digits, dots and unit letters only, and
// ParseDuration accepts it once its numbers are shortened.
func isOverflow(s string) bool {
	var b strings.Builder
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
			if digits <= 3 {
				b.WriteRune(r)
			}
		default:
			digits = 0
			if r == '.' {
				digits = 4 // drop fractions: only the magnitude matters
			}
			b.WriteRune(r)
		}
	}
	_, err := time.ParseDuration(b.String())
	return err == nil
}
