package token_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/regkit/regkit/registry/access"
)

// oras-go against the access-backed stack of the matrix: tokens bound to
// scope maps present Basic credentials to the token endpoint (Docker's GET
// flow, and the OAuth2 POST password grant), and work inside their scope
// maps only.
func TestORASWithAccessTokens(t *testing.T) {
	for _, oauth2 := range []bool{false, true} {
		name := "GET"
		if oauth2 {
			name = "POST"
		}
		t.Run(name, func(t *testing.T) { orasWithAccess(t, oauth2) })
	}
}

func orasWithAccess(t *testing.T, oauth2 bool) {
	ctx := context.Background()
	srv := newMatrixServer(t)
	st := newStack(t, srv, newContent(t), false, testHash)
	host := strings.TrimPrefix(st.url, "http://")
	open := func(repo, user, pass string) *remote.Repository {
		t.Helper()
		r, err := remote.NewRepository(host + "/" + repo)
		if err != nil {
			t.Fatal(err)
		}
		r.PlainHTTP = true
		cred := auth.EmptyCredential
		if user != "" {
			cred = auth.Credential{Username: user, Password: pass}
		}
		r.Client = &auth.Client{
			Client:             http.DefaultClient,
			Cache:              auth.NewCache(),
			Credential:         auth.StaticCredential(host, cred),
			ForceAttemptOAuth2: oauth2,
			ClientID:           "regkit-test",
		}
		return r
	}

	// The pusher pushes to team/app and reads it back.
	pusher := open("team/app", "pusher", st.pw["pusher"])
	if _, err := pushImage(ctx, pusher, "v3"); err != nil {
		t.Fatalf("pusher push: %v", err)
	}
	if got := pullLayer(ctx, t, pusher, "v3"); string(got) != "layer of v3" {
		t.Errorf("pusher pulled %q", got)
	}
	// but may not list its tags (no metadata/read), nor push elsewhere.
	if err := pusher.Tags(ctx, "", func([]string) error { return nil }); err == nil {
		t.Error("pusher listed tags without metadata/read")
	}
	if _, err := pushImage(ctx, open("other/app", "pusher", st.pw["pusher"]), "v3"); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("pusher push to other/app: %v", err)
	}

	// The puller reads and lists team/app and cannot write it.
	puller := open("team/app", "puller", st.pw["puller"])
	if got := pullLayer(ctx, t, puller, "v3"); string(got) != "layer of v3" {
		t.Errorf("puller pulled %q", got)
	}
	if tags := tagsOf(ctx, t, puller); strings.Join(tags, ",") != "v1,v2,v3" {
		t.Errorf("puller tags %v", tags)
	}
	if _, err := pushImage(ctx, puller, "v4"); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("puller push: %v", err)
	}
	if _, err := puller.Resolve(ctx, "v4"); !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("the refused push left a tag: %v", err)
	}
	desc, err := puller.Resolve(ctx, "v3")
	if err != nil {
		t.Fatal(err)
	}
	if err := puller.Delete(ctx, desc); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("puller delete: %v", err)
	}

	// The token scoped to other/app works there and nowhere else; a
	// repository it may not read answers as one that does not exist.
	elsewhere := open("other/app", "elsewhere", st.pw["elsewhere"])
	if _, err := pushImage(ctx, elsewhere, "mine"); err != nil {
		t.Fatalf("elsewhere push: %v", err)
	}
	for _, repo := range []string{"team/app", "ghost/app"} {
		if _, err := open(repo, "elsewhere", st.pw["elsewhere"]).Resolve(ctx, "v1"); !isStatus(err, http.StatusUnauthorized) {
			t.Errorf("elsewhere resolve in %s: %v", repo, err)
		}
	}

	// Disabled and expired tokens, and a wrong password, get nothing.
	for _, c := range []struct{ user, pass string }{
		{"disabled", st.pw["disabled"]}, {"expired", st.pw["expired"]}, {"puller", "wrong"},
	} {
		if _, err := open("team/app", c.user, c.pass).Resolve(ctx, "v1"); !isStatus(err, http.StatusUnauthorized) {
			t.Errorf("%s resolve: %v", c.user, err)
		}
	}

	// The admin lists the catalog; a token cannot.
	reg, err := remote.NewRegistry(host)
	if err != nil {
		t.Fatal(err)
	}
	reg.PlainHTTP = true
	reg.Client = open("team/app", adminUser, adminPass).Client
	var repos []string
	if err := reg.Repositories(ctx, "", func(p []string) error { repos = append(repos, p...); return nil }); err != nil {
		t.Fatalf("admin catalog: %v", err)
	}
	if strings.Join(repos, ",") != "other/app,secret/app,team/app" {
		t.Errorf("catalog %v", repos)
	}
	reg.Client = puller.Client
	if err := reg.Repositories(ctx, "", func([]string) error { return nil }); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("puller catalog: %v", err)
	}

	// Disabling the pusher bites on its next request, though its client
	// holds an unexpired access token.
	disabled := access.StatusDisabled
	if _, err := st.acc.UpdateToken(ctx, "pusher", access.TokenUpdate{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := pusher.Resolve(ctx, "v3"); err == nil {
		t.Error("a disabled token still resolves")
	}
	if _, err := pushImage(ctx, pusher, "v5"); err == nil {
		t.Error("a disabled token still pushes")
	}
	if _, err := puller.Resolve(ctx, "v5"); !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("the disabled token's push left a tag: %v", err)
	}
}
