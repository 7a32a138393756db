package token

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/regkit/regkit/registry/httpapi"
)

// benchAuthority is the fast fake Authority of the benchmarks: a map
// lookup, like a store that keeps verified password hashes in memory
// (a cached password), so the figures measure the token service itself.
func benchAuthority() Static {
	return Static{Users: map[string]StaticUser{
		"ci": {Password: "ci-password", Rights: map[string][]string{"*": repositoryRights}},
	}}
}

func benchService(b *testing.B, alg Algorithm) *Service {
	b.Helper()
	s, err := New(WithAuthority(benchAuthority()), WithService("bench.test"), WithAlgorithm(alg))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkTokenEndpoint: GET /oauth2/token with Basic credentials and one
// scope, through the handler (no network). Baseline: signing the same
// claims alone.
func BenchmarkTokenEndpoint(b *testing.B) {
	for _, alg := range []Algorithm{ES256, EdDSA} {
		s := benchService(b, alg)
		b.Run(string(alg)+"/sign-only", func(b *testing.B) {
			k := s.keys.signer()
			c := s.claims("ci", "bench.test", grantAccess, s.lifetime)
			c.Access = []Grant{{Type: "repository", Name: "team/app", Actions: []string{"pull", "push"}}}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := k.sign(c); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run(string(alg)+"/endpoint", func(b *testing.B) {
			h := s.Handler()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest(http.MethodGet, "http://bench.test/oauth2/token?service=bench.test&scope=repository:team/app:pull,push", nil)
					r.SetBasicAuth("ci", "ci-password")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Errorf("status %d", w.Code)
						return
					}
				}
			})
		})
	}
}

// BenchmarkAuthorizer: the cost per request of checking a Bearer token,
// from the verified-token cache (the many requests of one pull) and
// without it (a token's first request: the signature check). Baseline:
// httpapi.AllowAll.
func BenchmarkAuthorizer(b *testing.B) {
	acc := httpapi.Access{Repository: "team/app", Actions: []httpapi.Action{httpapi.ActionPull, httpapi.ActionContentRead}}
	req := func(tok string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "http://bench.test/v2/team/app/blobs/sha256:x", nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		return r
	}
	b.Run("allow-all", func(b *testing.B) {
		a := httpapi.AllowAll()
		r := req("")
		for b.Loop() {
			if err := a.Authorize(context.Background(), r, acc); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, alg := range []Algorithm{ES256, EdDSA} {
		s := benchService(b, alg)
		tok, _, err := s.IssueAccess(context.Background(), "ci", "bench.test", []Scope{{Type: "repository", Name: "team/app", Actions: []string{"pull"}}})
		if err != nil {
			b.Fatal(err)
		}
		a := s.Authorizer()
		b.Run(string(alg)+"/cached", func(b *testing.B) {
			r := req(tok)
			b.ReportAllocs()
			for b.Loop() {
				if err := a.Authorize(context.Background(), r, acc); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(alg)+"/uncached", func(b *testing.B) {
			r := req(tok)
			b.ReportAllocs()
			for b.Loop() {
				s.cache.clear()
				if err := a.Authorize(context.Background(), r, acc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
