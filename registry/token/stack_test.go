package token_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/access"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/token"
)

// A full stack for the authorization matrix: a registry, the access model
// with ACR's identities, the token service on it and the HTTP handler with
// the service's Authorizer and token endpoints, behind one loopback server.

// The identities every stack holds.
const (
	adminUser = "regadmin"
	adminPass = "admin-password-0123456789"
)

// fixtureRepos are the repositories a stack is filled with: the one the
// matrix works on, one only the admin may read, and the source of mounts.
var fixtureRepos = []string{"team/app", "secret/app", "other/app"}

// ghostRepo never exists.
const ghostRepo = "ghost/app"

// fixtureContent is what every fixture repository holds, the same bytes in each.
type fixtureContent struct {
	config, layer, extra, partial, newBlob, source []byte
	m1, m2, m3                                     []byte
}

func newContent(t testing.TB) fixtureContent {
	t.Helper()
	c := fixtureContent{
		config:  []byte(`{"architecture":"amd64","os":"linux"}`),
		layer:   []byte("layer bytes of the matrix fixture"),
		extra:   []byte("an extra blob no manifest references"),
		partial: []byte("bytes of an unfinished upload"),
		newBlob: []byte("a blob pushed by a matrix request"),
		source:  []byte("a blob only other/app holds"),
	}
	manifest := func(ann string) []byte {
		m := ocispec.Manifest{
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(c.config), Size: int64(len(c.config))},
			Layers:    []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(c.layer), Size: int64(len(c.layer))}},
		}
		m.SchemaVersion = 2
		if ann != "" {
			m.Annotations = map[string]string{"matrix": ann}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c.m1, c.m2, c.m3 = manifest(""), manifest("two"), manifest("three")
	return c
}

// ident is who a request comes from.
type ident struct {
	name       string
	user, pass string // empty: no credentials
	anonymous  bool   // whether anonymous pull is on in this identity's stack
}

// stack is one registry with its access model, token service and server.
type stack struct {
	reg    *registry.Registry
	acc    *access.Service
	svc    *token.Service
	url    string
	c      fixtureContent
	upload map[string]string // repository → ID of an unfinished upload
	pw     map[string]string // identity name → its password
}

// server serves whichever stack is current, so each cell gets a fresh
// stack without a new listener.
type matrixServer struct {
	url string
	h   atomic.Pointer[http.Handler]
}

func newMatrixServer(t testing.TB) *matrixServer {
	t.Helper()
	s := &matrixServer{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*s.h.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	s.url = hs.URL
	return s
}

// testHash keeps the matrix fast: the cost of argon2id is measured in the
// benchmarks, at the default parameters.
var testHash = access.HashParams{Memory: 64, Time: 1, Threads: 1}

// newStack builds a stack on srv with the matrix's identities and content.
// The clock starts at a fixed time; the password of the token "expired"
// runs out an hour in and the clock is then moved two hours on, after the
// password was verified once (so the credential cache must notice).
func newStack(t testing.TB, srv *matrixServer, c fixtureContent, anonymous bool, hash access.HashParams) *stack {
	t.Helper()
	ctx := context.Background()
	clk := newClock()
	reg, err := registry.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	acc, err := access.New(ctx, reg, access.WithClock(clk.Now), access.WithHashParams(hash))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(acc.SetAdmin(ctx, adminUser, adminPass))
	must(acc.SetAnonymousPull(ctx, anonymous))
	rule := func(repo string, acts ...access.Action) access.Rule {
		return access.Rule{Repository: repo, Actions: acts}
	}
	maps := []access.ScopeMap{
		{Name: "app-pull", Rules: []access.Rule{rule("team/app", access.ContentRead, access.MetadataRead)}},
		{Name: "app-push", Rules: []access.Rule{rule("team/app", access.ContentRead, access.ContentWrite)}},
		{Name: "app-all", Rules: []access.Rule{rule("team/app", access.Actions()...)}},
		{Name: "other-all", Rules: []access.Rule{rule("other/app", access.Actions()...)}},
	}
	for _, m := range maps {
		_, err := acc.CreateScopeMap(ctx, m)
		must(err)
	}
	st := &stack{reg: reg, acc: acc, c: c, upload: map[string]string{}, pw: map[string]string{"admin": adminPass}}
	tokens := []struct{ name, scopeMap string }{
		{"puller", "app-pull"}, {"pusher", "app-push"}, {"elsewhere", "other-all"},
		{"disabled", "app-all"}, {"expired", "app-all"},
	}
	for _, tk := range tokens {
		_, err := acc.CreateToken(ctx, tk.name, tk.scopeMap, "")
		must(err)
		var expiry time.Time
		if tk.name == "expired" {
			expiry = clk.Now().Add(time.Hour)
		}
		pw, err := acc.GeneratePassword(ctx, tk.name, access.Password1, expiry)
		must(err)
		st.pw[tk.name] = pw
		if _, err := acc.Authenticate(ctx, tk.name, pw); err != nil {
			t.Fatalf("%s: %v", tk.name, err)
		}
	}
	disabled := access.StatusDisabled
	_, err = acc.UpdateToken(ctx, "disabled", access.TokenUpdate{Status: &disabled})
	must(err)
	clk.Advance(2 * time.Hour)

	for _, name := range fixtureRepos {
		repo, err := reg.Repository(ctx, name)
		must(err)
		for _, b := range [][]byte{c.config, c.layer, c.extra} {
			_, err := repo.Blobs().Put(ctx, digest.FromBytes(b), int64(len(b)), bytes.NewReader(b))
			must(err)
		}
		if name == "other/app" {
			_, err := repo.Blobs().Put(ctx, digest.FromBytes(c.source), int64(len(c.source)), bytes.NewReader(c.source))
			must(err)
		}
		_, err = repo.Manifests().Put(ctx, c.m1, registry.PutOptions{Tag: "v1"})
		must(err)
		_, err = repo.Manifests().Put(ctx, c.m2, registry.PutOptions{Tag: "v2"})
		must(err)
		u, err := repo.Blobs().StartUpload(ctx)
		must(err)
		_, err = u.Write(c.partial)
		must(err)
		st.upload[name] = u.ID()
		must(u.Close())
	}

	svc, err := token.New(token.WithAuthority(acc.StringAuthority()), token.WithClock(clk.Now))
	must(err)
	st.svc = svc
	var h http.Handler = httpapi.New(reg, httpapi.WithAuthorizer(svc.Authorizer()), httpapi.WithTokenHandler(svc.Handler()))
	srv.h.Store(&h)
	st.url = srv.url
	return st
}

// snapshot describes everything a request could change in the fixture
// repositories (and the one that must never appear): the repository list,
// each repository's properties, tags and manifests with their attributes,
// which known blobs it links, and the size of its unfinished upload.
func (st *stack) snapshot(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	var out strings.Builder
	repos, err := st.reg.Repositories(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(&out)
	_ = enc.Encode(repos)
	blobs := [][]byte{st.c.config, st.c.layer, st.c.extra, st.c.partial, st.c.newBlob, st.c.source}
	for _, name := range append(slices.Clone(fixtureRepos), ghostRepo) {
		out.WriteString(name + "\n")
		snap, err := st.reg.Snapshot(ctx, name)
		switch {
		case errors.Is(err, registry.ErrNameUnknown):
			out.WriteString("absent\n")
		case err != nil:
			t.Fatal(err)
		default:
			_ = enc.Encode(snap)
		}
		repo, err := st.reg.Repository(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if props, err := repo.Properties(ctx); err == nil {
			_ = enc.Encode(props)
		}
		for _, b := range blobs {
			_, err := repo.Blobs().Stat(ctx, digest.FromBytes(b))
			out.WriteString(digest.FromBytes(b).Encoded()[:8] + ":" + boolWord(err == nil) + " ")
		}
		if id := st.upload[name]; id != "" {
			u, err := repo.Blobs().ResumeUpload(ctx, id)
			if err != nil {
				out.WriteString("upload gone\n")
			} else {
				out.WriteString("upload size " + itoa(u.Size()) + "\n")
				if err := u.Close(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return out.String()
}

func boolWord(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// answer is what a client finally saw.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// presentation is how an identity presents its credentials.
type presentation int

const (
	// viaToken: the request without credentials first; on a Bearer
	// challenge, a token from the realm (GET, with Basic credentials when
	// the identity has them, as docker, oras and crane do), and the request
	// again with it. A refused token request is the answer.
	viaToken presentation = iota
	// viaBasic: Basic credentials on the request itself, as ACR accepts.
	viaBasic
)

// send makes one request as id presents itself and returns the last answer.
// A token request asks the challenge's scope and extraScopes, as docker and
// oras add pull on a mount's source repository.
func (st *stack) send(t testing.TB, id ident, how presentation, method, path, contentType string, body []byte, extraScopes ...string) answer {
	t.Helper()
	do := func(auth func(*http.Request)) answer {
		t.Helper()
		r, err := http.NewRequest(method, st.url+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body == nil {
			r.Body, r.ContentLength = http.NoBody, 0
		}
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if auth != nil {
			auth(r)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return answer{resp.StatusCode, resp.Header, b}
	}
	if how == viaBasic {
		return do(func(r *http.Request) { r.SetBasicAuth(id.user, id.pass) })
	}
	first := do(nil)
	if first.status != http.StatusUnauthorized {
		return first
	}
	ch := parseChallenge(first.header.Get("WWW-Authenticate"))
	if ch.scheme != "bearer" || ch.params["realm"] == "" {
		return first
	}
	q := url.Values{"service": {ch.params["service"]}}
	if sc := ch.params["scope"]; sc != "" {
		q.Add("scope", sc)
	}
	for _, sc := range extraScopes {
		q.Add("scope", sc)
	}
	tr, err := http.NewRequest(http.MethodGet, ch.params["realm"]+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if id.user != "" {
		tr.SetBasicAuth(id.user, id.pass)
	}
	resp, err := http.DefaultClient.Do(tr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	tb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return answer{resp.StatusCode, resp.Header, tb}
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(tb, &tok); err != nil || tok.Token == "" {
		t.Fatalf("token answer %s: %v", tb, err)
	}
	return do(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.Token) })
}

// challenge is a parsed WWW-Authenticate header.
type challenge struct {
	scheme string
	params map[string]string
}

func parseChallenge(h string) challenge {
	scheme, rest, _ := strings.Cut(h, " ")
	c := challenge{scheme: strings.ToLower(scheme), params: map[string]string{}}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				break
			}
			c.params[strings.ToLower(k)], rest = v[1:1+end], v[2+end:]
			continue
		}
		val, after, _ := strings.Cut(v, ",")
		c.params[strings.ToLower(k)], rest = val, after
	}
	return c
}
