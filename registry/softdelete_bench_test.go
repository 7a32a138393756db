package registry

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/policy"
)

// BenchmarkSoftDeleteManifest deletes tagged manifests one at a time by
// digest (what a client's DELETE does) on the embedded default, with soft
// delete off and on: two registries side by side, deleting in alternate
// runs of 50, so that the machine's load falls on both alike. It reports
// each one's time per delete and their ratio; the pushes are not timed.
func BenchmarkSoftDeleteManifest(b *testing.B) {
	ctx := context.Background()
	type side struct {
		repo  *Repository
		descs []ocispec.Descriptor
		took  time.Duration
	}
	sides := make([]*side, 2)
	for i, soft := range []bool{false, true} {
		r, err := Open(b.TempDir(), WithSweepInterval(0), WithSoftDeleteSweepInterval(0))
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		if _, err := r.SetSoftDelete(ctx, soft, 7); err != nil {
			b.Fatal(err)
		}
		repo := repoOf(b, r, "app")
		cfg := putBlob(b, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
		layer := putBlob(b, repo, ocispec.MediaTypeImageLayerGzip, []byte("layer"))
		sd := &side{repo: repo, descs: make([]ocispec.Descriptor, b.N)}
		for j := range b.N {
			d, err := repo.Manifests().Put(ctx, manifestOfSize(cfg, layer, 0, j), PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: fmt.Sprintf("t%d", j)})
			if err != nil {
				b.Fatal(err)
			}
			sd.descs[j] = d
		}
		sides[i] = sd
	}
	b.ResetTimer()
	const run = 50
	for from := 0; from < b.N; from += run {
		for _, sd := range sides {
			start := time.Now()
			for j := from; j < min(from+run, b.N); j++ {
				if err := sd.repo.Manifests().Delete(ctx, sd.descs[j].Digest); err != nil {
					b.Fatal(err)
				}
			}
			sd.took += time.Since(start)
		}
	}
	b.StopTimer()
	off, on := sides[0].took.Seconds()/float64(b.N), sides[1].took.Seconds()/float64(b.N)
	b.ReportMetric(off*1e6, "off-µs/delete")
	b.ReportMetric(on*1e6, "on-µs/delete")
	b.ReportMetric(on/off, "on/off")
}

// BenchmarkSoftDelete100k fills a repository with 100k untagged manifests
// (REGKIT_SOFT_N to change it) on the embedded default, soft-deletes them
// all with a purge, then lists them in pages of 100 (page: one page; the
// slowest page of a full pass is reported as max-ms/page) and expires them
// all (expire: one sweep). The fills are not timed. Beside them, the same
// purge with soft delete off (purge/soft=false), the baseline.
func BenchmarkSoftDelete100k(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("REGKIT_SOFT_N")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	purge := policy.Policy{Purge: &policy.Purge{UntaggedOnly: true}}
	clk := &clock{t: time.Now().UTC()}
	var soft *Registry
	base := b.TempDir() // outlives the sub-benchmarks, for the soft registry
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("purge/soft=%v", on), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				dir, err := os.MkdirTemp(base, "reg")
				if err != nil {
					b.Fatal(err)
				}
				r, err := Open(dir, WithSweepInterval(0), WithSoftDeleteSweepInterval(0), WithClock(clk.now))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.SetSoftDelete(ctx, on, 7); err != nil {
					b.Fatal(err)
				}
				fillUntagged(b, r, "app", n)
				b.StartTimer()
				start := time.Now()
				res, err := r.Purge(ctx, purge, PurgeOptions{Concurrency: 32})
				if err != nil || len(res.Deleted) != n {
					b.Fatalf("purge: %v, %v", res, err)
				}
				b.ReportMetric(float64(n)/time.Since(start).Seconds(), "manifests/s")
				b.StopTimer()
				if on && soft == nil {
					soft = r
				} else {
					r.Close()
				}
				b.StartTimer()
			}
		})
	}
	if soft == nil {
		return
	}
	defer soft.Close()
	repo := repoOf(b, soft, "app")
	b.Run("list/page=100", func(b *testing.B) {
		cursor := ""
		var worst time.Duration
		for range b.N {
			start := time.Now()
			page, next, err := repo.DeletedManifests(ctx, DeletedListOptions{Cursor: cursor, N: 100})
			if err != nil || len(page) == 0 {
				b.Fatalf("page: %d, %v", len(page), err)
			}
			worst = max(worst, time.Since(start))
			cursor = next
		}
		b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms/page")
	})
	b.Run("list/full-pass", func(b *testing.B) {
		for range b.N {
			// Three passes over every page; the page times' median, 99th
			// percentile and maximum.
			var times []time.Duration
			for range 3 {
				cursor, total := "", 0
				for {
					start := time.Now()
					page, next, err := repo.DeletedManifests(ctx, DeletedListOptions{Cursor: cursor, N: 100})
					if err != nil {
						b.Fatal(err)
					}
					times = append(times, time.Since(start))
					total += len(page)
					if next == "" {
						break
					}
					cursor = next
				}
				if total != n {
					b.Fatalf("listed %d of %d", total, n)
				}
			}
			slices.Sort(times)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(times[len(times)/2]), "median-ms/page")
			b.ReportMetric(ms(times[len(times)*99/100]), "p99-ms/page")
			b.ReportMetric(ms(times[len(times)-1]), "max-ms/page")
			b.ReportMetric(float64(len(times)), "pages")
		}
	})
	b.Run("expire", func(b *testing.B) {
		if b.N > 1 {
			b.Skip("one sweep only: it empties the store")
		}
		clk.add(8 * day)
		start := time.Now()
		st, err := soft.ExpireDeleted(ctx)
		if err != nil || st.Manifests != n {
			b.Fatalf("expire: %+v, %v", st, err)
		}
		el := time.Since(start)
		b.ReportMetric(el.Seconds(), "s/sweep")
		b.ReportMetric(float64(n)/el.Seconds(), "items/s")
	})
}
