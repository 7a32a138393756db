package access

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry"
)

func TestPasswords(t *testing.T) {
	ctx := context.Background()
	s, c := newService(t)
	if _, err := s.CreateToken(ctx, "MyToken", SystemPull, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GeneratePassword(ctx, "MyToken", "password3", time.Time{}); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("bad slot: %v", err)
	}
	if _, err := s.GeneratePassword(ctx, "MyToken", Password1, c.now()); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("expiry now: %v", err)
	}
	if _, err := s.GeneratePassword(ctx, "nobody", Password1, time.Time{}); !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("no token: %v", err)
	}
	p1, err := s.GeneratePassword(ctx, "MyToken", Password1, c.now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.GeneratePassword(ctx, "mytoken", Password2, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p1) != 43 || p1 == p2 {
		t.Errorf("passwords %q %q", p1, p2)
	}
	tk, _ := s.Token(ctx, "MyToken")
	if len(tk.Passwords) != 2 || tk.Passwords[0].Expiry != c.now().Add(time.Hour) || !tk.Passwords[1].Expiry.IsZero() {
		t.Errorf("token %+v", tk)
	}
	auth := func(user, pw string) error {
		t.Helper()
		sub, err := s.Authenticate(ctx, user, pw)
		if err == nil && sub != "token:MyToken" {
			t.Errorf("subject %q", sub)
		}
		if err != nil && (!errors.Is(err, ErrBadCredentials) || !errors.Is(err, errdef.ErrUnauthorized)) {
			t.Errorf("error %v is not unauthorized", err)
		}
		return err
	}
	for _, tc := range []struct {
		user, pw string
		ok       bool
	}{
		{"MyToken", p1, true}, {"mytoken", p2, true}, {"MyToken", p1 + "x", false}, {"MyToken", "", false},
		{"", p1, false}, {"OtherToken", p1, false}, {"MyToken", strings.Repeat("x", MaxPasswordLen+1), false},
	} {
		if err := auth(tc.user, tc.pw); (err == nil) != tc.ok {
			t.Errorf("Authenticate(%q, %q) = %v", tc.user, tc.pw, err)
		}
	}
	// password1 expires after an hour, cached or not; password2 goes on.
	c.add(time.Hour)
	if err := auth("MyToken", p1); err == nil {
		t.Error("expired password1 accepted")
	}
	if err := auth("MyToken", p2); err != nil {
		t.Error(err)
	}
	// Regenerating replaces; deleting removes.
	p1b, err := s.GeneratePassword(ctx, "MyToken", Password1, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := auth("MyToken", p1b); err != nil {
		t.Error(err)
	}
	if err := s.DeletePassword(ctx, "MyToken", Password2); err != nil {
		t.Fatal(err)
	}
	if err := auth("MyToken", p2); err == nil {
		t.Error("deleted password2 accepted")
	}
	if err := s.DeletePassword(ctx, "MyToken", Password2); err != nil {
		t.Errorf("delete empty slot: %v", err)
	}
	if tk, _ := s.Token(ctx, "MyToken"); len(tk.Passwords) != 1 || tk.Passwords[0].Slot != Password1 {
		t.Errorf("token %+v", tk)
	}
}

// TestCache: a verified password is answered from the cache without
// hashing (the hash slots are all taken, so hashing would block), and
// every change to the token, its password or the admin user takes effect
// on the next call.
func TestCache(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, WithHashConcurrency(1))
	if _, err := s.CreateToken(ctx, "cached", SystemPull, ""); err != nil {
		t.Fatal(err)
	}
	pw, _ := s.GeneratePassword(ctx, "cached", Password1, time.Time{})
	if err := s.SetAdmin(ctx, "admin", "admin-secret"); err != nil {
		t.Fatal(err)
	}
	for _, cred := range [][2]string{{"cached", pw}, {"admin", "admin-secret"}} {
		if _, err := s.Authenticate(ctx, cred[0], cred[1]); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.cache.len(); n != 2 {
		t.Fatalf("cache holds %d", n)
	}
	// cachedOnly authenticates while hashing is impossible: it fails with
	// the context's error when the cache does not answer.
	cachedOnly := func(user, pass string) (string, error) {
		s.sem <- struct{}{}
		defer s.release()
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		return s.Authenticate(ctx, user, pass)
	}
	if sub, err := cachedOnly("cached", pw); err != nil || sub != "token:cached" {
		t.Fatalf("cached: %q, %v", sub, err)
	}
	if sub, err := cachedOnly("ADMIN", "admin-secret"); err != nil || sub != SubjectAdmin {
		t.Fatalf("cached admin: %q, %v", sub, err)
	}
	disabled := StatusDisabled
	if _, err := s.UpdateToken(ctx, "cached", TokenUpdate{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "cached", pw); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("disabled: %v", err)
	}
	enabled := StatusEnabled
	if _, err := s.UpdateToken(ctx, "cached", TokenUpdate{Status: &enabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "cached", pw); err != nil {
		t.Errorf("enabled again: %v", err)
	}
	// A new password in the slot: the old one fails at once.
	pw2, _ := s.GeneratePassword(ctx, "cached", Password1, time.Time{})
	if _, err := cachedOnly("cached", pw); err == nil {
		t.Error("replaced password answered from the cache")
	}
	if _, err := s.Authenticate(ctx, "cached", pw); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("replaced password: %v", err)
	}
	// Moving the token to another scope map changes Allowed at once.
	if got, _ := s.Allowed(ctx, "token:cached", "r"); actions(got) != "content/read" {
		t.Errorf("pull token holds %v", got)
	}
	push := SystemPush
	if _, err := s.UpdateToken(ctx, "cached", TokenUpdate{ScopeMap: &push}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Allowed(ctx, "token:cached", "r"); actions(got) != "content/read,content/write" {
		t.Errorf("push token holds %v", got)
	}
	if _, err := s.Authenticate(ctx, "cached", pw2); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteToken(ctx, "cached"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "cached", pw2); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("deleted token: %v", err)
	}
	// A token re-created under the same name does not inherit the cache.
	if _, err := s.CreateToken(ctx, "cached", SystemPull, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := cachedOnly("cached", pw2); err == nil {
		t.Error("re-created token answered from the cache")
	}
	// A new admin password: the old one fails at once.
	if err := s.SetAdmin(ctx, "admin", "new-secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "admin", "admin-secret"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("old admin password: %v", err)
	}
	if err := s.DisableAdmin(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "admin", "new-secret"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("disabled admin: %v", err)
	}
}

func TestCacheBound(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, WithCacheSize(3))
	if _, err := s.CreateToken(ctx, "bounded", SystemPull, ""); err != nil {
		t.Fatal(err)
	}
	pw1, _ := s.GeneratePassword(ctx, "bounded", Password1, time.Time{})
	pw2, _ := s.GeneratePassword(ctx, "bounded", Password2, time.Time{})
	for range 3 {
		for _, pw := range []string{pw1, pw2} {
			if _, err := s.Authenticate(ctx, "bounded", pw); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.SetAdmin(ctx, "admin", "pw"); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"pw", "pw"} {
		if _, err := s.Authenticate(ctx, "admin", pw); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = s.Authenticate(ctx, "admin", "wrong") // failures are not cached
	if _, err := s.CreateToken(ctx, "other", SystemPull, ""); err != nil {
		t.Fatal(err)
	}
	pw3, _ := s.GeneratePassword(ctx, "other", Password1, time.Time{})
	if _, err := s.Authenticate(ctx, "other", pw3); err != nil {
		t.Fatal(err)
	}
	if n := s.cache.len(); n != 3 {
		t.Errorf("cache holds %d, want its bound 3", n)
	}
	s0, _ := newService(t, WithCacheSize(0))
	if err := s0.SetAdmin(ctx, "admin", "pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := s0.Authenticate(ctx, "admin", "pw"); err != nil || s0.cache.len() != 0 {
		t.Errorf("no cache: %v, %d entries", err, s0.cache.len())
	}
}

func TestAdminAndAnonymous(t *testing.T) {
	ctx := context.Background()
	s, c := newService(t)
	if a, _ := s.Admin(ctx); a.Enabled {
		t.Errorf("admin set by default: %+v", a)
	}
	for _, subject := range []string{"", SubjectAdmin} {
		for _, repo := range []string{"", "x"} {
			if got, _ := s.Allowed(ctx, subject, repo); got != nil {
				t.Errorf("default: Allowed(%q, %q) = %v", subject, repo, got)
			}
		}
	}
	if err := s.SetAdmin(ctx, "ab", "pw"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("short admin name: %v", err)
	}
	if err := s.SetAdmin(ctx, "myregistry", ""); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("empty admin password: %v", err)
	}
	if _, err := s.CreateToken(ctx, "taken", SystemPull, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAdmin(ctx, "TAKEN", "pw"); !errors.Is(err, ErrTokenExists) {
		t.Errorf("admin named like a token: %v", err)
	}
	if err := s.SetAdmin(ctx, "myregistry", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken(ctx, "MyRegistry", SystemPull, ""); !errors.Is(err, ErrTokenExists) {
		t.Errorf("token named like the admin: %v", err)
	}
	if a, _ := s.Admin(ctx); !a.Enabled || a.Username != "myregistry" || a.Updated != c.now() {
		t.Errorf("admin %+v", a)
	}
	if sub, err := s.Authenticate(ctx, "myregistry", "s3cret"); err != nil || sub != SubjectAdmin {
		t.Errorf("admin: %q, %v", sub, err)
	}
	if got, _ := s.Allowed(ctx, SubjectAdmin, ""); actions(got) != "registry/catalog" {
		t.Errorf("admin on the registry: %v", got)
	}
	if got, _ := s.Allowed(ctx, SubjectAdmin, "x"); len(got) != len(Actions()) {
		t.Errorf("admin on x: %v", got)
	}
	if on, _ := s.AnonymousPull(ctx); on {
		t.Error("anonymous pull on by default")
	}
	if err := s.SetAnonymousPull(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Allowed(ctx, "", "any/repo"); actions(got) != "content/read,metadata/read" {
		t.Errorf("anonymous: %v", got)
	}
	if got, _ := s.Allowed(ctx, "", ""); len(got) != 1 || got[0] != ActionCatalog {
		t.Errorf("anonymous catalog: %v", got)
	}
	// It does not add to a token's rights.
	if _, err := s.CreateScopeMap(ctx, ScopeMap{Name: "only-a", Rules: rules(t, "a", "metadata/read")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken(ctx, "meta-only", "only-a", ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Allowed(ctx, "token:meta-only", "a"); actions(got) != "metadata/read" {
		t.Errorf("token with anonymous pull on: %v", got)
	}
	if err := s.SetAnonymousPull(ctx, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Allowed(ctx, "", "any/repo"); got != nil {
		t.Errorf("anonymous off: %v", got)
	}
}

func TestParsePHC(t *testing.T) {
	s, _ := newService(t)
	h, err := s.hashPassword(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q", h)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1000,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
		strings.Replace(h, "$v=19$", "$v=16$", 1)} {
		if ok, err := s.verifyPassword(context.Background(), bad, "pw"); ok || err != nil {
			t.Errorf("verify against %q: %v, %v", bad, ok, err)
		}
	}
	if ok, _ := s.verifyPassword(context.Background(), h, "pw"); !ok {
		t.Error("own hash does not verify")
	}
}
