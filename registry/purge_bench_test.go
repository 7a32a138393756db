package registry

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/policy"
)

// fillUntagged pushes n small untagged manifests into repository name with
// 8 writers, all over one config and one layer.
func fillUntagged(b *testing.B, r *Registry, name string, n int) {
	ctx := context.Background()
	repo := repoOf(b, r, name)
	cfg := putBlob(b, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
	layer := putBlob(b, repo, ocispec.MediaTypeImageLayerGzip, []byte("layer"))
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if _, err := repo.Manifests().Put(ctx, manifestOfSize(cfg, layer, 0, i), PutOptions{MediaType: ocispec.MediaTypeImageManifest}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkPurge100k deletes 100k untagged manifests with an untagged-only
// purge on the embedded default (Open: bbolt behind its log, synced), the
// figure of docs/PERFORMANCE.md. The fill is not timed.
func BenchmarkPurge100k(b *testing.B) {
	const n = 100_000
	for range b.N {
		b.StopTimer()
		r, err := Open(b.TempDir(), WithSweepInterval(0))
		if err != nil {
			b.Fatal(err)
		}
		fillUntagged(b, r, "app", n)
		b.StartTimer()
		start := time.Now()
		res, err := r.Purge(context.Background(), policy.Policy{Purge: &policy.Purge{UntaggedOnly: true}}, PurgeOptions{Concurrency: 32})
		if err != nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		if len(res.Deleted) != n {
			b.Fatalf("deleted %d of %d", len(res.Deleted), n)
		}
		b.ReportMetric(float64(n)/el.Seconds(), "manifests/s")
		b.StopTimer()
		r.Close()
	}
}

// BenchmarkRetentionSweep100k sweeps 100k expired untagged manifests,
// spread over 100 repositories, on the embedded default.
func BenchmarkRetentionSweep100k(b *testing.B) {
	const n, repos = 100_000, 100
	for range b.N {
		b.StopTimer()
		clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		r, err := Open(b.TempDir(), WithClock(clk.now), WithSweepInterval(0))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.SetRetention(context.Background(), true, 1); err != nil {
			b.Fatal(err)
		}
		clk.add(time.Second)
		for i := range repos {
			fillUntagged(b, r, fmt.Sprintf("team/app%d", i), n/repos)
		}
		clk.add(2 * day)
		b.StartTimer()
		start := time.Now()
		res, err := r.SweepRetention(context.Background(), PurgeOptions{Concurrency: 32})
		if err != nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		if len(res.Deleted) != n {
			b.Fatalf("deleted %d of %d", len(res.Deleted), n)
		}
		b.ReportMetric(el.Seconds(), "s/sweep")
		b.StopTimer()
		r.Close()
	}
}
