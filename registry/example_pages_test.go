package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
)

// Page through a repository's tags newest first, one a page, as ACR's
// orderby=timedesc does; each page's Next is the following page's Last.
func ExampleTags_Page() {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	reg, err := registry.NewMemory(registry.WithClock(func() time.Time { return now }))
	if err != nil {
		panic(err)
	}
	defer reg.Close()
	repo, _ := reg.Repository(ctx, "app")
	config := pushBlob(ctx, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
	layer := pushBlob(ctx, repo, ocispec.MediaTypeImageLayerGzip, []byte("not really a tarball"))
	body, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: config, Layers: []ocispec.Descriptor{layer}})
	desc, err := repo.Manifests().Put(ctx, body, registry.PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: "b"})
	if err != nil {
		panic(err)
	}
	for _, t := range []string{"c", "a"} {
		now = now.Add(time.Hour)
		_ = repo.Tags().Set(ctx, t, desc.Digest, registry.SetOptions{})
	}

	opts := registry.PageOptions{N: 1, Order: registry.OrderTimeDesc}
	for {
		page, err := repo.Tags().Page(ctx, opts)
		if err != nil {
			panic(err)
		}
		fmt.Println(page.Tags[0].Name, page.Tags[0].UpdatedAt.Format(time.Kitchen))
		if page.Next == "" {
			break
		}
		opts.Last = page.Next
	}
	// Output:
	// a 2:00AM
	// c 1:00AM
	// b 12:00AM
}
