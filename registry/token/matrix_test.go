package token_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The authorization matrix: every /v2/ and /acr/v1/ route against every
// kind of caller, through the real stack (registry, access model, token
// service, handler, loopback server), with the status each cell must
// answer written out. Every cell runs on a fresh stack. A refused request
// must leave the registry as it found it, and a refusal on a repository
// that does not exist must read exactly like one on a repository that
// exists but the caller may not read.

// identities are the matrix's columns, in order. Tokens are bound to
// scope maps on team/app: puller (content/read, metadata/read), pusher
// (content/read, content/write, as ACR's _repositories_push), elsewhere
// (every action on other/app only), disabled and expired (every action on
// team/app, but the token is disabled, or its only password expired).
func identities(st *stack) []ident {
	return []ident{
		{name: "admin", user: adminUser, pass: adminPass},
		{name: "pull", user: "puller", pass: st.pw["puller"]},
		{name: "push", user: "pusher", pass: st.pw["pusher"]},
		{name: "other", user: "elsewhere", pass: st.pw["elsewhere"]},
		{name: "disabled", user: "disabled", pass: st.pw["disabled"]},
		{name: "expired", user: "expired", pass: st.pw["expired"]},
		{name: "anon-on", anonymous: true},
		{name: "anon-off"},
	}
}

// The columns of matrixRoute.token, and the first six are those of
// matrixRoute.basic.
const (
	colAdmin = iota
	colPull
	colPush
	colOther
	colDisabled
	colExpired
	colAnonOn
	colAnonOff
	nCols
	nBasicCols = colAnonOn
)

// matrixRoute is one row: a request and what each identity gets.
type matrixRoute struct {
	name   string
	method string
	// path holds {repo} and the fixture's {m1}, {m2}, {m3}, {layer},
	// {extra}, {new}, {partial}, {source} digests and {upload}.
	path        string
	contentType string
	body        func(c fixtureContent) []byte
	// scopes are asked for beside the challenge's in the token flow.
	scopes []string
	// unseen marks a change the snapshot cannot see (a new upload
	// session); every other successful write must show in it.
	unseen bool
	// token: each identity through the token flow (viaToken), in the
	// order admin, pull, push, other, disabled, expired, anonymous with
	// anonymous pull on, anonymous with it off.
	token [nCols]int
	// basic: the first six identities with Basic credentials on the
	// request itself (viaBasic).
	basic [nBasicCols]int
}

func bytesOf(b func(c fixtureContent) []byte) func(c fixtureContent) []byte { return b }

var (
	manifestBody = bytesOf(func(c fixtureContent) []byte { return c.m3 })
	newBlobBody  = bytesOf(func(c fixtureContent) []byte { return c.newBlob })
	chunkBody    = bytesOf(func(fixtureContent) []byte { return []byte("another chunk") })
	lockBody     = bytesOf(func(fixtureContent) []byte { return []byte(`{"deleteEnabled":false,"writeEnabled":false}`) })
)

// Statuses, named for the table.
const (
	s200 = http.StatusOK
	s201 = http.StatusCreated
	s202 = http.StatusAccepted
	s204 = http.StatusNoContent
	s401 = http.StatusUnauthorized
)

//nolint:lll // the table reads best one row a line
var matrixRoutes = []matrixRoute{
	//                                                                                               admin  pull  push other disab expir anonOn anonOff     admin  pull  push other disab expir
	{name: "v2 base", method: "GET", path: "/v2/", token: [nCols]int{s200, s200, s200, s200, s401, s401, s200, s200}, basic: [nBasicCols]int{s200, s200, s200, s200, s401, s401}},
	{name: "v2 catalog", method: "GET", path: "/v2/_catalog", token: [nCols]int{s200, s401, s401, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s401, s401, s401, s401, s401}},
	// The /v2/ challenge names pull, which the pusher's token then
	// carries, but listing needs metadata/read: 401 naming metadata_read,
	// as ACR answers (TestMissingRightChallenge). With anonymous
	// pull on, the anonymous caller lists the catalog and tags and reads
	// properties, as on ACR (its SDKs' anonymous live tests).
	{name: "tags list", method: "GET", path: "/v2/{repo}/tags/list", token: [nCols]int{s200, s200, s401, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s200, s401, s401, s401, s401}},
	{name: "manifest GET tag", method: "GET", path: "/v2/{repo}/manifests/v1", token: [nCols]int{s200, s200, s200, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s200, s200, s401, s401, s401}},
	{name: "manifest HEAD tag", method: "HEAD", path: "/v2/{repo}/manifests/v1", token: [nCols]int{s200, s200, s200, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s200, s200, s401, s401, s401}},
	{name: "manifest GET digest", method: "GET", path: "/v2/{repo}/manifests/{m1}", token: [nCols]int{s200, s200, s200, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s200, s200, s401, s401, s401}},
	{name: "manifest HEAD digest", method: "HEAD", path: "/v2/{repo}/manifests/{m1}", token: [nCols]int{s200, s200, s200, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s200, s200, s401, s401, s401}},
	{name: "manifest PUT tag", method: "PUT", path: "/v2/{repo}/manifests/v9", contentType: ocispec.MediaTypeImageManifest, body: manifestBody, token: [nCols]int{s201, s401, s201, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s201, s401, s201, s401, s401, s401}},
	{name: "manifest PUT digest", method: "PUT", path: "/v2/{repo}/manifests/{m3}", contentType: ocispec.MediaTypeImageManifest, body: manifestBody, token: [nCols]int{s201, s401, s201, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s201, s401, s201, s401, s401, s401}},
	{name: "manifest DELETE tag", method: "DELETE", path: "/v2/{repo}/manifests/v2", token: [nCols]int{s202, s401, s401, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s202, s401, s401, s401, s401, s401}},
	{name: "manifest DELETE digest", method: "DELETE", path: "/v2/{repo}/manifests/{m2}", token: [nCols]int{s202, s401, s401, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s202, s401, s401, s401, s401, s401}},
	{name: "blob GET", method: "GET", path: "/v2/{repo}/blobs/{layer}", token: [nCols]int{s200, s200, s200, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s200, s200, s401, s401, s401}},
	{name: "blob HEAD", method: "HEAD", path: "/v2/{repo}/blobs/{layer}", token: [nCols]int{s200, s200, s200, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s200, s200, s401, s401, s401}},
	{name: "blob DELETE", method: "DELETE", path: "/v2/{repo}/blobs/{extra}", token: [nCols]int{s202, s401, s401, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s202, s401, s401, s401, s401, s401}},
	{name: "upload POST", method: "POST", path: "/v2/{repo}/blobs/uploads/", unseen: true, token: [nCols]int{s202, s401, s202, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s202, s401, s202, s401, s401, s401}},
	{name: "upload POST monolithic", method: "POST", path: "/v2/{repo}/blobs/uploads/?digest={new}", contentType: "application/octet-stream", body: newBlobBody, token: [nCols]int{s201, s401, s201, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s201, s401, s201, s401, s401, s401}},
	{name: "upload PATCH", method: "PATCH", path: "/v2/{repo}/blobs/uploads/{upload}", contentType: "application/octet-stream", body: chunkBody, token: [nCols]int{s202, s401, s202, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s202, s401, s202, s401, s401, s401}},
	{name: "upload PUT", method: "PUT", path: "/v2/{repo}/blobs/uploads/{upload}?digest={partial}", token: [nCols]int{s201, s401, s201, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s201, s401, s201, s401, s401, s401}},
	{name: "upload GET", method: "GET", path: "/v2/{repo}/blobs/uploads/{upload}", token: [nCols]int{s204, s401, s204, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s204, s401, s204, s401, s401, s401}},
	{name: "upload DELETE", method: "DELETE", path: "/v2/{repo}/blobs/uploads/{upload}", token: [nCols]int{s204, s401, s204, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s204, s401, s204, s401, s401, s401}},
	// The client asks pull on the source with the challenge's scope, as
	// docker and oras do. The pusher may not read other/app, so its mount
	// falls back to an upload session (202), as the spec says; the admin's
	// links the blob (201).
	{name: "mount", method: "POST", path: "/v2/{repo}/blobs/uploads/?mount={source}&from=other/app", scopes: []string{"repository:other/app:pull"}, token: [nCols]int{s201, s401, s202, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s201, s401, s202, s401, s401, s401}},
	{name: "referrers", method: "GET", path: "/v2/{repo}/referrers/{m1}", token: [nCols]int{s200, s200, s401, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s200, s401, s401, s401, s401}},

	{name: "acr catalog", method: "GET", path: "/acr/v1/_catalog", token: [nCols]int{s200, s401, s401, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s401, s401, s401, s401, s401}},
	{name: "acr repository GET", method: "GET", path: "/acr/v1/{repo}", token: [nCols]int{s200, s200, s401, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s200, s401, s401, s401, s401}},
	{name: "acr repository PATCH", method: "PATCH", path: "/acr/v1/{repo}", contentType: "application/json", body: lockBody, token: [nCols]int{s200, s401, s401, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s200, s401, s401, s401, s401, s401}},
	{name: "acr repository DELETE", method: "DELETE", path: "/acr/v1/{repo}", token: [nCols]int{s202, s401, s401, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s202, s401, s401, s401, s401, s401}},
	{name: "acr tags list", method: "GET", path: "/acr/v1/{repo}/_tags", token: [nCols]int{s200, s200, s401, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s200, s401, s401, s401, s401}},
	{name: "acr tag GET", method: "GET", path: "/acr/v1/{repo}/_tags/v1", token: [nCols]int{s200, s200, s401, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s200, s401, s401, s401, s401}},
	{name: "acr tag PATCH", method: "PATCH", path: "/acr/v1/{repo}/_tags/v1", contentType: "application/json", body: lockBody, token: [nCols]int{s200, s401, s401, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s200, s401, s401, s401, s401, s401}},
	{name: "acr tag DELETE", method: "DELETE", path: "/acr/v1/{repo}/_tags/v2", token: [nCols]int{s202, s401, s401, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s202, s401, s401, s401, s401, s401}},
	{name: "acr manifests list", method: "GET", path: "/acr/v1/{repo}/_manifests", token: [nCols]int{s200, s200, s401, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s200, s401, s401, s401, s401}},
	{name: "acr manifest GET", method: "GET", path: "/acr/v1/{repo}/_manifests/{m1}", token: [nCols]int{s200, s200, s401, s401, s401, s401, s200, s401}, basic: [nBasicCols]int{s200, s200, s401, s401, s401, s401}},
	{name: "acr manifest PATCH", method: "PATCH", path: "/acr/v1/{repo}/_manifests/{m1}", contentType: "application/json", body: lockBody, token: [nCols]int{s200, s401, s401, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s200, s401, s401, s401, s401, s401}},
	{name: "acr manifest DELETE", method: "DELETE", path: "/acr/v1/{repo}/_manifests/{m2}", token: [nCols]int{s202, s401, s401, s401, s401, s401, s401, s401}, basic: [nBasicCols]int{s202, s401, s401, s401, s401, s401}},
}

// expand fills a route's path for repository repo of st.
func (st *stack) expand(path, repo string) string {
	c := st.c
	d := func(b []byte) string { return digest.FromBytes(b).String() }
	uploadOf := st.upload[repo]
	if uploadOf == "" {
		// A repository without a session (ghostRepo) is asked about
		// secret/app's, which it cannot hold.
		uploadOf = st.upload["secret/app"]
	}
	return strings.NewReplacer(
		"{repo}", repo,
		"{m1}", d(c.m1), "{m2}", d(c.m2), "{m3}", d(c.m3),
		"{layer}", d(c.layer), "{extra}", d(c.extra), "{new}", d(c.newBlob),
		"{partial}", d(c.partial), "{source}", d(c.source),
		"{upload}", uploadOf,
	).Replace(path)
}

func (rt matrixRoute) bodyOf(c fixtureContent) []byte {
	if rt.body == nil {
		return nil
	}
	return rt.body(c)
}

func refused(status int) bool { return status == s401 || status == http.StatusForbidden }

// cell runs one route for one identity on a fresh stack and checks that a
// refusal changed nothing. It returns the answer.
func runCell(t *testing.T, srv *matrixServer, c fixtureContent, rt matrixRoute, col int, how presentation, repo string) answer {
	t.Helper()
	st := newStack(t, srv, c, col == colAnonOn, testHash)
	id := identities(st)[col]
	before := st.snapshot(t)
	a := st.send(t, id, how, rt.method, st.expand(rt.path, repo), rt.contentType, rt.bodyOf(c), rt.scopes...)
	after := st.snapshot(t)
	switch {
	case refused(a.status) && after != before:
		t.Errorf("%s as %s on %s: refused with %d but the registry changed:\nbefore %s\nafter  %s", rt.name, id.name, repo, a.status, before, after)
	case col == colAdmin && a.status < 300 && !rt.unseen && rt.method != http.MethodGet && rt.method != http.MethodHead && after == before:
		// The snapshot must see what a write does, or it proves nothing.
		t.Errorf("%s as admin on %s: %d but the snapshot did not change", rt.name, repo, a.status)
	}
	return a
}

func TestAuthorizationMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the matrix builds a stack per cell")
	}
	srv := newMatrixServer(t)
	c := newContent(t)
	names := identities(&stack{pw: map[string]string{}})
	for _, rt := range matrixRoutes {
		t.Run(rt.name, func(t *testing.T) {
			for col := range nCols {
				a := runCell(t, srv, c, rt, col, viaToken, "team/app")
				if a.status != rt.token[col] {
					t.Errorf("%s %s as %s through a token: %d, want %d; %s", rt.method, rt.path, names[col].name, a.status, rt.token[col], clipBody(a.body))
				}
			}
			for col := range nBasicCols {
				a := runCell(t, srv, c, rt, col, viaBasic, "team/app")
				if a.status != rt.basic[col] {
					t.Errorf("%s %s as %s with Basic: %d, want %d; %s", rt.method, rt.path, names[col].name, a.status, rt.basic[col], clipBody(a.body))
				}
			}
		})
	}
}

// TestRefusalsRevealNothing: every identity but the admin, on every route,
// on secret/app (exists, only the admin may read it) and on ghost/app
// (does not exist). Where the first is refused, the second must be
// refused with the same status, challenge and body, the repository's name
// aside.
func TestRefusalsRevealNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a stack per cell")
	}
	srv := newMatrixServer(t)
	c := newContent(t)
	names := identities(&stack{pw: map[string]string{}})
	hows := []struct {
		name string
		how  presentation
		cols int
	}{{"token", viaToken, nCols}, {"basic", viaBasic, nBasicCols}}
	for _, rt := range matrixRoutes {
		if !strings.Contains(rt.path, "{repo}") {
			continue
		}
		t.Run(rt.name, func(t *testing.T) {
			for _, h := range hows {
				for col := colPull; col < h.cols; col++ {
					secret := runCell(t, srv, c, rt, col, h.how, "secret/app")
					if !refused(secret.status) {
						if col != colAnonOn {
							t.Errorf("%s as %s (%s) on secret/app: %d, want a refusal", rt.name, names[col].name, h.name, secret.status)
						}
						continue
					}
					ghost := runCell(t, srv, c, rt, col, h.how, ghostRepo)
					same := func(what, s, g string) {
						if strings.ReplaceAll(s, "secret/app", ghostRepo) != g {
							t.Errorf("%s as %s (%s): %s differs:\nsecret/app %s\nghost/app  %s", rt.name, names[col].name, h.name, what, s, g)
						}
					}
					same("status", itoa(int64(secret.status)), itoa(int64(ghost.status)))
					same("challenge", secret.header.Get("WWW-Authenticate"), ghost.header.Get("WWW-Authenticate"))
					same("content type", secret.header.Get("Content-Type"), ghost.header.Get("Content-Type"))
					same("body", string(secret.body), string(ghost.body))
				}
			}
		})
	}
}

func clipBody(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
