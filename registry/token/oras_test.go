package token_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/token"
)

// server is a registry behind the token service: /oauth2/ to the token
// handler, the rest to httpapi with the service's Authorizer.
type server struct {
	host string
	url  string
	svc  *token.Service
}

func startServer(t *testing.T, opts ...token.Option) *server {
	t.Helper()
	reg, err := registry.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := token.New(append([]token.Option{token.WithAuthority(testAuthority())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oauth2/", svc.Handler())
	mux.Handle("/", httpapi.New(reg, httpapi.WithAuthorizer(svc.Authorizer())))
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		if err := reg.Close(); err != nil {
			t.Error(err)
		}
	})
	return &server{host: strings.TrimPrefix(hs.URL, "http://"), url: hs.URL, svc: svc}
}

// repo opens name with cred (the zero credential is anonymous).
func (s *server) repo(t *testing.T, name string, cred auth.Credential, oauth2 bool) *remote.Repository {
	t.Helper()
	r, err := remote.NewRepository(s.host + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	r.Client = &auth.Client{
		Client:             http.DefaultClient,
		Cache:              auth.NewCache(),
		Credential:         auth.StaticCredential(s.host, cred),
		ForceAttemptOAuth2: oauth2,
		ClientID:           "regkit-test",
	}
	return r
}

func pushImage(ctx context.Context, repo *remote.Repository, tag string) (ocispec.Descriptor, error) {
	cfg, err := oras.PushBytes(ctx, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	layer, err := oras.PushBytes(ctx, repo, ocispec.MediaTypeImageLayer, []byte("layer of "+tag))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "", oras.PackManifestOptions{
		ConfigDescriptor: &cfg, Layers: []ocispec.Descriptor{layer},
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, repo.Tag(ctx, desc, tag)
}

func pullLayer(ctx context.Context, t *testing.T, repo *remote.Repository, tag string) []byte {
	t.Helper()
	_, mb, err := oras.FetchBytes(ctx, repo, tag, oras.DefaultFetchBytesOptions)
	if err != nil {
		t.Fatalf("fetch %s: %v", tag, err)
	}
	if !bytes.Contains(mb, []byte(ocispec.MediaTypeImageLayer)) {
		t.Fatalf("manifest %s", mb)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		t.Fatal(err)
	}
	b, err := content.FetchAll(ctx, repo, m.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestORASThroughTokens(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, token.WithIdentityVerifier(token.StaticIdentities{"entra-bob": "bob"}))
	alice := auth.Credential{Username: "alice", Password: "alice-pw"}

	// Docker's GET flow with Basic credentials.
	teamApp := srv.repo(t, "team/app", alice, false)
	if _, err := pushImage(ctx, teamApp, "v1"); err != nil {
		t.Fatalf("alice push: %v", err)
	}
	if got := pullLayer(ctx, t, teamApp, "v1"); string(got) != "layer of v1" {
		t.Errorf("pulled %q", got)
	}
	if tags := tagsOf(ctx, t, teamApp); len(tags) != 1 || tags[0] != "v1" {
		t.Errorf("tags %v", tags)
	}
	// The OAuth2 POST password grant.
	if _, err := pushImage(ctx, srv.repo(t, "team/app", alice, true), "v2"); err != nil {
		t.Fatalf("alice push by POST: %v", err)
	}
	// A refresh token from /oauth2/exchange, used as oras uses identity
	// tokens (POST grant_type=refresh_token).
	form := url.Values{"grant_type": {"access_token"}, "service": {srv.host}, "access_token": {"entra-bob"}}
	resp, err := http.PostForm(srv.url+"/oauth2/exchange", form)
	if err != nil {
		t.Fatal(err)
	}
	refresh := decode(t, resp, http.StatusOK).RefreshToken
	bobRepo := srv.repo(t, "public/web", auth.Credential{RefreshToken: refresh}, false)
	if _, err := pushImage(ctx, bobRepo, "latest"); err != nil {
		t.Fatalf("bob push with a refresh token: %v", err)
	}
	// And as docker login passes it: the null username and the token.
	bobLogin := srv.repo(t, "public/web", auth.Credential{Username: token.NullUsername, Password: refresh}, false)
	if _, err := pushImage(ctx, bobLogin, "v2"); err != nil {
		t.Fatalf("bob push with the null username: %v", err)
	}
	// The catalog, for bob only (alice gets a token without it, so 401).
	reg, err := remote.NewRegistry(srv.host)
	if err != nil {
		t.Fatal(err)
	}
	reg.PlainHTTP = true
	reg.Client = bobRepo.Client
	var repos []string
	if err := reg.Repositories(ctx, "", func(p []string) error { repos = append(repos, p...); return nil }); err != nil {
		t.Fatalf("catalog: %v", err)
	}
	if strings.Join(repos, ",") != "public/web,team/app" {
		t.Errorf("catalog %v", repos)
	}
	reg.Client = teamApp.Client
	if err := reg.Repositories(ctx, "", func([]string) error { return nil }); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("alice's catalog: %v", err)
	}

	// Anonymous: pulls public/web, cannot push there or read team/app.
	anonWeb := srv.repo(t, "public/web", auth.EmptyCredential, false)
	if got := pullLayer(ctx, t, anonWeb, "latest"); string(got) != "layer of latest" {
		t.Errorf("anonymous pull %q", got)
	}
	if _, err := pushImage(ctx, anonWeb, "evil"); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("anonymous push: %v", err)
	}
	if _, err := bobRepo.Resolve(ctx, "evil"); !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("the anonymous push left a tag: %v", err)
	}
	anonTeam := srv.repo(t, "team/app", auth.EmptyCredential, false)
	if _, err := anonTeam.Resolve(ctx, "v1"); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("anonymous resolve of a private repository: %v", err)
	}
	// The same answer for a repository that does not exist.
	if _, err := srv.repo(t, "team/none", auth.EmptyCredential, false).Resolve(ctx, "v1"); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("anonymous resolve of a missing repository: %v", err)
	}
	// alice holds only pull on app: her push is refused, the same whether
	// app exists or not.
	for _, name := range []string{"app", "team-none"} {
		_, err := pushImage(ctx, srv.repo(t, name, alice, false), "v1")
		if !isStatus(err, http.StatusUnauthorized) {
			t.Errorf("alice push to %s: %v", name, err)
		}
	}
	// Wrong password.
	bad := srv.repo(t, "team/app", auth.Credential{Username: "alice", Password: "nope"}, false)
	if _, err := bad.Resolve(ctx, "v1"); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := bad.Resolve(ctx, "v1"); errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("wrong password revealed the tag's absence")
	}
}

func isStatus(err error, status int) bool {
	var re *errcode.ErrorResponse
	if errors.As(err, &re) {
		return re.StatusCode == status
	}
	return err != nil && strings.Contains(err.Error(), http.StatusText(status)) ||
		err != nil && strings.Contains(err.Error(), "status code "+strconv.Itoa(status))
}

func tagsOf(ctx context.Context, t *testing.T, repo *remote.Repository) []string {
	t.Helper()
	var tags []string
	if err := repo.Tags(ctx, "", func(p []string) error { tags = append(tags, p...); return nil }); err != nil {
		t.Fatalf("tags: %v", err)
	}
	return tags
}
