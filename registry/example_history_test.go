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

// Every move of a tag is recorded: list a tag's history, then put the tag
// back where it was an hour ago.
func ExampleTags_Revert() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	reg, err := registry.NewMemory(registry.WithClock(func() time.Time { return now }))
	if err != nil {
		panic(err)
	}
	defer reg.Close()
	repo, _ := reg.Repository(ctx, "app")
	config := pushBlob(ctx, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
	push := func(version string) string {
		body, _ := json.Marshal(ocispec.Manifest{
			Versioned:   specs.Versioned{SchemaVersion: 2},
			MediaType:   ocispec.MediaTypeImageManifest,
			Config:      config,
			Layers:      []ocispec.Descriptor{},
			Annotations: map[string]string{"version": version},
		})
		desc, err := repo.Manifests().Put(ctx, body, registry.PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: "prod"})
		if err != nil {
			panic(err)
		}
		return desc.Digest.Encoded()[:8]
	}
	names := map[string]string{}
	names[push("1.0")] = "1.0"
	now = now.Add(2 * time.Hour)
	names[push("1.1")] = "1.1" // a bad release
	now = now.Add(time.Minute)

	d, err := repo.Tags().Revert(ctx, "prod", now.Add(-time.Hour))
	if err != nil {
		panic(err)
	}
	fmt.Println("prod is back on", names[d.Encoded()[:8]])

	page, _ := repo.Tags().History(ctx, "prod", registry.HistoryOptions{})
	for _, m := range page.Moves {
		from := "-"
		if m.Old != "" {
			from = names[m.Old.Encoded()[:8]]
		}
		fmt.Println(m.Time.Format(time.Kitchen), m.Kind, from, "->", names[m.New.Encoded()[:8]])
	}
	// Output:
	// prod is back on 1.0
	// 2:01PM revert 1.1 -> 1.0
	// 2:00PM push 1.0 -> 1.1
	// 12:00PM push - -> 1.0
}
