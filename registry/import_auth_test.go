package registry_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
)

// authServer serves reg behind Basic auth, or behind the Bearer token flow
// (a token endpoint at /token that takes the Basic credentials).
func authServer(t *testing.T, reg *registry.Registry, bearer bool) string {
	t.Helper()
	const user, pass, token = "alice", "s3cret", "token-for-alice"
	api := httpapi.New(reg)
	var hs *httptest.Server
	hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				http.Error(w, "bad credentials", http.StatusUnauthorized)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"token": token})
			return
		}
		if bearer {
			if r.Header.Get("Authorization") != "Bearer "+token {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+hs.URL+`/token",service="test"`)
				http.Error(w, "token required", http.StatusUnauthorized)
				return
			}
		} else if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "login required", http.StatusUnauthorized)
			return
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return strings.TrimPrefix(hs.URL, "http://")
}

// TestImportAuth imports through Basic and Bearer auth, with credentials
// given directly or read from a Docker config file, and anonymously
// (refused with a typed error).
func TestImportAuth(t *testing.T) {
	ctx := context.Background()
	srcReg := newMemReg(t)
	pushed := pushImage(t, repoOf(t, srcReg, "lib/app").Target(), "linux/amd64", []byte("layer"))
	tagIn(t, repoOf(t, srcReg, "lib/app").Target(), pushed, "v1")
	loopbackRealm := func(_ *remote.Repository, c *auth.Client) { c.BlockedRealmPrefixes = []netip.Prefix{} }
	dockerConfig := func(host string) string {
		p := filepath.Join(t.TempDir(), "config.json")
		cfg := map[string]any{"auths": map[string]any{host: map[string]string{
			"auth": base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))}}}
		b, _ := json.Marshal(cfg)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, bearer := range []bool{false, true} {
		host := authServer(t, srcReg, bearer)
		name := map[bool]string{false: "basic", true: "bearer"}[bearer]
		cases := map[string]registry.RemoteOptions{
			"password":      {Username: "alice", Password: "s3cret"},
			"docker config": {DockerConfig: dockerConfig(host)},
			"anonymous":     {},
			"wrong":         {Username: "alice", Password: "nope"},
		}
		for cname, opts := range cases {
			t.Run(name+"/"+cname, func(t *testing.T) {
				opts.PlainHTTP = true
				opts.HTTPClient = &http.Client{}
				opts.Configure = loopbackRealm
				src, ref, err := registry.NewRemote(host+"/lib/app:v1", opts)
				if err != nil {
					t.Fatal(err)
				}
				res, err := newMemReg(t).Import(ctx, src, ref, "app", registry.ImportOptions{})
				if cname == "anonymous" || cname == "wrong" {
					if !errors.Is(err, errdef.ErrUnauthorized) {
						t.Fatalf("import without valid credentials: %v", err)
					}
					return
				}
				if err != nil || res.Descriptor.Digest != pushed.Digest {
					t.Fatalf("import: %+v, %v", res, err)
				}
			})
		}
	}
}
