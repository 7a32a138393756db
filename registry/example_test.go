package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/tag"
)

// pushBlob uploads b into repo and returns its descriptor.
func pushBlob(ctx context.Context, repo *registry.Repository, mediaType string, b []byte) ocispec.Descriptor {
	d := digest.FromBytes(b)
	if _, err := repo.Blobs().Put(ctx, d, int64(len(b)), bytes.NewReader(b)); err != nil {
		panic(err)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
}

// Create an in-memory registry, push an image, tag it, lock it and list it.
func Example() {
	ctx := context.Background()
	reg, err := registry.NewMemory()
	if err != nil {
		panic(err)
	}
	defer reg.Close()

	repo, _ := reg.Repository(ctx, "ml-team/model-server")
	config := pushBlob(ctx, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
	layer := pushBlob(ctx, repo, ocispec.MediaTypeImageLayerGzip, []byte("not really a tarball"))
	body, _ := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    config,
		Layers:    []ocispec.Descriptor{layer},
	})

	// Push by tag, then add a second tag.
	desc, err := repo.Manifests().Put(ctx, body, registry.PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: "v1"})
	if err != nil {
		panic(err)
	}
	_ = repo.Tags().Set(ctx, "stable", desc.Digest, registry.SetOptions{})

	// Lock the tag: ACR's writeEnabled=false.
	locked := false
	_, _ = repo.Tags().SetAttributes(ctx, "stable", tag.Patch{WriteEnabled: &locked})
	err = repo.Tags().Untag(ctx, "stable")
	fmt.Println("untag a locked tag refused:", errors.Is(err, registry.ErrLocked))

	tags, _ := repo.Tags().List(ctx, registry.ListOptions{})
	fmt.Println("tags:", tags)
	ms, _ := repo.Manifests().List(ctx, registry.ListOptions{})
	fmt.Println("manifests:", len(ms), ms[0].Platform.OS+"/"+ms[0].Platform.Architecture, ms[0].Tags)
	repos, _ := reg.Repositories(ctx, "", 0)
	fmt.Println("repositories:", repos)
	// Output:
	// untag a locked tag refused: true
	// tags: [stable v1]
	// manifests: 1 linux/amd64 [stable v1]
	// repositories: [ml-team/model-server]
}

// Open the embedded default: blobs on disk and metadata in one bbolt file.
func ExampleOpen() {
	dir, cleanup := tempDir()
	defer cleanup()
	reg, err := registry.Open(dir, registry.WithGracePeriod(0))
	if err != nil {
		panic(err)
	}
	defer reg.Close()
	ctx := context.Background()
	repo, _ := reg.Repository(ctx, "app")
	d := pushBlob(ctx, repo, "application/octet-stream", []byte("orphan"))
	_ = repo.Blobs().Delete(ctx, d.Digest) // unlink: nothing references it now
	st, _ := reg.Collect(ctx, registry.CollectOptions{})
	fmt.Println("collected blobs:", st.BlobsDeleted)
	// Output: collected blobs: 1
}
