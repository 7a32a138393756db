package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/registrytest"
)

// writeSet writes one credential set as registryd's -credential-sets reads it.
func writeSet(t *testing.T, dir, name, user, pass string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, name), 0o700); err != nil {
		t.Fatal(err)
	}
	for file, v := range map[string]string{"username": user, "password": pass} {
		if err := os.WriteFile(filepath.Join(dir, name, file), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCredentialSets(t *testing.T) {
	ctx := context.Background()
	outside := t.TempDir()
	writeSet(t, outside, "secret", "root", "leaked")
	dir := t.TempDir()
	writeSet(t, dir, "hub", "puller", "pw\n") // a newline as editors leave it
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "half"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "half", "username"), []byte("u"), 0o600); err != nil {
		t.Fatal(err)
	}
	resolve := credentialSets(dir)
	for _, c := range []struct {
		name, user, pass string
		ok               bool
	}{
		{"hub", "puller", "pw", true},
		{"missing", "", "", false},
		{"half", "", "", false}, // no password file
		{"escape", "", "", false},
		{"../" + filepath.Base(outside) + "/secret", "", "", false},
		{"hub/..", "", "", false},
		{"..", "", "", false},
		{".", "", "", false},
		{"", "", "", false},
		{filepath.Join(outside, "secret"), "", "", false},
	} {
		user, pass, err := resolve(ctx, c.name)
		if c.ok != (err == nil) || user != c.user || pass != c.pass {
			t.Errorf("%q: %q %q %v, want ok=%v %q %q", c.name, user, pass, err, c.ok, c.user, c.pass)
		}
	}
	// Read at each use: a rotated password is in force at once.
	writeSet(t, dir, "hub", "puller", "rotated")
	if _, pass, err := resolve(ctx, "hub"); err != nil || pass != "rotated" {
		t.Errorf("after rotation: %q %v", pass, err)
	}
}

// TestCacheRuleWithCredentialSet: a cache rule naming a credential set
// pulls from an upstream that wants Basic credentials, with the set's
// username and password from the -credential-sets folder; a wrong password
// there fails the pull as the upstream's refusal (502).
func TestCacheRuleWithCredentialSet(t *testing.T) {
	ctx := context.Background()
	up := registrytest.NewWith(t, registrytest.Options{HTTP: []httpapi.Option{
		httpapi.WithAuthorizer(httpapi.StaticCredentials("upstream", map[string]string{"puller": "pw"}, false)),
	}})
	desc := seedUpstream(t, up)

	sets := t.TempDir()
	writeSet(t, sets, "hub", "puller", "wrong")
	reg, err := registry.Open(t.TempDir(), registry.WithCacheCredentials(credentialSets(sets)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	if _, err := reg.SetCacheRule(ctx, registry.CacheRule{Name: "hello", TargetRepository: "hello",
		SourceRepository: up.Host + "/library/hello", PlainHTTP: true, CredentialSet: "hub"}); err != nil {
		t.Fatal(err)
	}
	h := routes(reg, httpapi.New(reg))
	get := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v2/hello/manifests/v1", nil))
		return w
	}
	if w := get(); w.Code != http.StatusBadGateway {
		t.Fatalf("with a wrong password: %d %s, want 502", w.Code, w.Body)
	}
	writeSet(t, sets, "hub", "puller", "pw")
	if w := get(); w.Code != http.StatusOK || w.Header().Get("Docker-Content-Digest") != desc.Digest.String() {
		t.Fatalf("with the set's credentials: %d %s", w.Code, w.Body)
	}
}
