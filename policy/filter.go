package policy

import (
	"strings"
	"time"

	"github.com/dlclark/regexp2"
)

// DefaultMatchTimeout bounds one regular-expression match when
// CompileOptions.MatchTimeout is zero. Tag and repository names are short,
// so only a pathological (catastrophically backtracking) pattern comes near
// it.
const DefaultMatchTimeout = 100 * time.Millisecond

// Filter is one acr purge filter, written "repository-regex:tag-regex".
type Filter struct {
	// Repository is the repository pattern, anchored at both ends.
	Repository string
	// Tag is the tag pattern; it matches anywhere in a tag's name unless
	// it anchors itself.
	Tag string
}

// String returns the filter as written: "repository:tag".
func (f Filter) String() string { return f.Repository + ":" + f.Tag }

// ParseFilter splits a filter "repository-regex:tag-regex" at its one
// separating colon. A colon inside a character class ([:]), escaped (\:) or
// ending a group's flags ((?:...), (?i:...)) is part of a pattern, not the
// separator. Both patterns must be non-empty and compile. Errors wrap
// ErrInvalid.
func ParseFilter(s string) (Filter, error) {
	seps := separators(s)
	if len(seps) != 1 {
		return Filter{}, invalidf("filter %q: want one \":\" between a repository pattern and a tag pattern, found %d", s, len(seps))
	}
	f := Filter{Repository: s[:seps[0]], Tag: s[seps[0]+1:]}
	if f.Repository == "" {
		return Filter{}, invalidf("filter %q: empty repository pattern", s)
	}
	if f.Tag == "" {
		return Filter{}, invalidf("filter %q: empty tag pattern", s)
	}
	if _, err := compilePattern(f.Repository, true, 0); err != nil {
		return Filter{}, err
	}
	if _, err := compilePattern(f.Tag, false, 0); err != nil {
		return Filter{}, err
	}
	return f, nil
}

// separators returns the offsets of the colons in s that separate patterns.
func separators(s string) []int {
	var out []int
	inClass := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++ // the escaped byte is literal
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			// A ']' first in a class (or after '^') is literal.
			if j := i + 1; j < len(s) && s[j] == '^' {
				i = j
			}
			if j := i + 1; j < len(s) && s[j] == ']' {
				i = j
			}
		case c == '(' && strings.HasPrefix(s[i+1:], "?"):
			// (?flags:  — skip the flags and the colon that ends them.
			j := i + 2
			for j < len(s) && strings.IndexByte("imsnxU-", s[j]) >= 0 {
				j++
			}
			if j < len(s) && s[j] == ':' {
				i = j
			}
		case c == ':':
			out = append(out, i)
		}
	}
	return out
}

// pattern is a compiled regular expression with its source.
type pattern struct {
	src string
	re  *regexp2.Regexp
}

// compilePattern compiles src in .NET syntax (RE2-compatible mode, as acr
// purge does); anchored wraps it in ^(?:...)$.
func compilePattern(src string, anchored bool, timeout time.Duration) (*pattern, error) {
	re, err := regexp2.Compile(src, regexp2.RE2)
	if err == nil && anchored {
		// src compiled on its own first, so the wrapper cannot change its
		// structure (a src like "a)|(b" is refused, not anchored halfway);
		// one that swallows the wrapper (an unterminated comment) fails here.
		re, err = regexp2.Compile("^(?:"+src+")$", regexp2.RE2)
	}
	if err != nil {
		return nil, invalidf("pattern %q: %w", src, err)
	}
	if timeout <= 0 {
		timeout = DefaultMatchTimeout
	}
	re.MatchTimeout = timeout
	return &pattern{src: src, re: re}, nil
}

// match reports whether s matches; a timeout is an error, never a match.
func (p *pattern) match(s string) (bool, error) {
	if p == nil {
		return true, nil
	}
	return p.re.MatchString(s)
}
