package registry

import (
	"context"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	blobfs "github.com/regkit/regkit/blob/fs"
	"github.com/regkit/regkit/registry/meta/bolt"
)

// BenchmarkTagHistory: the cost of recording tag moves. Each iteration
// moves a tag in two registries of the same kind, one with the history off
// and one with it on (the default), in alternating order, and times each,
// so that both see the same machine load: off-ns/op and on-ns/op, and
// on/off their ratio. "set" moves a tag between two stored manifests
// (Tags.Set); "push" pushes a new manifest under a tag that moves every
// time (its blobs are linked already). Every move with the history on is
// recorded, and the tag's history grows with b.N, as a hot tag's does.
// The embedded registries are what Open builds (bbolt behind its log,
// synced every commit).
func BenchmarkTagHistory(b *testing.B) {
	for _, op := range []string{"set", "push"} {
		for _, backend := range []string{"memory", "embedded"} {
			b.Run(op+"/"+backend, func(b *testing.B) {
				off := benchHistoryMover(b, backend, op, 0)
				on := benchHistoryMover(b, backend, op, DefaultTagHistory)
				var tOff, tOn time.Duration
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if i%2 == 0 {
						tOff += off(i)
						tOn += on(i)
					} else {
						tOn += on(i)
						tOff += off(i)
					}
				}
				b.ReportMetric(float64(tOff.Nanoseconds())/float64(b.N), "off-ns/op")
				b.ReportMetric(float64(tOn.Nanoseconds())/float64(b.N), "on-ns/op")
				b.ReportMetric(float64(tOn)/float64(tOff), "on/off")
			})
		}
	}
}

// benchHistoryMover opens a registry of backend with the tag history
// window history and returns a function that makes move i of op and says
// how long it took.
func benchHistoryMover(b *testing.B, backend, op string, history time.Duration) func(i int) time.Duration {
	opts := []Option{WithTagHistory(history), WithSweepInterval(0)}
	var r *Registry
	var err error
	if backend == "memory" {
		r, err = NewMemory(opts...)
	} else {
		dir := b.TempDir()
		blobs, berr := blobfs.Open(dir + "/blobs")
		if berr != nil {
			b.Fatal(berr)
		}
		store, serr := bolt.Open(dir+"/meta.db", bolt.WithLog())
		if serr != nil {
			b.Fatal(serr)
		}
		b.Cleanup(func() { store.Close() })
		r, err = New(blobs, store, opts...)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	ctx := context.Background()
	repo := repoOf(b, r, "bench")
	cfg := putBlob(b, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
	layer := putBlob(b, repo, ocispec.MediaTypeImageLayerGzip, randomBytes(b, 256))
	put := func(n int) {
		if _, err := repo.Manifests().Put(ctx, manifestOfSize(cfg, layer, 1024, n), PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: "latest"}); err != nil {
			b.Fatal(err)
		}
	}
	put(-1)
	put(-2)
	ds := []digest.Digest{digest.FromBytes(manifestOfSize(cfg, layer, 1024, -1)), digest.FromBytes(manifestOfSize(cfg, layer, 1024, -2))}
	return func(i int) time.Duration {
		start := time.Now()
		if op == "push" {
			put(i)
		} else if err := repo.Tags().Set(ctx, "latest", ds[i%2], SetOptions{}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
}
