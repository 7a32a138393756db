package token_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"syscall"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/access"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/token"
)

// Figures of the token service on the real access model (argon2id
// passwords at their default cost), each beside its baseline in the same
// run. See docs/PERFORMANCE.md.

// BenchmarkManifestGETAuth: manifest GETs by tag over a loopback server
// from 16 concurrent clients, each on its own kept-alive connection:
// anonymous (anonymous pull on: the baseline), with a Bearer token of the
// puller, and with the puller's Basic credentials on every request (a
// password verified recently, so from the credential cache).
func BenchmarkManifestGETAuth(b *testing.B) {
	srv := newMatrixServer(b)
	st := newStack(b, srv, newContent(b), true, access.DefaultHashParams)
	const clients = 16
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	url := st.url + "/v2/team/app/manifests/v1"

	// The puller's token, from the token endpoint as a client gets it.
	r, _ := http.NewRequest(http.MethodGet, st.url+"/oauth2/token?scope=repository:team/app:pull", nil)
	r.SetBasicAuth("puller", st.pw["puller"])
	resp, err := client.Do(r)
	if err != nil {
		b.Fatal(err)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.Token == "" {
		b.Fatalf("token: %v", err)
	}
	resp.Body.Close()

	type variant struct {
		name string
		auth func(*http.Request)
	}
	variants := []variant{
		{"anonymous", func(*http.Request) {}},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.Token) }},
		{"basic-cached", func(r *http.Request) { r.SetBasicAuth("puller", st.pw["puller"]) }},
	}
	// Each variant runs twice, in the order A B C C B A (the second run of
	// each is named NAME#01), since on a loaded machine the position in
	// the run sways the figure more than the credentials do: pool both.
	reversed := slices.Clone(variants)
	slices.Reverse(reversed)
	for _, c := range append(slices.Clone(variants), reversed...) {
		b.Run(c.name, func(b *testing.B) {
			b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r, _ := http.NewRequest(http.MethodGet, url, nil)
					r.Header.Set("Accept", ocispec.MediaTypeImageManifest)
					c.auth(r)
					resp, err := client.Do(r)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			// CPU time of the process (clients and server) per request:
			// steadier than wall time on a machine shared with other work.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime returns the CPU time the process has used, user and system, in
// nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkTokenEndpointAccess: GET /oauth2/token with Basic credentials
// and one scope, through the handler (no network), as
// BenchmarkTokenEndpoint/ES256/endpoint measures it with a fake authority
// (a map lookup; run in the same command for the baseline). access-cached:
// the real access model with a password verified recently. fake: the same
// request on a Static authority, here too. access-uncached: every request
// hashes the password with argon2id (the cache off), for information.
func BenchmarkTokenEndpointAccess(b *testing.B) {
	srv := newMatrixServer(b)
	st := newStack(b, srv, newContent(b), false, access.DefaultHashParams)
	cached, err := token.New(token.WithAuthority(st.acc.StringAuthority()), token.WithService("bench.test"))
	if err != nil {
		b.Fatal(err)
	}
	// The same model with the credential cache off.
	noCache, err := access.New(context.Background(), st.reg, access.WithCacheSize(0))
	if err != nil {
		b.Fatal(err)
	}
	uncached, err := token.New(token.WithAuthority(noCache.StringAuthority()), token.WithService("bench.test"))
	if err != nil {
		b.Fatal(err)
	}
	fake, err := token.New(token.WithAuthority(token.Static{Users: map[string]token.StaticUser{
		"puller": {Password: st.pw["puller"], Rights: map[string][]string{"team/app": {token.RightContentRead, token.RightMetadataRead}}},
	}}), token.WithService("bench.test"))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		svc  *token.Service
	}{{"fake", fake}, {"access-cached", cached}, {"access-uncached", uncached}} {
		b.Run(c.name, func(b *testing.B) {
			h := c.svc.Handler()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest(http.MethodGet, "http://bench.test/oauth2/token?service=bench.test&scope=repository:team/app:pull", nil)
					r.SetBasicAuth("puller", st.pw["puller"])
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Errorf("status %d: %s", w.Code, w.Body)
						return
					}
				}
			})
		})
	}
}

// BenchmarkAuthorizeAccess: what the Authorizer alone costs a manifest GET
// on the real access model, without the network or the registry: the
// anonymous caller (anonymous pull on), a Bearer token from the
// verified-token cache, and Basic credentials from the credential cache.
func BenchmarkAuthorizeAccess(b *testing.B) {
	srv := newMatrixServer(b)
	st := newStack(b, srv, newContent(b), true, access.DefaultHashParams)
	ctx := context.Background()
	svc, err := token.New(token.WithAuthority(st.acc.StringAuthority()), token.WithService("bench.test"))
	if err != nil {
		b.Fatal(err)
	}
	sub, err := st.acc.Authenticate(ctx, "puller", st.pw["puller"])
	if err != nil {
		b.Fatal(err)
	}
	tok, _, err := svc.IssueAccess(ctx, sub, "bench.test", []token.Scope{{Type: "repository", Name: "team/app", Actions: []string{"pull"}}})
	if err != nil {
		b.Fatal(err)
	}
	acc := httpapi.Access{Repository: "team/app", Actions: []httpapi.Action{httpapi.ActionPull, httpapi.ActionContentRead}}
	az := svc.Authorizer()
	for _, c := range []struct {
		name string
		auth func(*http.Request)
	}{
		{"anonymous", func(*http.Request) {}},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }},
		{"basic-cached", func(r *http.Request) { r.SetBasicAuth("puller", st.pw["puller"]) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "http://bench.test/v2/team/app/manifests/v1", nil)
			c.auth(r)
			b.ReportAllocs()
			for b.Loop() {
				if err := az.Authorize(ctx, r, acc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
