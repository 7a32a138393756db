package interop_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/access"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/registrytest"
	"github.com/regkit/regkit/registry/token"
)

// go-containerregistry's remote against a registry with ACR's access
// model: tokens bound to scope maps log in with Basic credentials, which
// ggcr takes to the token endpoint (Docker's token flow), then present the
// Bearer tokens it gets.

// tokenServer is an on-disk registry with the access model, the token
// service and the handler.
type tokenServer struct {
	host string
	acc  *access.Service
	pw   map[string]string // token name → password
}

const (
	ggcrAdmin   = "regadmin"
	ggcrAdminPW = "admin-password-for-ggcr"
)

func startTokenServer(t *testing.T, anonymousPull bool) *tokenServer {
	t.Helper()
	ctx := context.Background()
	reg, err := registry.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	acc, err := access.New(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(acc.SetAdmin(ctx, ggcrAdmin, ggcrAdminPW))
	must(acc.SetAnonymousPull(ctx, anonymousPull))
	for _, m := range []access.ScopeMap{
		{Name: "team-push", Rules: []access.Rule{{Repository: "team/*", Actions: []access.Action{access.ContentRead, access.ContentWrite, access.MetadataRead}}}},
		{Name: "app-pull", Rules: []access.Rule{{Repository: "team/app", Actions: []access.Action{access.ContentRead, access.MetadataRead}}}},
		{Name: "other-all", Rules: []access.Rule{{Repository: "other/app", Actions: access.Actions()}}},
	} {
		_, err := acc.CreateScopeMap(ctx, m)
		must(err)
	}
	ts := &tokenServer{acc: acc, pw: map[string]string{}}
	for _, tk := range []struct{ name, scopeMap string }{{"pusher", "team-push"}, {"puller", "app-pull"}, {"elsewhere", "other-all"}} {
		_, err := acc.CreateToken(ctx, tk.name, tk.scopeMap, "")
		must(err)
		ts.pw[tk.name], err = acc.GeneratePassword(ctx, tk.name, access.Password1, time.Time{})
		must(err)
	}
	svc, err := token.New(token.WithAuthority(acc.StringAuthority()))
	must(err)
	hs := httptest.NewServer(httpapi.New(reg, httpapi.WithAuthorizer(svc.Authorizer()), httpapi.WithTokenHandler(svc.Handler())))
	t.Cleanup(func() {
		hs.Close()
		if err := reg.Close(); err != nil {
			t.Error(err)
		}
	})
	ts.host = strings.TrimPrefix(hs.URL, "http://")
	return ts
}

func (ts *tokenServer) as(name string) remote.Option {
	if name == "admin" {
		return remote.WithAuth(&authn.Basic{Username: ggcrAdmin, Password: ggcrAdminPW})
	}
	return remote.WithAuth(&authn.Basic{Username: name, Password: ts.pw[name]})
}

// statusOf returns the HTTP status of a ggcr error, or 0.
func statusOf(err error) int {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode
	}
	return 0
}

func TestGGCRWithAccessTokens(t *testing.T) {
	ts := startTokenServer(t, false)
	img := randomImage(t, 13, 2)
	appRef := ggcrRef(t, ts.host, "team/app:v1")

	// The pusher pushes into team/* and reads back what it pushed.
	if err := remote.Write(appRef, img, ts.as("pusher")); err != nil {
		t.Fatalf("pusher write: %v", err)
	}
	got, err := remote.Image(appRef, ts.as("pusher"))
	if err != nil {
		t.Fatal(err)
	}
	sameImage(t, got, img)

	// Copying to another repository of team/* mounts the layers: ggcr asks
	// for pull on the source beside push on the target, and the token
	// grants both.
	rec := &registrytest.Recorder{}
	copyRef := ggcrRef(t, ts.host, "team/copy:v1")
	if err := remote.Write(copyRef, got, ts.as("pusher"), remote.WithTransport(rec)); err != nil {
		t.Fatalf("pusher copy: %v", err)
	}
	mounted := 0
	for _, r := range rec.Requests() {
		if r.Method == http.MethodPost && strings.Contains(r.RawQuery, "mount=") && r.Status == http.StatusCreated {
			mounted++
		}
	}
	if mounted == 0 {
		t.Errorf("no layer was mounted from team/app: %+v", rec.Requests())
	}

	// Outside its scope map the pusher is refused, and nothing is written.
	otherRef := ggcrRef(t, ts.host, "other/app:v1")
	if err := remote.Write(otherRef, img, ts.as("pusher")); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("pusher write to other/app: %v", err)
	}
	if _, err := remote.Head(otherRef, ts.as("admin")); statusOf(err) != http.StatusNotFound {
		t.Errorf("the refused write left other/app:v1: %v", err)
	}

	// The puller pulls and lists team/app, and may not push there.
	if got, err := remote.Image(appRef, ts.as("puller")); err != nil {
		t.Errorf("puller pull: %v", err)
	} else {
		sameImage(t, got, img)
	}
	tags, err := remote.List(appRef.Context(), ts.as("puller"))
	if err != nil || !slices.Equal(tags, []string{"v1"}) {
		t.Errorf("puller tags %v, %v", tags, err)
	}
	v2 := ggcrRef(t, ts.host, "team/app:v2")
	if err := remote.Write(v2, randomImage(t, 14, 1), ts.as("puller")); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("puller write: %v", err)
	}
	if tags, _ := remote.List(appRef.Context(), ts.as("puller")); !slices.Equal(tags, []string{"v1"}) {
		t.Errorf("tags after the refused write: %v", tags)
	}
	if err := remote.Delete(appRef, ts.as("puller")); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("puller delete: %v", err)
	}

	// A token scoped elsewhere gets the same refusal for team/app as for a
	// repository that does not exist.
	_, errApp := remote.Image(appRef, ts.as("elsewhere"))
	_, errGhost := remote.Image(ggcrRef(t, ts.host, "ghost/app:v1"), ts.as("elsewhere"))
	if statusOf(errApp) != http.StatusUnauthorized || statusOf(errGhost) != http.StatusUnauthorized {
		t.Errorf("elsewhere pull: team/app %v; ghost/app %v", errApp, errGhost)
	}
	if err := remote.Write(otherRef, img, ts.as("elsewhere")); err != nil {
		t.Errorf("elsewhere write to its own repository: %v", err)
	}

	// Anonymous callers get nothing without anonymous pull; a wrong
	// password is refused at the token endpoint.
	if _, err := remote.Image(appRef); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("anonymous pull: %v", err)
	}
	wrong := remote.WithAuth(&authn.Basic{Username: "puller", Password: "wrong"})
	if _, err := remote.Image(appRef, wrong); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("wrong password: %v", err)
	}

	// The catalog is the admin's.
	repos, err := remote.Catalog(context.Background(), appRef.Context().Registry, ts.as("admin"))
	if err != nil || strings.Join(repos, ",") != "other/app,team/app,team/copy" {
		t.Errorf("admin catalog %v, %v", repos, err)
	}
	if _, err := remote.Catalog(context.Background(), appRef.Context().Registry, ts.as("pusher")); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("pusher catalog: %v", err)
	}

	// Disabling a token takes effect on its next request.
	disabled := access.StatusDisabled
	if _, err := ts.acc.UpdateToken(context.Background(), "puller", access.TokenUpdate{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Image(appRef, ts.as("puller")); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("disabled puller: %v", err)
	}
}

// With anonymous pull on, ggcr pulls without credentials and still cannot
// push.
func TestGGCRAnonymousPullWithAccess(t *testing.T) {
	ts := startTokenServer(t, true)
	img := randomImage(t, 15, 1)
	ref := ggcrRef(t, ts.host, "team/app:v1")
	if err := remote.Write(ref, img); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("anonymous write: %v", err)
	}
	if err := remote.Write(ref, img, ts.as("pusher")); err != nil {
		t.Fatal(err)
	}
	got, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("anonymous pull: %v", err)
	}
	sameImage(t, got, img)
}
