package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	blobfs "github.com/regkit/regkit/blob/fs"
	"github.com/regkit/regkit/registry/meta/bolt"
)

// benchBackends gives benchmarks a memory registry and the embedded one.
// The embedded one is what Open builds (bbolt behind its write-ahead log) and
// syncs every commit, as in production, unless noSync.
func benchBackends(b *testing.B, noSync bool, fn func(b *testing.B, r *Registry), opts ...Option) {
	b.Run("memory", func(b *testing.B) {
		r, err := NewMemory(opts...)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		fn(b, r)
	})
	b.Run("embedded", func(b *testing.B) {
		dir := b.TempDir()
		blobs, err := blobfs.Open(dir + "/blobs")
		if err != nil {
			b.Fatal(err)
		}
		bopts := []bolt.Option{bolt.WithLog()}
		if noSync {
			bopts = append(bopts, bolt.WithNoSync())
		}
		store, err := bolt.Open(dir+"/meta.db", bopts...)
		if err != nil {
			b.Fatal(err)
		}
		defer store.Close()
		r, err := New(blobs, store, opts...)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		fn(b, r)
	})
}

// manifestOfSize builds an image manifest of about size bytes over the
// given blobs, padded with an annotation.
func manifestOfSize(cfg, layer ocispec.Descriptor, size int, n int) []byte {
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: cfg, Layers: []ocispec.Descriptor{layer},
		Annotations: map[string]string{"n": fmt.Sprint(n)},
	}
	b, _ := json.Marshal(m)
	if pad := size - len(b) - 16; pad > 0 {
		m.Annotations["pad"] = strings.Repeat("x", pad)
		b, _ = json.Marshal(m)
	}
	return b
}

// BenchmarkResolveAndRead: resolve a tag and read a 2 KiB manifest
// in-process (the hot path of every pull), through the metadata store
// ("uncached") and with the manifest cache on (the default).
func BenchmarkResolveAndRead(b *testing.B) {
	for _, c := range []struct {
		name string
		opts []Option
	}{{"uncached", []Option{WithManifestCache(0)}}, {"cached", nil}} {
		b.Run(c.name, func(b *testing.B) {
			benchBackends(b, false, func(b *testing.B, r *Registry) {
				ctx := context.Background()
				repo := repoOf(b, r, "bench/app")
				cfg := putBlob(b, repo, ocispec.MediaTypeImageConfig, []byte(`{"os":"linux","architecture":"amd64"}`))
				layer := putBlob(b, repo, ocispec.MediaTypeImageLayerGzip, randomBytes(b, 1024))
				body := manifestOfSize(cfg, layer, 2048, 0)
				if _, err := repo.Manifests().Put(ctx, body, PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: "latest"}); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					m, err := repo.Manifests().Get(ctx, "latest", GetOptions{})
					if err != nil || len(m.Bytes) != len(body) {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
			}, c.opts...)
		})
	}
}

// BenchmarkTagPage: list one page of 100 tags from the middle of a
// repository holding 10k manifests and 10k tags.
func BenchmarkTagPage(b *testing.B) {
	for _, size := range []int{1000, 10000} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			benchBackends(b, true, func(b *testing.B, r *Registry) {
				ctx := context.Background()
				repo := repoOf(b, r, "bench/many")
				cfg := putBlob(b, repo, ocispec.MediaTypeImageConfig, []byte(`{}`))
				layer := putBlob(b, repo, ocispec.MediaTypeImageLayerGzip, randomBytes(b, 64))
				for i := 0; i < size; i++ {
					body := manifestOfSize(cfg, layer, 0, i)
					if _, err := repo.Manifests().Put(ctx, body, PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: fmt.Sprintf("v%06d", i)}); err != nil {
						b.Fatal(err)
					}
				}
				last := fmt.Sprintf("v%06d", size/2)
				b.ResetTimer()
				for b.Loop() {
					page, err := repo.Tags().List(ctx, ListOptions{Last: last, N: 100})
					if err != nil || len(page) != 100 {
						b.Fatal(len(page), err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/page")
			})
		})
	}
}

// BenchmarkCollect: one garbage collection over 100k blobs and 10k
// manifests (in memory; 90k of the blobs unreferenced and past grace).
func BenchmarkCollect(b *testing.B) {
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	for b.Loop() {
		b.StopTimer()
		r, _ := NewMemory(WithClock(clk.now), WithGracePeriod(time.Minute))
		repo := repoOf(b, r, "bench/gc")
		cfg := putBlob(b, repo, ocispec.MediaTypeImageConfig, []byte(`{}`))
		for i := 0; i < 100_000; i++ {
			layer := putBlob(b, repo, ocispec.MediaTypeImageLayerGzip, []byte(fmt.Sprintf("layer %d", i)))
			if i%10 == 0 {
				body := manifestOfSize(cfg, layer, 0, i)
				if _, err := repo.Manifests().Put(ctx, body, PutOptions{MediaType: ocispec.MediaTypeImageManifest}); err != nil {
					b.Fatal(err)
				}
			}
		}
		clk.add(time.Hour)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		peak := before.HeapAlloc
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			var ms runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapAlloc)
				}
			}
		}()
		b.StartTimer()
		st, err := r.Collect(ctx, CollectOptions{SkipSweep: true})
		b.StopTimer()
		close(stop)
		<-sampled
		if err != nil || st.BlobsDeleted != 90_000 {
			b.Fatalf("%+v %v", st, err)
		}
		b.ReportMetric(float64(peak-before.HeapAlloc)/(1<<20), "MiB-peak-heap-growth")
		b.ReportMetric(float64(before.HeapAlloc)/(1<<20), "MiB-heap-before")
		b.ReportMetric(float64(st.Duration.Milliseconds()), "ms")
		r.Close()
		b.StartTimer()
	}
}
