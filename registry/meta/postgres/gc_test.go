package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
)

// TestCollectorsAcrossFrontends: three frontends on one table and one blob
// store. Two push images (their layers shared between pushes, so the
// collector often races a push of a blob it is removing) and delete some;
// two run garbage collection at the same time with a short grace period.
// At the end the registry checks clean and every tag resolves to an image
// whose blobs all read back: the collection protocol, kept in the
// metadata store, holds across processes.
func TestCollectorsAcrossFrontends(t *testing.T) {
	ctx := t.Context()
	frontend := frontends(t, registry.WithGracePeriod(200*time.Millisecond))
	fronts := []*registry.Registry{frontend(), frontend(), frontend()}
	dur := 2 * time.Second
	if testing.Short() {
		dur = 500 * time.Millisecond
	}
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for w, r := range fronts[:2] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- pushLoop(ctx, r, w, deadline)
		}()
	}
	for _, r := range []*registry.Registry{fronts[0], fronts[2]} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if _, err := r.Collect(ctx, registry.CollectOptions{}); err != nil {
					errc <- fmt.Errorf("collect: %w", err)
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
			errc <- nil
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	rep, err := fronts[2].Check(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("check: %v %v", err, rep)
	}
	images := 0
	for w := range 2 {
		repo, err := fronts[2].Repository(ctx, fmt.Sprintf("gc/w%d", w))
		if err != nil {
			t.Fatal(err)
		}
		tags, err := repo.Tags().List(ctx, registry.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range tags {
			m, err := repo.Manifests().Get(ctx, tg, registry.GetOptions{})
			if err != nil {
				t.Fatalf("%s: %v", tg, err)
			}
			var im ocispec.Manifest
			if err := json.Unmarshal(m.Bytes, &im); err != nil {
				t.Fatal(err)
			}
			for _, d := range append([]ocispec.Descriptor{im.Config}, im.Layers...) {
				ra, err := repo.Blobs().Open(ctx, d.Digest)
				if err != nil {
					t.Fatalf("%s: blob %s: %v", tg, d.Digest, err)
				}
				b, err := io.ReadAll(io.NewSectionReader(ra, 0, ra.Size()))
				ra.Close()
				if err != nil || digest.FromBytes(b) != d.Digest {
					t.Fatalf("%s: blob %s reads back wrong: %v", tg, d.Digest, err)
				}
			}
			images++
		}
	}
	if images == 0 {
		t.Fatal("no image survived: the test proved nothing")
	}
}

// pushLoop pushes images into gc/wN until deadline: a layer from a small
// shared set and a config of its own, tagged t0..t3, deleting every third.
func pushLoop(ctx context.Context, r *registry.Registry, w int, deadline time.Time) error {
	repo, err := r.Repository(ctx, fmt.Sprintf("gc/w%d", w))
	if err != nil {
		return err
	}
	put := func(mediaType string, b []byte) (ocispec.Descriptor, error) {
		d := digest.FromBytes(b)
		_, err := repo.Blobs().Put(ctx, d, int64(len(b)), bytes.NewReader(b))
		return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}, err
	}
	for i := 0; time.Now().Before(deadline); i++ {
		layer, err := put(ocispec.MediaTypeImageLayer, fmt.Appendf(nil, "shared layer %d", i%3))
		if err != nil {
			return fmt.Errorf("layer: %w", err)
		}
		config, err := put(ocispec.MediaTypeImageConfig, fmt.Appendf(nil, `{"os":"linux","architecture":"amd64","variant":"w%d-%d"}`, w, i))
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		body, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
			Config: config, Layers: []ocispec.Descriptor{layer}})
		desc, err := repo.Manifests().Put(ctx, body, registry.PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: fmt.Sprintf("t%d", i%4)})
		if errors.Is(err, registry.ErrManifestBlobUnknown) {
			continue // stalled past the grace period: the collector was entitled to the blobs
		}
		if err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		if i%3 == 0 {
			if err := repo.Manifests().Delete(ctx, desc.Digest); err != nil && !errors.Is(err, registry.ErrNotFound) {
				return fmt.Errorf("delete: %w", err)
			}
		}
	}
	return nil
}
