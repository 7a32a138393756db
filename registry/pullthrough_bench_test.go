package registry_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

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
	get := func(b *testing.B, url string) {
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
	// Interleaved: blocks of local and cached reads alternate, so both see
	// the same load on a shared machine; the metrics are ns per read of
	// each and their ratio.
	for _, c := range []struct {
		name  string
		block int
		read  func(b *testing.B, name string)
	}{
		{"interleaved/inprocess", 256, func(b *testing.B, name string) {
			if _, err := repoOf(b, reg, name).Manifests().Get(ctx, "v1", registry.GetOptions{}); err != nil {
				b.Fatal(err)
			}
		}},
		{"interleaved/http", 8, func(b *testing.B, name string) { get(b, srv.URL+"/v2/"+name+"/manifests/v1") }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var spent [2]time.Duration
			n := 0
			for b.Loop() {
				for i, name := range []string{"local/app", "cached/app"} {
					start := time.Now()
					for range c.block {
						c.read(b, name)
					}
					spent[i] += time.Since(start)
				}
				n += c.block
			}
			b.ReportMetric(float64(spent[0].Nanoseconds())/float64(n), "ns/local")
			b.ReportMetric(float64(spent[1].Nanoseconds())/float64(n), "ns/cached")
			b.ReportMetric(float64(spent[1])/float64(spent[0]), "cached/local")
		})
	}
	for _, name := range []string{"local/app", "cached/app"} {
		b.Run("http/"+name, func(b *testing.B) {
			url := srv.URL + "/v2/" + name + "/manifests/v1"
			b.ReportAllocs()
			for b.Loop() {
				get(b, url)
			}
		})
	}
}
