package registry_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/registrytest"
)

// BenchmarkPullThroughHit: a manifest GET of a tag the artifact cache
// holds (a cache rule covers the repository, the tag within its TTL) beside
// a GET of a tag pushed locally, in the same registry (on disk, the
// embedded default), in process and over HTTP.
func BenchmarkPullThroughHit(b *testing.B) {
	ctx := context.Background()
	up := registrytest.New(b)
	img := pushImage(b, repoOf(b, up.Registry, "library/app").Target(), "linux/amd64", randBytes(1024))
	tagIn(b, repoOf(b, up.Registry, "library/app").Target(), img, "v1")
	srv := registrytest.NewWith(b, registrytest.Options{Dir: b.TempDir(),
		Registry: []registry.Option{registry.WithCacheUpstream(viaHTTP(http.DefaultTransport))}})
	reg := srv.Registry
	local := pushImage(b, repoOf(b, reg, "local/app").Target(), "linux/amd64", randBytes(1024))
	tagIn(b, repoOf(b, reg, "local/app").Target(), local, "v1")
	if _, err := reg.SetCacheRule(ctx, registry.CacheRule{Name: "app", TargetRepository: "cached/app",
		SourceRepository: up.Host + "/library/app"}); err != nil {
		b.Fatal(err)
	}
	if _, err := repoOf(b, reg, "cached/app").Manifests().Get(ctx, "v1", registry.GetOptions{}); err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"local/app", "cached/app"} {
		b.Run("inprocess/"+name, func(b *testing.B) {
			ms := repoOf(b, reg, name).Manifests()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ms.Get(ctx, "v1", registry.GetOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	for _, name := range []string{"local/app", "cached/app"} {
		b.Run("http/"+name, func(b *testing.B) {
			url := srv.URL + "/v2/" + name + "/manifests/v1"
			b.ReportAllocs()
			for b.Loop() {
				resp, err := hc.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatal(resp.Status)
				}
			}
		})
	}
}
