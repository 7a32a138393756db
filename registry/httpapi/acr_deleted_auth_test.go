package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/token"
)

func TestACRDeletedChallenges(t *testing.T) {
	const realm, service = "https://registry.example/oauth2/token", "registry.example"
	var (
		mu   sync.Mutex
		seen []httpapi.Access
	)
	verify := func(_ context.Context, _ string, a httpapi.Access) error {
		mu.Lock()
		seen = append(seen, a)
		mu.Unlock()
		return nil
	}
	f := newSoftFixture(t, httpapi.WithAuthorizer(httpapi.BearerChallenge(realm, service, verify)))
	d := f.platformImage(t, "team/app", "v1", "1")
	read := []httpapi.Action{httpapi.ActionDeletedRead}
	restore := []httpapi.Action{httpapi.ActionDeletedRestore}
	for _, c := range []struct {
		method, target, scope, repo string
		actions                     []httpapi.Action
	}{
		{"GET", "/acr/v1/_deleted/_catalog", "registry:catalog:*", "", read},
		{"GET", "/acr/v1/_deleted/team/app/_tags", "repository:team/app:deleted_read", "team/app", read},
		{"GET", "/acr/v1/_deleted/team%2Fapp/_manifests", "repository:team/app:deleted_read", "team/app", read},
		{"POST", "/acr/v1/_deleted/team/app/_manifests/" + d.String(), "repository:team/app:deleted_restore", "team/app", restore},
		// A repository that does not exist is challenged the same way.
		{"POST", "/acr/v1/_deleted/ghost/_manifests/" + d.String(), "repository:ghost:deleted_restore", "ghost", restore},
	} {
		t.Run(c.method+" "+c.target, func(t *testing.T) {
			code, hdr, v := acrCall(t, f.h, c.method, c.target, "")
			checkACRError(t, code, hdr, v, http.StatusUnauthorized, httpapi.CodeUnauthorized)
			want := `Bearer realm="` + realm + `",service="` + service + `",scope="` + c.scope + `"`
			if got := hdr.Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate = %s\nwant %s", got, want)
			}
			mu.Lock()
			seen = nil
			mu.Unlock()
			call(t, f.h, c.method, c.target, nil, "Authorization", "Bearer t")
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 1 || seen[0].Repository != c.repo || !slices.Equal(seen[0].Actions, c.actions) {
				t.Errorf("access = %+v, want %q %v", seen, c.repo, c.actions)
			}
		})
	}
}

func TestAccessScopeDeleted(t *testing.T) {
	for _, c := range []struct {
		a    httpapi.Access
		want string
	}{
		{httpapi.Access{Repository: "a/b", Actions: []httpapi.Action{httpapi.ActionDeletedRead}}, "repository:a/b:deleted_read"},
		{httpapi.Access{Repository: "a", Actions: []httpapi.Action{httpapi.ActionDeletedRead, httpapi.ActionDeletedRestore}}, "repository:a:deleted_read,deleted_restore"},
		{httpapi.Access{Actions: []httpapi.Action{httpapi.ActionDeletedRead}}, "registry:catalog:*"},
	} {
		if got := c.a.Scope(); got != c.want {
			t.Errorf("%+v.Scope() = %q, want %q", c.a, got, c.want)
		}
	}
}

// TestACRDeletedTokens runs the routes behind the token service: the
// deleted catalog needs the catalog right, the repository routes
// deleted/read and deleted/restore.
func TestACRDeletedTokens(t *testing.T) {
	authority := token.Static{Users: map[string]token.StaticUser{
		"admin": {Password: "admin-pw", Rights: map[string][]string{
			"*": {token.RightContentRead, token.RightDeletedRead, token.RightDeletedRestore},
			"":  {token.RightCatalog},
		}},
		"reader": {Password: "reader-pw", Rights: map[string][]string{
			"team/*": {token.RightContentRead, token.RightMetadataRead, token.RightDeletedRead},
		}},
	}}
	f := newACRFixture(t)
	svc, err := token.New(token.WithAuthority(authority), token.WithService("example.com"), token.WithClock(f.clock))
	if err != nil {
		t.Fatal(err)
	}
	f.fixture.h = httpapi.New(f.reg, httpapi.WithAuthorizer(svc.Authorizer()), httpapi.WithTokenHandler(svc.Handler()))
	if _, err := f.reg.SetSoftDelete(context.Background(), true, 7); err != nil {
		t.Fatal(err)
	}
	f.platformImage(t, "team/app", "keep", "k")
	d := f.platformImage(t, "team/app", "v1", "1")
	if err := f.repo(t, "team/app").Manifests().Delete(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	f.platformImage(t, "gone", "v1", "g")
	if err := f.reg.DeleteRepository(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}
	bearer := func(user, pass string, scopes ...string) string {
		target := "/oauth2/token?service=example.com"
		for _, s := range scopes {
			target += "&scope=" + s
		}
		req := httptest.NewRequest("GET", target, nil)
		req.SetBasicAuth(user, pass)
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, req)
		var body struct{ Token string }
		if err := json.Unmarshal(w.Body.Bytes(), &body); w.Code != http.StatusOK || err != nil || body.Token == "" {
			t.Fatalf("token for %s: %d %s", user, w.Code, w.Body)
		}
		return "Bearer " + body.Token
	}
	basic := func(user, pass string) string {
		req := httptest.NewRequest("GET", "/", nil)
		req.SetBasicAuth(user, pass)
		return req.Header.Get("Authorization")
	}
	restore := "/acr/v1/_deleted/team/app/_manifests/" + d.String()
	for _, c := range []struct {
		name, method, target, auth string
		status                     int
		scope                      string // of a challenge
	}{
		{"admin lists the deleted catalog", "GET", "/acr/v1/_deleted/_catalog", basic("admin", "admin-pw"), http.StatusOK, ""},
		{"admin token with the catalog scope", "GET", "/acr/v1/_deleted/_catalog", bearer("admin", "admin-pw", "registry:catalog:*"), http.StatusOK, ""},
		{"reader without the catalog right", "GET", "/acr/v1/_deleted/_catalog", basic("reader", "reader-pw"), http.StatusUnauthorized, "registry:catalog:*"},
		{"token without the catalog scope", "GET", "/acr/v1/_deleted/_catalog", bearer("admin", "admin-pw", "repository:team/app:deleted_read"), http.StatusUnauthorized, "registry:catalog:*"},
		{"anonymous", "GET", "/acr/v1/_deleted/_catalog", "", http.StatusUnauthorized, "registry:catalog:*"},
		{"reader lists deleted tags", "GET", "/acr/v1/_deleted/team/app/_tags", basic("reader", "reader-pw"), http.StatusOK, ""},
		{"reader token lists deleted manifests", "GET", "/acr/v1/_deleted/team%2Fapp/_manifests", bearer("reader", "reader-pw", "repository:team/app:deleted_read"), http.StatusOK, ""},
		{"pull token does not list", "GET", "/acr/v1/_deleted/team/app/_manifests", bearer("reader", "reader-pw", "repository:team/app:pull"), http.StatusUnauthorized, "repository:team/app:deleted_read"},
		{"reader outside its repositories", "GET", "/acr/v1/_deleted/gone/_manifests", basic("reader", "reader-pw"), http.StatusUnauthorized, "repository:gone:deleted_read"},
		{"reader may not restore", "POST", restore, basic("reader", "reader-pw"), http.StatusUnauthorized, "repository:team/app:deleted_restore"},
		{"read token may not restore", "POST", restore, bearer("admin", "admin-pw", "repository:team/app:deleted_read"), http.StatusUnauthorized, "repository:team/app:deleted_restore"},
		{"admin token restores", "POST", restore, bearer("admin", "admin-pw", "repository:team/app:deleted_restore"), http.StatusOK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var hdr []string
			if c.auth != "" {
				hdr = []string{"Authorization", c.auth}
			}
			w := call(t, f.h, c.method, c.target, nil, hdr...)
			if w.Code != c.status {
				t.Fatalf("= %d %s, want %d", w.Code, w.Body, c.status)
			}
			if ch := w.Header().Get("WWW-Authenticate"); c.scope != "" && !strings.Contains(ch, `scope="`+c.scope+`"`) {
				t.Errorf("WWW-Authenticate = %s, want scope %s", ch, c.scope)
			}
		})
	}
}
