package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	blobmemory "github.com/regkit/regkit/blob/memory"
	"github.com/regkit/regkit/registry"
)

// frontends returns a function that opens one more registry frontend on a
// table and a blob store of this test's own: each with its own Store, all
// declared shared (registry.WithSharedStore), with opts.
func frontends(t *testing.T, opts ...registry.Option) func() *registry.Registry {
	table := uniqueTable(t)
	blobs := blobmemory.New()
	return func() *registry.Registry {
		t.Helper()
		s := open(t, table)
		t.Cleanup(func() { s.Close() })
		r, err := registry.New(blobs, s, append([]registry.Option{registry.WithSharedStore(0)}, opts...)...)
		if err != nil {
			t.Fatalf("registry.New: %v", err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
}

// TestRegistryFrontends runs a registry on the PostgreSQL store: one
// frontend pushes blobs and a manifest, tags it and reads it back; a
// second frontend, with its own Store on the same table and the same
// blobs, sees all of it and deletes it; the first sees the deletion.
func TestRegistryFrontends(t *testing.T) {
	ctx := t.Context()
	frontend := frontends(t)
	first := frontend()

	repo, err := first.Repository(ctx, "team/app")
	if err != nil {
		t.Fatal(err)
	}
	config := pushBlob(ctx, t, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
	layer := pushBlob(ctx, t, repo, ocispec.MediaTypeImageLayerGzip, []byte("layer bytes"))
	body, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    config,
		Layers:    []ocispec.Descriptor{layer},
	})
	if err != nil {
		t.Fatal(err)
	}
	desc, err := repo.Manifests().Put(ctx, body, registry.PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: "v1"})
	if err != nil {
		t.Fatalf("push manifest: %v", err)
	}
	if err := repo.Tags().Set(ctx, "stable", desc.Digest, registry.SetOptions{}); err != nil {
		t.Fatalf("tag: %v", err)
	}
	check := func(who string, r *registry.Registry) {
		t.Helper()
		repo, err := r.Repository(ctx, "team/app")
		if err != nil {
			t.Fatal(err)
		}
		m, err := repo.Manifests().Get(ctx, "stable", registry.GetOptions{})
		if err != nil || !bytes.Equal(m.Bytes, body) || m.Descriptor.Digest != desc.Digest {
			t.Fatalf("%s: Get(stable) = %v, %v; want the pushed manifest", who, m, err)
		}
		tags, err := repo.Tags().List(ctx, registry.ListOptions{})
		if err != nil || !slices.Equal(tags, []string{"stable", "v1"}) {
			t.Fatalf("%s: tags %v, %v", who, tags, err)
		}
		ra, err := repo.Blobs().Open(ctx, layer.Digest)
		if err != nil {
			t.Fatalf("%s: open layer: %v", who, err)
		}
		got, err := io.ReadAll(io.NewSectionReader(ra, 0, ra.Size()))
		ra.Close()
		if err != nil || string(got) != "layer bytes" {
			t.Fatalf("%s: layer %q, %v", who, got, err)
		}
		repos, err := r.Repositories(ctx, "", 0)
		if err != nil || !slices.Equal(repos, []string{"team/app"}) {
			t.Fatalf("%s: repositories %v, %v", who, repos, err)
		}
	}
	check("first frontend", first)

	second := frontend()
	check("second frontend", second)
	repo2, err := second.Repository(ctx, "team/app")
	if err != nil {
		t.Fatal(err)
	}
	if err := repo2.Tags().Untag(ctx, "stable"); err != nil {
		t.Fatalf("untag on the second frontend: %v", err)
	}
	if err := repo2.Manifests().Delete(ctx, desc.Digest); err != nil {
		t.Fatalf("delete on the second frontend: %v", err)
	}
	for _, ref := range []string{"stable", "v1", desc.Digest.String()} {
		if _, err := repo.Manifests().Get(ctx, ref, registry.GetOptions{}); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("first frontend: Get(%s) after the delete = %v, want ErrNotFound", ref, err)
		}
	}
	if tags, err := repo.Tags().List(ctx, registry.ListOptions{}); err != nil || len(tags) != 0 {
		t.Fatalf("first frontend: tags after the delete %v, %v", tags, err)
	}
	if err := first.Health(ctx); err != nil {
		t.Fatalf("Health: %v", err)
	}
}

// pushBlob uploads b into repo and returns its descriptor.
func pushBlob(ctx context.Context, t *testing.T, repo *registry.Repository, mediaType string, b []byte) ocispec.Descriptor {
	t.Helper()
	d := digest.FromBytes(b)
	if _, err := repo.Blobs().Put(ctx, d, int64(len(b)), bytes.NewReader(b)); err != nil {
		t.Fatalf("push blob: %v", err)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
}
