package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/httpapi"
)

func TestStaticCredentials(t *testing.T) {
	const challenge = `Basic realm="regkit test"`
	users := map[string]string{"alice": "s3cret"}
	type req struct{ method, target string }
	var (
		ping = req{"GET", "/v2/"}
		tags = req{"GET", "/v2/team/app/tags/list"}
		cat  = req{"GET", "/v2/_catalog"}
		push = req{"POST", "/v2/team/app/blobs/uploads/"}
		del  = req{"DELETE", "/v2/team/app/manifests/v1"}
	)
	cases := []struct {
		anonPull   bool
		user, pass string // user "" sends no credentials
		req        req
		status     int
	}{
		{false, "", "", ping, http.StatusUnauthorized},
		{false, "", "", tags, http.StatusUnauthorized},
		{false, "", "", push, http.StatusUnauthorized},
		{false, "alice", "wrong", ping, http.StatusUnauthorized},
		{false, "bob", "s3cret", tags, http.StatusUnauthorized},
		{false, "alice", "s3cret", ping, http.StatusOK},
		{false, "alice", "s3cret", tags, http.StatusOK},
		{false, "alice", "s3cret", cat, http.StatusOK},
		{false, "alice", "s3cret", push, http.StatusAccepted},
		{true, "", "", ping, http.StatusOK},
		{true, "", "", tags, http.StatusOK},
		{true, "", "", cat, http.StatusOK},
		{true, "", "", push, http.StatusUnauthorized},
		{true, "", "", del, http.StatusUnauthorized},
		{true, "alice", "wrong", tags, http.StatusUnauthorized},
		{true, "alice", "s3cret", push, http.StatusAccepted},
		{true, "alice", "s3cret", del, http.StatusAccepted},
	}
	for _, anon := range []bool{false, true} {
		f := newFixture(t, httpapi.WithAuthorizer(httpapi.StaticCredentials("regkit test", users, anon)))
		for _, c := range cases {
			if c.anonPull != anon {
				continue
			}
			f.image(t, "team/app", "v1", "1")
			t.Run(fmt.Sprintf("anon=%v/%s:%s/%s %s", anon, c.user, c.pass, c.req.method, c.req.target), func(t *testing.T) {
				var hdr []string
				if c.user != "" {
					r, _ := http.NewRequest("GET", "/", nil)
					r.SetBasicAuth(c.user, c.pass)
					hdr = []string{"Authorization", r.Header.Get("Authorization")}
				}
				w := call(t, f.h, c.req.method, c.req.target, nil, hdr...)
				if c.status != http.StatusUnauthorized {
					if w.Code != c.status {
						t.Errorf("status = %d %s, want %d", w.Code, w.Body, c.status)
					}
					return
				}
				checkError(t, c.req.method, w.Code, w.Header(), w.Body.Bytes(), http.StatusUnauthorized, httpapi.CodeUnauthorized)
				if got := w.Header().Get("WWW-Authenticate"); got != challenge {
					t.Errorf("WWW-Authenticate = %q, want %q", got, challenge)
				}
			})
		}
	}
}

func TestBearerChallenge(t *testing.T) {
	const realm, service = "https://auth.example.com/token", "registry.example.com"
	var (
		mu   sync.Mutex
		seen []httpapi.Access
	)
	// Token "all" may do anything; "pull:<repo>" may pull from repo and push
	// to dst/app; anything else is refused.
	verify := func(_ context.Context, token string, a httpapi.Access) error {
		mu.Lock()
		seen = append(seen, a)
		mu.Unlock()
		switch {
		case token == "all":
			return nil
		case strings.HasPrefix(token, "pull:"):
			if a.Repository == "dst/app" || (a.Repository == strings.TrimPrefix(token, "pull:") && !slices.Contains(a.Actions, httpapi.ActionPush)) {
				return nil
			}
		}
		return fmt.Errorf("token %q may not %v: %w", token, a.Actions, httpapi.ErrDenied)
	}
	f := newFixture(t, httpapi.WithAuthorizer(httpapi.BearerChallenge(realm, service, verify)))
	_, md := f.image(t, "team/app", "v1", "1")
	ld := digest.FromString("layer 1")

	prefix := `Bearer realm="` + realm + `",service="` + service + `"`
	for _, c := range []struct{ method, target, scope string }{
		{"GET", "/v2/", ""},
		{"GET", "/v2/_catalog", "registry:catalog:*"},
		{"GET", "/v2/team/app/tags/list", "repository:team/app:pull"},
		{"HEAD", "/v2/team/app/manifests/v1", "repository:team/app:pull"},
		{"GET", "/v2/team/app/blobs/" + ld.String(), "repository:team/app:pull"},
		{"GET", "/v2/team/app/referrers/" + md.String(), "repository:team/app:pull"},
		{"POST", "/v2/team/app/blobs/uploads/", "repository:team/app:push"},
		{"PUT", "/v2/team/app/manifests/v2", "repository:team/app:push"},
		{"DELETE", "/v2/team/app/manifests/" + md.String(), "repository:team/app:delete"},
		{"DELETE", "/v2/team/app/manifests/v1", "repository:team/app:delete"},
		{"GET", "/v2/team%2Fapp/tags/list", "repository:team/app:pull"},
	} {
		t.Run(c.method+" "+c.target, func(t *testing.T) {
			w := call(t, f.h, c.method, c.target, nil)
			checkError(t, c.method, w.Code, w.Header(), w.Body.Bytes(), http.StatusUnauthorized, httpapi.CodeUnauthorized)
			want := prefix
			if c.scope != "" {
				want += `,scope="` + c.scope + `"`
			}
			if got := w.Header().Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate = %s\nwant %s", got, want)
			}
			if c.method == "HEAD" {
				return
			}
			// The body's detail names what was needed, one entry per
			// action, as ACR and the distribution registry write it.
			var body struct {
				Errors []struct {
					Detail []struct{ Type, Name, Action string }
				}
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
				t.Fatalf("body %s: %v", w.Body, err)
			}
			var got []string
			for _, d := range body.Errors[0].Detail {
				got = append(got, d.Type+":"+d.Name+":"+d.Action)
			}
			if want := c.scope; strings.Join(got, ",") != want && !(want == "" && got == nil) {
				t.Errorf("detail %v, want the scope %q", got, want)
			}
		})
	}

	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	if w := call(t, f.h, "GET", "/v2/team/app/tags/list", nil, bearer("all")...); w.Code != http.StatusOK {
		t.Errorf("with a good token = %d %s", w.Code, w.Body)
	}
	w := call(t, f.h, "GET", "/v2/team/app/tags/list", nil, bearer("nope")...)
	checkError(t, "GET", w.Code, w.Header(), w.Body.Bytes(), http.StatusForbidden, httpapi.CodeDenied)
	if w.Header().Get("WWW-Authenticate") != "" {
		t.Error("a refused token got a challenge")
	}
	// The verifier sees both vocabularies: OCI and ACR actions.
	mu.Lock()
	last := seen[len(seen)-1]
	mu.Unlock()
	if last.Repository != "team/app" || !slices.Contains(last.Actions, httpapi.ActionPull) || !slices.Contains(last.Actions, httpapi.ActionMetadataRead) {
		t.Errorf("access = %+v", last)
	}

	// A mount needs pull on the source: without it the client gets a
	// session instead.
	mount := "/v2/dst/app/blobs/uploads/?mount=" + ld.String() + "&from=team/app"
	if w := call(t, f.h, "POST", mount, nil, bearer("pull:other/app")...); w.Code != http.StatusAccepted {
		t.Errorf("mount without pull on the source = %d %s, want 202", w.Code, w.Body)
	}
	if w := call(t, f.h, "POST", mount, nil, bearer("pull:team/app")...); w.Code != http.StatusCreated {
		t.Errorf("mount with pull on the source = %d %s, want 201", w.Code, w.Body)
	}
}

func TestChallengeString(t *testing.T) {
	for _, c := range []struct {
		ch   httpapi.Challenge
		want string
	}{
		{httpapi.Challenge{Scheme: "Basic", Realm: "r"}, `Basic realm="r"`},
		{httpapi.Challenge{Scheme: "Basic", Realm: `a "q" \ b`, Service: "ignored"}, `Basic realm="a \"q\" \\ b"`},
		{httpapi.Challenge{Scheme: "Bearer", Realm: "https://t", Service: "s", Scope: "repository:a/b:pull,push"}, `Bearer realm="https://t",service="s",scope="repository:a/b:pull,push"`},
		{httpapi.Challenge{Scheme: "Bearer", Realm: "https://t"}, `Bearer realm="https://t"`},
	} {
		if got := c.ch.String(); got != c.want {
			t.Errorf("%+v = %s, want %s", c.ch, got, c.want)
		}
	}
	var ch error = &httpapi.Challenge{Scheme: "Basic", Realm: "r"}
	if errors.Is(ch, httpapi.ErrDenied) {
		t.Error("a challenge is not a denial")
	}
	for _, c := range []struct {
		a    httpapi.Access
		want string
	}{
		{httpapi.Access{}, ""},
		{httpapi.Access{Actions: []httpapi.Action{httpapi.ActionPull}}, "registry:catalog:*"},
		{httpapi.Access{Repository: "a/b", Actions: []httpapi.Action{httpapi.ActionPush, httpapi.ActionContentWrite}}, "repository:a/b:push"},
	} {
		if got := c.a.Scope(); got != c.want {
			t.Errorf("Scope(%+v) = %q, want %q", c.a, got, c.want)
		}
	}
}
