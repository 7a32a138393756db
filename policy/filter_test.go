package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in         string
		repo, tag  string
		bad        bool
		badMessage string
	}{
		{in: "hello-world:.*", repo: "hello-world", tag: ".*"},
		{in: ".*:^v1", repo: ".*", tag: "^v1"},
		{in: "team/.*:^(?!latest$).*", repo: "team/.*", tag: "^(?!latest$).*"},
		{in: "(?:a|b)/app:v.*", repo: "(?:a|b)/app", tag: "v.*"},
		{in: "app:(?i:RC)\\d+", repo: "app", tag: "(?i:RC)\\d+"},
		{in: "app:[[:alpha:]]+", repo: "app", tag: "[[:alpha:]]+"},
		{in: "app:a\\:b", repo: "app", tag: "a\\:b"},
		{in: "app:[]:]x", repo: "app", tag: "[]:]x"},
		{in: "app", bad: true, badMessage: "found 0"},
		{in: "a:b:c", bad: true, badMessage: "found 2"},
		{in: ":tag", bad: true, badMessage: "empty repository"},
		{in: "repo:", bad: true, badMessage: "empty tag"},
		{in: "repo:(", bad: true},
		{in: "[:tag", bad: true},
		{in: "0(?#:0", bad: true},   // a comment that would swallow the anchoring
		{in: "a)|(b:x", bad: true},  // unbalanced alone, balanced once wrapped
		{in: "(?x)a#:x", bad: true}, // an extended-mode comment, likewise
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := ParseFilter(tt.in)
			if tt.bad {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.badMessage) {
					t.Fatalf("ParseFilter(%q) = %+v, %v; want an ErrInvalid containing %q", tt.in, f, err, tt.badMessage)
				}
				return
			}
			if err != nil || f.Repository != tt.repo || f.Tag != tt.tag {
				t.Fatalf("ParseFilter(%q) = %+v, %v; want %q : %q", tt.in, f, err, tt.repo, tt.tag)
			}
			if f.String() != tt.in {
				t.Fatalf("String() = %q, want %q", f.String(), tt.in)
			}
		})
	}
}

// TestFilterMatching checks acr purge's matching rules: the repository
// pattern is anchored, the tag pattern is not, lookarounds work.
func TestFilterMatching(t *testing.T) {
	tests := []struct {
		filter, repo, tag string
		want              bool
	}{
		{"app:.*", "app", "v1", true},
		{"app:.*", "app2", "v1", false},   // repository anchored at the end
		{"app:.*", "my/app", "v1", false}, // and at the start
		{"a|b:.*", "b", "v1", true},       // anchoring wraps the whole alternation
		{"a|b:.*", "ab", "v1", false},
		{"app:v1", "app", "xv1y", true}, // tag: substring
		{"app:^v1$", "app", "xv1y", false},
		{"app:^(?!latest$).*", "app", "latest", false},
		{"app:^(?!latest$).*", "app", "latest2", true},
		{"app:^(?!latest$).*", "app", "v1", true},
		{"app:(?<=rc)\\d", "app", "rc1", true},
		{"app:(?<=rc)\\d", "app", "v1", false},
		{"team/.*:.*", "team/a/b", "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.filter+" "+tt.repo+":"+tt.tag, func(t *testing.T) {
			f, err := ParseFilter(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			repo, err := compilePattern(f.Repository, true, 0)
			if err != nil {
				t.Fatal(err)
			}
			tag, err := compilePattern(f.Tag, false, 0)
			if err != nil {
				t.Fatal(err)
			}
			r, err1 := repo.match(tt.repo)
			g, err2 := tag.match(tt.tag)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if got := r && g; got != tt.want {
				t.Fatalf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"app:.*", "(?:a|b):v", "a:b:c", "[:]:x", "a\\:b:c", "(?i-s:x):y", "((?:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseFilter(%q): %v is not ErrInvalid", s, err)
			}
			return
		}
		if flt.String() != s || flt.Repository == "" || flt.Tag == "" {
			t.Fatalf("ParseFilter(%q) = %+v", s, flt)
		}
		if _, err := Compile(Policy{Purge: &Purge{Filters: []string{s}, Ago: "1d"}}, CompileOptions{}); err != nil {
			t.Fatalf("ParseFilter accepted %q but Compile refused it: %v", s, err)
		}
	})
}
