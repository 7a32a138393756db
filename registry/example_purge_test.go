package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry"
)

// Purge the tags of a repository older than a week, except latest, and the
// manifests that leaves untagged: acr purge's
// --filter 'web:^(?!latest$).*' --ago 7d --untagged, dry run first.
func ExampleRegistry_Purge() {
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	reg, err := registry.NewMemory(registry.WithClock(clock))
	if err != nil {
		panic(err)
	}
	defer reg.Close()
	repo, _ := reg.Repository(ctx, "web")
	config := pushBlob(ctx, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
	push := func(tag string) {
		layer := pushBlob(ctx, repo, ocispec.MediaTypeImageLayerGzip, []byte("layer of "+tag))
		body, _ := json.Marshal(ocispec.Manifest{
			Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
			Config: config, Layers: []ocispec.Descriptor{layer},
		})
		if _, err := repo.Manifests().Put(ctx, body, registry.PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: tag}); err != nil {
			panic(err)
		}
	}
	push("v1")
	push("latest")
	now = now.AddDate(0, 0, 10)
	push("v2")

	rule := policy.Policy{Purge: &policy.Purge{
		Filters:  []string{`web:^(?!latest$).*`},
		Ago:      "7d",
		Untagged: true,
	}}
	dry, err := reg.Purge(ctx, rule, registry.PurgeOptions{DryRun: true})
	if err != nil {
		panic(err)
	}
	fmt.Println("dry run:", len(dry.Deleted), "deletions")
	res, err := reg.Purge(ctx, rule, registry.PurgeOptions{})
	if err != nil {
		panic(err)
	}
	for _, it := range res.Deleted {
		fmt.Println("deleted", it.Kind, it.Tag, "because", it.Reason.Code)
	}
	tags, _ := repo.Tags().List(ctx, registry.ListOptions{})
	fmt.Println("tags left:", tags)
	// Output:
	// dry run: 2 deletions
	// deleted tag v1 because filter
	// deleted manifest  because untagged
	// tags left: [latest v2]
}
