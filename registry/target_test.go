package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/content/oci"
	orasdef "oras.land/oras-go/v2/errdef"
	orasreg "oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/registrytest"
	"github.com/regkit/regkit/tag"
)

// TestTargetCopy moves a multi-arch index with a signature from a regkit
// repository to each kind of oras-go target with oras.ExtendedCopy and back
// into another regkit registry, and checks every byte and the referrer.
func TestTargetCopy(t *testing.T) {
	ctx := context.Background()
	others := map[string]func(t *testing.T) oras.GraphTarget{
		"memory": func(t *testing.T) oras.GraphTarget { return memory.New() },
		"oci-layout": func(t *testing.T) oras.GraphTarget {
			s, err := oci.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"remote": func(t *testing.T) oras.GraphTarget {
			srv := registrytest.New(t)
			r, err := remote.NewRepository(srv.Host + "/mirror/app")
			if err != nil {
				t.Fatal(err)
			}
			r.PlainHTTP = true
			return r
		},
	}
	for name, newOther := range others {
		t.Run(name, func(t *testing.T) {
			src := repoOf(t, newMemReg(t), "team/app").Target()
			idx, sig := multiArch(t, src, "v1")
			other := newOther(t)
			if _, err := oras.ExtendedCopy(ctx, src, "v1", other, "v1", oras.DefaultExtendedCopyOptions); err != nil {
				t.Fatalf("regkit -> %s: %v", name, err)
			}
			refs, err := orasreg.Referrers(ctx, other, idx, "")
			if err != nil || len(refs) != 1 || refs[0].Digest != sig.Digest {
				t.Fatalf("%s referrers of the index = %v, %v; want the signature", name, refs, err)
			}
			dst := repoOf(t, newMemReg(t), "copy/app").Target()
			got, err := oras.ExtendedCopy(ctx, other, "v1", dst, "v2", oras.DefaultExtendedCopyOptions)
			if err != nil {
				t.Fatalf("%s -> regkit: %v", name, err)
			}
			if got.Digest != idx.Digest {
				t.Fatalf("copied %s, want %s", got.Digest, idx.Digest)
			}
			sameGraph(t, src, dst, idx)
			sameGraph(t, src, dst, sig)
			if d, err := dst.Resolve(ctx, "v2"); err != nil || d.Digest != idx.Digest {
				t.Fatalf("v2 resolves to %v, %v", d.Digest, err)
			}
		})
	}
}

// sameGraph checks that every node of root's graph reads the same in a and b.
func sameGraph(t *testing.T, a, b content.ReadOnlyStorage, root ocispec.Descriptor) {
	t.Helper()
	ctx := context.Background()
	ab, err := content.FetchAll(ctx, a, root)
	if err != nil {
		t.Fatalf("fetch %s from source: %v", root.Digest, err)
	}
	bb, err := content.FetchAll(ctx, b, root)
	if err != nil {
		t.Fatalf("fetch %s from copy: %v", root.Digest, err)
	}
	if !bytes.Equal(ab, bb) {
		t.Fatalf("%s differs", root.Digest)
	}
	succ, err := content.Successors(ctx, a, root)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range succ {
		if s.Digest == root.Digest {
			continue
		}
		sameGraph(t, a, b, s)
	}
}

// TestTargetRules checks that the adapter keeps regkit's rules.
func TestTargetRules(t *testing.T) {
	ctx := context.Background()
	reg := newMemReg(t)
	a := repoOf(t, reg, "a").Target()
	b := repoOf(t, reg, "b").Target()
	img := pushImage(t, a, "linux/amd64", []byte("layer"))
	tagIn(t, a, img, "v1")
	layer := pushTo(t, a, ocispec.MediaTypeImageLayerGzip, []byte("layer"))

	t.Run("blob visibility", func(t *testing.T) {
		if ok, err := b.Exists(ctx, layer); err != nil || ok {
			t.Fatalf("b sees a's blob: %v, %v", ok, err)
		}
		if _, err := b.Fetch(ctx, layer); !errors.Is(err, registry.ErrBlobUnknown) || !errors.Is(err, orasdef.ErrNotFound) {
			t.Fatalf("fetch a's blob from b: %v", err)
		}
	})
	t.Run("wrong digest", func(t *testing.T) {
		d := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromString("x"), Size: 1}
		if err := b.Push(ctx, d, bytes.NewReader([]byte("y"))); !errors.Is(err, registry.ErrDigestMismatch) {
			t.Fatalf("push under a wrong digest: %v", err)
		}
		if ok, _ := b.Exists(ctx, d); ok {
			t.Fatal("blob stored under a wrong digest")
		}
		m := []byte(`{"schemaVersion":2}`)
		md := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromString("z"), Size: int64(len(m))}
		if err := b.Push(ctx, md, bytes.NewReader(m)); !errors.Is(err, registry.ErrDigestMismatch) {
			t.Fatalf("manifest under a wrong digest: %v", err)
		}
	})
	t.Run("manifest references checked", func(t *testing.T) {
		m, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
			Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromString("missing"), Size: 7}, Layers: []ocispec.Descriptor{layer}})
		err := b.Push(ctx, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(m), Size: int64(len(m))}, bytes.NewReader(m))
		if !errors.Is(err, registry.ErrManifestBlobUnknown) {
			t.Fatalf("manifest with a missing blob: %v", err)
		}
	})
	t.Run("locks", func(t *testing.T) {
		f := false
		if _, err := repoOf(t, reg, "a").Tags().SetAttributes(ctx, "v1", tag.Patch{WriteEnabled: &f}); err != nil {
			t.Fatal(err)
		}
		other := pushImage(t, a, "linux/arm64", []byte("other"))
		if err := a.Tag(ctx, other, "v1"); !errors.Is(err, registry.ErrLocked) {
			t.Fatalf("move a locked tag: %v", err)
		}
		if _, err := repoOf(t, reg, "a").SetAttributes(ctx, tag.Patch{WriteEnabled: &f}); err != nil {
			t.Fatal(err)
		}
		nb := []byte("new blob")
		nd := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(nb), Size: int64(len(nb))}
		if err := a.Push(ctx, nd, bytes.NewReader(nb)); !errors.Is(err, registry.ErrLocked) {
			t.Fatalf("push into a write-locked repository: %v", err)
		}
	})
	t.Run("resolve", func(t *testing.T) {
		if _, err := a.Resolve(ctx, "nope"); !errors.Is(err, orasdef.ErrNotFound) || !errors.Is(err, registry.ErrManifestUnknown) {
			t.Fatalf("resolve a missing tag: %v", err)
		}
		var tags []string
		if err := a.Tags(ctx, "", func(ts []string) error { tags = append(tags, ts...); return nil }); err != nil || len(tags) != 1 {
			t.Fatalf("tags = %v, %v", tags, err)
		}
	})
}
