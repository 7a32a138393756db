package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/regkit/regkit/registry/httpapi"
)

func TestACRAuthorization(t *testing.T) {
	const realm, service = "https://registry.example/oauth2/token", "registry.example"
	var (
		mu   sync.Mutex
		seen []httpapi.Access
	)
	verify := func(_ context.Context, token string, a httpapi.Access) error {
		mu.Lock()
		seen = append(seen, a)
		mu.Unlock()
		return nil
	}
	f := newACRFixture(t, httpapi.WithAuthorizer(httpapi.BearerChallenge(realm, service, verify)))
	d := f.platformImage(t, "team/app", "v1", "1")
	md := "/_manifests/" + d.String()
	for _, c := range []struct {
		method, target, scope string
		actions               []httpapi.Action
	}{
		{"GET", "/acr/v1/_catalog", "registry:catalog:*", []httpapi.Action{httpapi.ActionMetadataRead}},
		{"GET", "/acr/v1/team/app", "repository:team/app:metadata_read", []httpapi.Action{httpapi.ActionMetadataRead}},
		{"PATCH", "/acr/v1/team/app", "repository:team/app:metadata_write", []httpapi.Action{httpapi.ActionMetadataWrite}},
		{"DELETE", "/acr/v1/team/app", "repository:team/app:delete", []httpapi.Action{httpapi.ActionContentDelete}},
		{"GET", "/acr/v1/team/app/_tags", "repository:team/app:metadata_read", []httpapi.Action{httpapi.ActionMetadataRead}},
		{"GET", "/acr/v1/team%2Fapp/_tags/v1", "repository:team/app:metadata_read", []httpapi.Action{httpapi.ActionMetadataRead}},
		{"PATCH", "/acr/v1/team/app/_tags/v1", "repository:team/app:metadata_write", []httpapi.Action{httpapi.ActionMetadataWrite}},
		{"DELETE", "/acr/v1/team/app/_tags/v1", "repository:team/app:delete", []httpapi.Action{httpapi.ActionDelete, httpapi.ActionMetadataWrite}},
		{"GET", "/acr/v1/team/app/_manifests", "repository:team/app:metadata_read", []httpapi.Action{httpapi.ActionMetadataRead}},
		{"GET", "/acr/v1/team/app" + md, "repository:team/app:metadata_read", []httpapi.Action{httpapi.ActionMetadataRead}},
		{"PATCH", "/acr/v1/team/app" + md, "repository:team/app:metadata_write", []httpapi.Action{httpapi.ActionMetadataWrite}},
		{"DELETE", "/acr/v1/team/app" + md, "repository:team/app:delete", []httpapi.Action{httpapi.ActionContentDelete}},
		// A repository that does not exist is challenged the same way.
		{"GET", "/acr/v1/ghost/_tags", "repository:ghost:metadata_read", []httpapi.Action{httpapi.ActionMetadataRead}},
	} {
		t.Run(c.method+" "+c.target, func(t *testing.T) {
			code, hdr, v := acrCall(t, f.h, c.method, c.target, "")
			checkACRError(t, code, hdr, v, http.StatusUnauthorized, httpapi.CodeUnauthorized)
			want := `Bearer realm="` + realm + `",service="` + service + `",scope="` + c.scope + `"`
			if got := hdr.Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate = %s\nwant %s", got, want)
			}
			// With a token, the verifier gets the route's access.
			mu.Lock()
			seen = nil
			mu.Unlock()
			call(t, f.h, c.method, c.target, []byte(`{}`), "Authorization", "Bearer t")
			mu.Lock()
			defer mu.Unlock()
			if len(seen) == 0 || !slices.Equal(seen[len(seen)-1].Actions, c.actions) {
				t.Errorf("access = %+v, want actions %v", seen, c.actions)
			}
		})
	}
}

func TestAccessScopeACR(t *testing.T) {
	for _, c := range []struct {
		a    httpapi.Access
		want string
	}{
		{httpapi.Access{Repository: "a", Actions: []httpapi.Action{httpapi.ActionPull, httpapi.ActionContentRead}}, "repository:a:pull"},
		{httpapi.Access{Repository: "a", Actions: []httpapi.Action{httpapi.ActionDelete, httpapi.ActionMetadataWrite}}, "repository:a:delete"},
		{httpapi.Access{Repository: "a", Actions: []httpapi.Action{httpapi.ActionContentRead, httpapi.ActionContentWrite}}, "repository:a:pull,push"},
		{httpapi.Access{Repository: "a/b", Actions: []httpapi.Action{httpapi.ActionMetadataRead, httpapi.ActionMetadataWrite, httpapi.ActionContentDelete}}, "repository:a/b:metadata_read,metadata_write,delete"},
		{httpapi.Access{Actions: []httpapi.Action{httpapi.ActionMetadataRead}}, "registry:catalog:*"},
		{httpapi.Access{}, ""},
	} {
		if got := c.a.Scope(); got != c.want {
			t.Errorf("%+v.Scope() = %q, want %q", c.a, got, c.want)
		}
	}
}

func TestWithTokenHandler(t *testing.T) {
	var got []string
	stub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"x"}`))
	})
	deny := httpapi.AuthorizerFunc(func(context.Context, *http.Request, httpapi.Access) error {
		return &httpapi.Challenge{Scheme: "Bearer", Realm: "r"}
	})
	f := newACRFixture(t, httpapi.WithTokenHandler(stub), httpapi.WithAuthorizer(deny))
	for _, c := range []struct{ method, path string }{{"POST", "/oauth2/token"}, {"POST", "/oauth2/exchange"}, {"GET", "/oauth2/token"}} {
		if w := call(t, f.h, c.method, c.path, nil); w.Code != http.StatusOK || w.Body.String() != `{"access_token":"x"}` {
			t.Errorf("%s %s = %d %q", c.method, c.path, w.Code, w.Body)
		}
	}
	if want := []string{"POST /oauth2/token", "POST /oauth2/exchange", "GET /oauth2/token"}; !slices.Equal(got, want) {
		t.Errorf("stub saw %v", got)
	}
	if w := call(t, f.h, "POST", "/oauth2/other", nil); w.Code != http.StatusNotFound {
		t.Errorf("other /oauth2 path = %d", w.Code)
	}
	// Without the option the paths are not served.
	plain := newACRFixture(t)
	if w := call(t, plain.h, "POST", "/oauth2/token", nil); w.Code != http.StatusNotFound {
		t.Errorf("no token handler = %d", w.Code)
	}
}

// TestUploadProbe: a PATCH whose Content-Range declares bytes its body does
// not carry (the Azure SDK's body-less first request) fails with 416 and
// leaves the upload as it was.
func TestUploadProbe(t *testing.T) {
	f := newFixture(t)
	w := call(t, f.h, "POST", "/v2/team/app/blobs/uploads/", nil)
	mustStatus(t, w, http.StatusAccepted)
	loc := w.Header().Get("Location")
	mustStatus(t, call(t, f.h, "PATCH", loc, []byte("abc"), "Content-Range", "0-2"), http.StatusAccepted)

	for _, c := range []struct {
		name string
		body []byte
		hdr  []string
	}{
		{"no body", nil, []string{"Content-Range", "3-5"}},
		{"empty body", []byte{}, []string{"Content-Range", "3-5", "Content-Length", "0"}},
		{"short body", []byte("d"), []string{"Content-Range", "3-5"}},
		{"long body", []byte("defg"), []string{"Content-Range", "3-5"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := call(t, f.h, "PATCH", loc, c.body, c.hdr...)
			checkError(t, "PATCH", w.Code, w.Header(), w.Body.Bytes(), http.StatusRequestedRangeNotSatisfiable, httpapi.CodeBlobUploadInvalid)
			st := call(t, f.h, "GET", loc, nil)
			if st.Code != http.StatusNoContent || st.Header().Get("Range") != "0-2" {
				t.Errorf("upload after refused chunk = %d Range %q", st.Code, st.Header().Get("Range"))
			}
		})
	}
	// A chunked body of unknown length with a range is refused too.
	req := httptest.NewRequest("PATCH", loc, strings.NewReader("def"))
	req.ContentLength = -1
	req.Header.Set("Content-Range", "3-5")
	rw := httptest.NewRecorder()
	f.h.ServeHTTP(rw, req)
	checkError(t, "PATCH", rw.Code, rw.Header(), rw.Body.Bytes(), http.StatusRequestedRangeNotSatisfiable, httpapi.CodeBlobUploadInvalid)
	mustStatus(t, call(t, f.h, "PATCH", loc, []byte("def"), "Content-Range", "3-5"), http.StatusAccepted)
}
