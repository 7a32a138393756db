package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regkit/regkit/registry"
)

// fastHash keeps tests quick; the real cost is measured by the benchmarks.
var fastHash = WithHashParams(HashParams{Memory: 64, Time: 1, Threads: 1})

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func newService(t testing.TB, opts ...Option) (*Service, *clock) {
	t.Helper()
	reg, err := registry.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s, err := New(context.Background(), reg, append([]Option{fastHash, WithClock(c.now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func rules(t testing.TB, pairs ...string) []Rule {
	t.Helper()
	var out []Rule
	for i := 0; i < len(pairs); i += 2 {
		r, err := ParseRule(pairs[i], pairs[i+1])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func actions(as []Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ",")
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		repo, actions string
		err           error
		want          string
	}{
		{"samples/hello", "content/read", nil, "content/read"},
		{"samples/*", "content/write, content/read,content/read", nil, "content/read,content/write"},
		{"*", "metadata/write,deleted/restore", nil, "metadata/write,deleted/restore"},
		{"a/b/c/*", "content/delete", nil, "content/delete"},
		{"samples/*/x", "content/read", ErrInvalidRepository, ""},
		{"samples*", "content/read", ErrInvalidRepository, ""},
		{"samples/x*", "content/read", ErrInvalidRepository, ""},
		{"a/*/*", "content/read", ErrInvalidRepository, ""},
		{"*/*", "content/read", ErrInvalidRepository, ""},
		{"/*", "content/read", ErrInvalidRepository, ""},
		{"Samples", "content/read", ErrInvalidRepository, ""},
		{"", "content/read", ErrInvalidRepository, ""},
		{"ok", "", ErrInvalidAction, ""},
		{"ok", "content/read,", ErrInvalidAction, ""},
		{"ok", "pull", ErrInvalidAction, ""},
		{"ok", "registry/catalog", ErrInvalidAction, ""},
		{"ok", "Content/Read", ErrInvalidAction, ""},
	} {
		r, err := ParseRule(tc.repo, tc.actions)
		if tc.err != nil {
			if !errors.Is(err, tc.err) || !errors.Is(err, registry.ErrInvalid) {
				t.Errorf("ParseRule(%q, %q) = %v, want %v", tc.repo, tc.actions, err, tc.err)
			}
			continue
		}
		if err != nil || actions(r.Actions) != tc.want || r.Repository != tc.repo {
			t.Errorf("ParseRule(%q, %q) = %+v, %v; want %s", tc.repo, tc.actions, r, err, tc.want)
		}
	}
}

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{
		"MyToken": true, "my-token_2": true, "abcde": true, strings.Repeat("x", 50): true,
		"abcd": false, strings.Repeat("x", 51): false, "my token": false, "tök3n": false, "a.b.c.d": false, "": false,
	} {
		err := ValidateName(name)
		if ok != (err == nil) || (!ok && !errors.Is(err, ErrInvalidName)) {
			t.Errorf("ValidateName(%q) = %v", name, err)
		}
	}
}

// TestAllowedRules: the rules of a scope map matching a repository add up,
// whether or not it exists; a wildcard covers every depth below its prefix
// and not the prefix itself.
func TestAllowedRules(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	_, err := s.CreateScopeMap(ctx, ScopeMap{Name: "teams", Rules: rules(t,
		"sample/*", "content/read",
		"sample/teama/*", "content/write",
		"sample/teama/projectb", "content/delete",
		"other", "metadata/read",
		"other", "metadata/write", // a second rule for one repository adds up
	)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken(ctx, "ci-token", "teams", ""); err != nil {
		t.Fatal(err)
	}
	for repo, want := range map[string]string{
		"sample/teama/projectb":   "content/read,content/write,content/delete",
		"sample/teama/projectc":   "content/read,content/write",
		"sample/teama/projectb/x": "content/read,content/write",
		"sample/teama":            "content/read",
		"sample/x/y/z":            "content/read",
		"sample":                  "",
		"samples/x":               "",
		"other":                   "metadata/read,metadata/write",
		"other/x":                 "",
		"":                        "",
	} {
		got, err := s.Allowed(ctx, "token:ci-token", repo)
		if err != nil || actions(got) != want {
			t.Errorf("Allowed(%q) = %v, %v; want %s", repo, got, err, want)
		}
	}
	// A root wildcard adds to everything.
	if _, err := s.UpdateScopeMap(ctx, "teams", ScopeMapUpdate{Add: rules(t, "*", "metadata/read")}); err != nil {
		t.Fatal(err)
	}
	for repo, want := range map[string]string{
		"sample":                "metadata/read",
		"sample/teama/projectc": "content/read,content/write,metadata/read",
		"new/repo":              "metadata/read",
	} {
		if got, _ := s.Allowed(ctx, "token:ci-token", repo); actions(got) != want {
			t.Errorf("after *: Allowed(%q) = %v, want %s", repo, got, want)
		}
	}
}

func TestSystemScopeMaps(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	want := map[string]string{
		SystemAdmin:             "content/read,content/write,content/delete,metadata/read,metadata/write",
		SystemPull:              "content/read",
		SystemPullMetadataRead:  "content/read,metadata/read",
		SystemPush:              "content/read,content/write",
		SystemPushMetadataWrite: "content/read,content/write,metadata/read,metadata/write",
	}
	maps, err := s.ScopeMaps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(maps) != len(want) {
		t.Fatalf("ScopeMaps = %+v", maps)
	}
	for i, m := range maps {
		if !m.System || len(m.Rules) != 1 || m.Rules[0].Repository != "*" || actions(m.Rules[0].Actions) != want[m.Name] {
			t.Errorf("system map %d: %+v", i, m)
		}
		tok := fmt.Sprintf("tok-%d", i)
		if _, err := s.CreateToken(ctx, tok, strings.ToUpper(m.Name), StatusEnabled); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Allowed(ctx, "token:"+tok, "any/repo")
		if actions(got) != want[m.Name] {
			t.Errorf("token on %s holds %v", m.Name, got)
		}
		if got, _ := s.Allowed(ctx, "token:"+tok, ""); got != nil {
			t.Errorf("token on %s holds %v on the registry", m.Name, got)
		}
		if err := s.DeleteScopeMap(ctx, m.Name); !errors.Is(err, ErrSystemScopeMap) {
			t.Errorf("delete %s: %v", m.Name, err)
		}
		if _, err := s.UpdateScopeMap(ctx, m.Name, ScopeMapUpdate{Add: rules(t, "x", "content/read")}); !errors.Is(err, ErrSystemScopeMap) {
			t.Errorf("update %s: %v", m.Name, err)
		}
	}
	if _, err := s.CreateScopeMap(ctx, ScopeMap{Name: "_mine", Rules: rules(t, "x", "content/read")}); !errors.Is(err, ErrSystemScopeMap) {
		t.Errorf("create _mine: %v", err)
	}
	if m, err := s.ScopeMap(ctx, SystemPull); err != nil || !m.System {
		t.Errorf("ScopeMap(%s) = %+v, %v", SystemPull, m, err)
	}
}

func TestScopeMapCRUD(t *testing.T) {
	ctx := context.Background()
	s, c := newService(t)
	m, err := s.CreateScopeMap(ctx, ScopeMap{Name: "MyScopeMap", Description: "Sample", Rules: rules(t, "b", "content/read", "a/*", "content/write,content/read")})
	if err != nil {
		t.Fatal(err)
	}
	if m.Created != c.now() || len(m.Rules) != 2 || m.Rules[0].Repository != "a/*" {
		t.Errorf("created %+v", m)
	}
	if _, err := s.CreateScopeMap(ctx, ScopeMap{Name: "myscopemap", Rules: rules(t, "x", "content/read")}); !errors.Is(err, ErrScopeMapExists) || !errors.Is(err, registry.ErrAlreadyExists) {
		t.Errorf("duplicate: %v", err)
	}
	for _, bad := range []ScopeMap{
		{Name: "abc", Rules: rules(t, "x", "content/read")},
		{Name: "valid-name", Rules: []Rule{{Repository: "x"}}},
		{Name: "valid-name", Rules: []Rule{{Repository: "x", Actions: []Action{"nope"}}}},
		{Name: "valid-name", Description: strings.Repeat("d", MaxDescription+1)},
	} {
		if _, err := s.CreateScopeMap(ctx, bad); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("create %+v: %v", bad, err)
		}
	}
	desc := "changed"
	m, err = s.UpdateScopeMap(ctx, "MYSCOPEMAP", ScopeMapUpdate{
		Description: &desc,
		Add:         rules(t, "c", "metadata/read", "b", "content/write"),
		Remove:      []Rule{{Repository: "a/*", Actions: []Action{ContentWrite}}, {Repository: "b", Actions: []Action{ContentRead}}, {Repository: "c"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, r := range m.Rules {
		got = append(got, r.Repository+"="+actions(r.Actions))
	}
	if m.Description != "changed" || strings.Join(got, " ") != "a/*=content/read b=content/write" {
		t.Errorf("updated: %q %v", m.Description, got)
	}
	if _, err := s.UpdateScopeMap(ctx, "missing-map", ScopeMapUpdate{}); !errors.Is(err, ErrScopeMapNotFound) {
		t.Errorf("update missing: %v", err)
	}
	if _, err := s.CreateToken(ctx, "user1", "myscopemap", ""); err != nil {
		t.Fatal(err)
	}
	if tk, _ := s.Token(ctx, "USER1"); tk == nil || tk.ScopeMap != "MyScopeMap" || tk.Status != StatusEnabled {
		t.Errorf("token %+v", tk)
	}
	if err := s.DeleteScopeMap(ctx, "MyScopeMap"); !errors.Is(err, ErrScopeMapInUse) || !strings.Contains(err.Error(), "user1") {
		t.Errorf("delete in use: %v", err)
	}
	other := SystemPull
	if _, err := s.UpdateToken(ctx, "user1", TokenUpdate{ScopeMap: &other}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteScopeMap(ctx, "MyScopeMap"); err != nil {
		t.Errorf("delete unused: %v", err)
	}
	if _, err := s.ScopeMap(ctx, "MyScopeMap"); !errors.Is(err, ErrScopeMapNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := s.DeleteScopeMap(ctx, "MyScopeMap"); !errors.Is(err, ErrScopeMapNotFound) {
		t.Errorf("delete again: %v", err)
	}
}

func TestTokenCRUD(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	if _, err := s.CreateToken(ctx, "tok-a", "no-such-map", ""); !errors.Is(err, ErrScopeMapNotFound) {
		t.Errorf("unknown scope map: %v", err)
	}
	if _, err := s.CreateToken(ctx, "tok-a", SystemPull, "paused"); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("bad status: %v", err)
	}
	if _, err := s.CreateToken(ctx, "tok-b", SystemPull, StatusDisabled); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken(ctx, "tok-a", SystemPush, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken(ctx, "TOK-A", SystemPush, ""); !errors.Is(err, ErrTokenExists) {
		t.Errorf("duplicate: %v", err)
	}
	list, _ := s.Tokens(ctx)
	if len(list) != 2 || list[0].Name != "tok-a" || list[1].Status != StatusDisabled {
		t.Errorf("Tokens = %+v", list)
	}
	if got, _ := s.Allowed(ctx, "token:tok-b", "x"); got != nil {
		t.Errorf("disabled token holds %v", got)
	}
	if err := s.DeleteToken(ctx, "tok-b"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteToken(ctx, "tok-b"); !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("delete again: %v", err)
	}
	if _, err := s.Token(ctx, "tok-b"); !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("deleted: %v", err)
	}
	if _, err := s.UpdateToken(ctx, "tok-b", TokenUpdate{}); !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("update deleted: %v", err)
	}
	for _, subject := range []string{"token:tok-b", "token:nobody", "nobody", "token:"} {
		if got, err := s.Allowed(ctx, subject, "x"); got != nil || err != nil {
			t.Errorf("Allowed(%q) = %v, %v", subject, got, err)
		}
	}
}

// TestPersistence: everything survives a reopen of the embedded backend,
// and a new Service authenticates with the passwords generated before.
func TestPersistence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	reg, err := registry.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(ctx, reg, fastHash)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateScopeMap(ctx, ScopeMap{Name: "persist", Description: "d", Rules: rules(t, "a/*", "content/read")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken(ctx, "persisted", "persist", StatusEnabled); err != nil {
		t.Fatal(err)
	}
	pw, err := s.GeneratePassword(ctx, "persisted", Password2, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetAdmin(ctx, "admin", "adminpw"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAnonymousPull(ctx, true); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Tokens(ctx)
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken(ctx, "after-close", SystemPull, ""); !errors.Is(err, registry.ErrUnavailable) {
		t.Errorf("write after close: %v", err)
	}
	reg, err = registry.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	s, err = New(ctx, reg, fastHash)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := s.Tokens(ctx)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("tokens before %+v, after %+v", before, after)
	}
	if sub, err := s.Authenticate(ctx, "persisted", pw); err != nil || sub != "token:persisted" {
		t.Errorf("token after reopen: %q, %v", sub, err)
	}
	if _, err := s.Authenticate(ctx, "admin", "adminpw"); err != nil {
		t.Errorf("admin after reopen: %v", err)
	}
	if got, _ := s.Allowed(ctx, "token:persisted", "a/b"); actions(got) != "content/read" {
		t.Errorf("rights after reopen: %v", got)
	}
	if on, _ := s.AnonymousPull(ctx); !on {
		t.Error("anonymous pull lost")
	}
	if m, err := s.ScopeMap(ctx, "persist"); err != nil || m.Description != "d" {
		t.Errorf("scope map after reopen: %+v, %v", m, err)
	}
}

// TestConcurrent runs Authenticate and Allowed while scope maps and tokens
// change (go test -race).
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	if _, err := s.CreateScopeMap(ctx, ScopeMap{Name: "shared", Rules: rules(t, "a/*", "content/read")}); err != nil {
		t.Fatal(err)
	}
	const n = 4
	pws := make([]string, n)
	for i := range n {
		name := fmt.Sprintf("conc-%d", i)
		if _, err := s.CreateToken(ctx, name, "shared", ""); err != nil {
			t.Fatal(err)
		}
		pws[i], _ = s.GeneratePassword(ctx, name, Password1, time.Time{})
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("conc-%d", i)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if sub, err := s.Authenticate(ctx, name, pws[i]); err != nil || sub != "token:"+name {
					t.Errorf("Authenticate: %q, %v", sub, err)
					return
				}
				got, err := s.Allowed(ctx, "token:"+name, "a/x")
				if err != nil || !slices.Contains(got, ContentRead) {
					t.Errorf("Allowed: %v, %v", got, err)
					return
				}
			}
		}()
	}
	for i := range 20 {
		add := rules(t, fmt.Sprintf("r%d", i), "content/write")
		if _, err := s.UpdateScopeMap(ctx, "shared", ScopeMapUpdate{Add: add}); err != nil {
			t.Error(err)
		}
		if _, err := s.CreateToken(ctx, fmt.Sprintf("extra-%d", i), SystemPull, ""); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	m, _ := s.ScopeMap(ctx, "shared")
	if len(m.Rules) != 21 {
		t.Errorf("%d rules", len(m.Rules))
	}
}

func TestNewOptions(t *testing.T) {
	reg, err := registry.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	ctx := context.Background()
	for _, opt := range []Option{WithHashParams(HashParams{}), WithCacheSize(-1), WithHashConcurrency(0)} {
		if _, err := New(ctx, reg, opt); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("bad option: %v", err)
		}
	}
	if _, err := New(ctx, nil); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("nil registry: %v", err)
	}
}
