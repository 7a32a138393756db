package registry

import (
	"context"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// BenchmarkTagHistory: the cost of recording tag moves, with the history
// on (the default) and off side by side. "set" moves a tag between two
// stored manifests (Tags.Set); "push" pushes a new manifest under a tag
// that moves every time (the blobs are linked already). Every iteration
// moves the tag, so every iteration with the history on records a move.
// The tag's history grows with b.N, as a hot tag's does.
func BenchmarkTagHistory(b *testing.B) {
	for _, op := range []string{"set", "push"} {
		b.Run(op, func(b *testing.B) {
			for _, h := range []struct {
				name string
				d    time.Duration
			}{{"off", 0}, {"on", DefaultTagHistory}} {
				b.Run(h.name, func(b *testing.B) {
					benchBackends(b, false, func(b *testing.B, r *Registry) {
						benchTagMoves(b, r, op)
					}, WithTagHistory(h.d), WithSweepInterval(0))
				})
			}
		})
	}
}

func benchTagMoves(b *testing.B, r *Registry, op string) {
	ctx := context.Background()
	repo := repoOf(b, r, "bench")
	cfg := putBlob(b, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
	layer := putBlob(b, repo, ocispec.MediaTypeImageLayerGzip, randomBytes(b, 256))
	put := func(n int) digest.Digest {
		desc, err := repo.Manifests().Put(ctx, manifestOfSize(cfg, layer, 1024, n), PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: "latest"})
		if err != nil {
			b.Fatal(err)
		}
		return desc.Digest
	}
	ds := []digest.Digest{put(-1), put(-2)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if op == "push" {
			put(i)
			continue
		}
		if err := repo.Tags().Set(ctx, "latest", ds[i%2], SetOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
