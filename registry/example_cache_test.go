package registry_test

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/regkit/regkit/registry"
)

// A cache rule makes hub/* a pull-through cache of an upstream: the first
// pull fetches and stores the artifact, later pulls are served locally.
// Here the upstream is another registry in process (WithCacheUpstream may
// return any oras-go target); by default it is reached over HTTPS with
// NewRemote.
func ExampleRegistry_SetCacheRule() {
	ctx := context.Background()
	upstream, _ := registry.NewMemory()
	defer upstream.Close()
	lib, _ := upstream.Repository(ctx, "library/app")
	config := pushBlob(ctx, lib, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
	body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"digest":%q,"size":%d},"layers":[]}`,
		ocispec.MediaTypeImageManifest, config.MediaType, config.Digest, config.Size)
	pushed, _ := lib.Manifests().Put(ctx, []byte(body), registry.PutOptions{Tag: "1.0"})

	made := 0
	reg, _ := registry.NewMemory(registry.WithCacheUpstream(func(ctx context.Context, u registry.CacheUpstream) (oras.ReadOnlyTarget, error) {
		made++ // once: the target is kept for later fetches
		repo, err := upstream.Repository(ctx, u.Repository[len("upstream.example/"):])
		if err != nil {
			return nil, err
		}
		return repo.Target(), nil
	}))
	defer reg.Close()
	if _, err := reg.SetCacheRule(ctx, registry.CacheRule{Name: "hub", TargetRepository: "hub/*", SourceRepository: "upstream.example/*"}); err != nil {
		panic(err)
	}

	app, _ := reg.Repository(ctx, "hub/library/app")
	for range 3 {
		m, err := app.Manifests().Get(ctx, "1.0", registry.GetOptions{})
		if err != nil {
			panic(err)
		}
		fmt.Println(m.Descriptor.Digest == pushed.Digest)
	}
	fmt.Println("upstream targets made:", made)
	config2, err := app.Blobs().Stat(ctx, config.Digest)
	fmt.Println("config cached:", err == nil && config2.Size == config.Size)
	// Output:
	// true
	// true
	// true
	// upstream targets made: 1
	// config cached: true
}
