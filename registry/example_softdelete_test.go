package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
)

// Turn soft delete on, delete a tagged image, list what was deleted and
// restore it by its tag (ACR's az acr manifest restore -n web:v1).
func ExampleRepository_Restore() {
	ctx := context.Background()
	reg, err := registry.NewMemory()
	if err != nil {
		panic(err)
	}
	defer reg.Close()
	if _, err := reg.SetSoftDelete(ctx, true, 7); err != nil {
		panic(err)
	}
	repo, _ := reg.Repository(ctx, "web")
	config := pushBlob(ctx, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
	layer := pushBlob(ctx, repo, ocispec.MediaTypeImageLayerGzip, []byte("layer"))
	body, _ := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: config, Layers: []ocispec.Descriptor{layer},
	})
	desc, err := repo.Manifests().Put(ctx, body, registry.PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: "v1"})
	if err != nil {
		panic(err)
	}
	if err := repo.Manifests().Delete(ctx, desc.Digest); err != nil {
		panic(err)
	}
	_, err = repo.Manifests().Get(ctx, "v1", registry.GetOptions{})
	fmt.Println("pull after delete:", errors.Is(err, registry.ErrManifestUnknown))
	_, err = repo.Manifests().Put(ctx, body, registry.PutOptions{MediaType: ocispec.MediaTypeImageManifest})
	fmt.Println("push again:", errors.Is(err, registry.ErrSoftDeleted))

	deleted, _, _ := repo.DeletedManifests(ctx, registry.DeletedListOptions{})
	for _, m := range deleted {
		fmt.Println("deleted:", m.Digest == desc.Digest, m.Tags, m.ExpiresAt.Sub(m.DeletedAt))
	}
	res, err := repo.Restore(ctx, registry.RestoreOptions{Tag: "v1"})
	if err != nil {
		panic(err)
	}
	fmt.Println("restored:", res.Digest == desc.Digest, res.Tags, "repository too:", res.Repository)
	got, err := repo.Manifests().Get(ctx, "v1", registry.GetOptions{})
	fmt.Println("pull after restore:", err == nil && string(got.Bytes) == string(body))
	// Output:
	// pull after delete: true
	// push again: true
	// deleted: true [v1] 168h0m0s
	// restored: true [v1] repository too: true
	// pull after restore: true
}
