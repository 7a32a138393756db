package registry

import (
	"context"
	"testing"
	"time"

	blobmem "github.com/regkit/regkit/blob/memory"
	metamem "github.com/regkit/regkit/registry/meta/memory"
)

// TestSharedStore: two Registries over one metadata store and one blob
// store, as two frontends on PostgreSQL. Settings one changes are in force
// in the other after its refresh (driven by hand here: the interval is an
// hour), and reads never come from a cache the other's writes left stale.
func TestSharedStore(t *testing.T) {
	ctx := context.Background()
	store, blobs := metamem.New(), blobmem.New()
	open := func() *Registry {
		r, err := New(blobs, store, WithSharedStore(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	a, b := open(), open()

	// Soft delete, turned on through a.
	if _, err := a.SetSoftDelete(ctx, true, 7); err != nil {
		t.Fatal(err)
	}
	if b.softDelete.Load().Enabled {
		t.Fatal("b saw the setting before its refresh")
	}
	if err := b.refreshSettings(ctx); err != nil {
		t.Fatal(err)
	}
	if !b.softDelete.Load().Enabled {
		t.Fatal("b's soft delete is off after its refresh")
	}
	repoB, err := b.Repository(ctx, "team/app")
	if err != nil {
		t.Fatal(err)
	}
	img := pushImage(t, repoB, "v1", 1)
	if err := repoB.Manifests().Delete(ctx, img.desc.Digest); err != nil {
		t.Fatal(err)
	}
	repoA, err := a.Repository(ctx, "team/app")
	if err != nil {
		t.Fatal(err)
	}
	if page, _, err := repoA.DeletedManifests(ctx, DeletedListOptions{}); err != nil || len(page) != 1 || page[0].Digest != img.desc.Digest {
		t.Fatalf("a lists deleted manifests %+v, %v: want b's soft delete", page, err)
	}

	// Lock rules, set through a: b creates matching tags locked.
	if err := a.SetLockRules(ctx, []LockRule{{Repositories: "team/.*", Tags: "^release-"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.refreshSettings(ctx); err != nil {
		t.Fatal(err)
	}
	pushImage(t, repoB, "release-1", 1)
	props, err := repoA.Tags().Properties(ctx, "release-1")
	if err != nil {
		t.Fatal(err)
	}
	if props.Attributes.WriteEnabled {
		t.Errorf("a tag b created under a's lock rule is writable: %+v", props.Attributes)
	}

	// A tag moved through a is read at once through b: no stale cache.
	first := pushImage(t, repoB, "latest", 1)
	if m, err := repoB.Manifests().Get(ctx, "latest", GetOptions{}); err != nil || m.Descriptor.Digest != first.desc.Digest {
		t.Fatalf("b reads latest: %v", err)
	}
	second := pushImage(t, repoA, "latest", 2)
	if m, err := repoB.Manifests().Get(ctx, "latest", GetOptions{}); err != nil || m.Descriptor.Digest != second.desc.Digest {
		t.Fatalf("b reads latest after a moved it: %v, want %s", err, second.desc.Digest)
	}

	// A refresh that finds nothing changed keeps what is loaded.
	rules := b.cacheRules.Load()
	if err := b.refreshSettings(ctx); err != nil {
		t.Fatal(err)
	}
	if b.cacheRules.Load() != rules {
		t.Error("an unchanged setting was reloaded")
	}
}
