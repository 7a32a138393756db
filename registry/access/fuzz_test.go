package access

import (
	"errors"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry"
)

// FuzzParseRule: any repository pattern and action list parse or fail with
// ErrInvalid, never panic; a parsed rule validates again, its actions are
// valid and sorted, and its matcher grants exactly them on what it names.
func FuzzParseRule(f *testing.F) {
	for _, seed := range [][2]string{
		{"samples/hello", "content/read"}, {"samples/*", "content/read,content/write"}, {"*", "metadata/read"},
		{"a/*/b", "content/read"}, {"a*", "x"}, {"", ""}, {"a//b", "content/read,"}, {"a/b/*", " content/delete , deleted/read"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, repo, list string) {
		r, err := ParseRule(repo, list)
		if err != nil {
			if !errors.Is(err, registry.ErrInvalid) || !(errors.Is(err, ErrInvalidRepository) || errors.Is(err, ErrInvalidAction)) {
				t.Fatalf("ParseRule(%q, %q): untyped error %v", repo, list, err)
			}
			return
		}
		if err := ValidateRepository(r.Repository); err != nil {
			t.Fatalf("parsed %q does not validate: %v", r.Repository, err)
		}
		if len(r.Actions) == 0 {
			t.Fatalf("ParseRule(%q, %q): no actions", repo, list)
		}
		set := setOf(r.Actions)
		if got := set.list(); len(got) != len(r.Actions) {
			t.Fatalf("actions %v not distinct", r.Actions)
		}
		m := newMatcher([]Rule{r})
		name := strings.TrimSuffix(r.Repository, "*")
		switch {
		case r.Repository == "*":
			name = "any/repo"
		case strings.HasSuffix(r.Repository, "/*"):
			if m.match(strings.TrimSuffix(name, "/")) != 0 {
				t.Fatalf("%q grants on its own prefix", r.Repository)
			}
			name += "x"
		}
		if got := m.match(name); got != set {
			t.Fatalf("%q grants %v on %q, want %v", r.Repository, got.list(), name, r.Actions)
		}
	})
}

// FuzzValidateName: names are accepted exactly when ACR's rules say.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"MyToken", "abcd", "a_b-c", "токен1", strings.Repeat("a", 51)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateName(name)
		ok := len(name) >= 5 && len(name) <= 50 && strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == ""
		if ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidName)) {
			t.Fatalf("ValidateName(%q) = %v", name, err)
		}
	})
}

// FuzzParsePHC: stored hashes parse or are refused, never panic, and a
// parsed one has parameters verification can afford.
func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$$")
	f.Add("")
	f.Fuzz(func(t *testing.T, phc string) {
		p, salt, key, ok := parsePHC(phc)
		if ok && (p.Time < 1 || p.Time > 100 || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) || len(salt) < 8 || len(key) < 16) {
			t.Fatalf("parsePHC(%q) accepted %+v", phc, p)
		}
	})
}
