package schema

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/meta"
	metamem "github.com/regkit/regkit/registry/meta/memory"
)

// TestDetailRefs: Refs reads the blobs and children that Load reads, from
// every shape of detail, and reports a missing detail as empty and not
// found, a corrupt one as ErrUnavailable.
func TestDetailRefs(t *testing.T) {
	ctx := context.Background()
	a, b, c := digest.FromString("a"), digest.FromString("b"), digest.FromString("c")
	dets := map[string]*Detail{
		"empty": {},
		"image": {Platform: &ocispec.Platform{OS: "linux", Architecture: "amd64"}, Annotations: map[string]string{"b": `"ch":["x"]`}, Blobs: []digest.Digest{a, b}},
		"index": {Annotations: map[string]string{"k": "v"}, Children: []digest.Digest{b, c}, Refs: []ChildRef{{Digest: b, Platform: &ocispec.Platform{OS: "linux"}}, {Digest: c}}},
		"both":  {Blobs: []digest.Digest{a}, Children: []digest.Digest{c}},
	}
	store := metamem.New()
	defer store.Close()
	err := store.Update(ctx, func(tx meta.Tx) error {
		for name, det := range dets {
			if err := Details.Put(tx, name, a, det); err != nil {
				return err
			}
		}
		return tx.Put(key(tDetail, "corrupt", a.String()), []byte(`{"b":[1]}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = store.View(ctx, func(tx meta.Tx) error {
		for name := range dets {
			var full Manifest
			if err := Details.Load(tx, name, a, &full); err != nil {
				return err
			}
			refs, found, err := Details.Refs(tx, name, a)
			if err != nil {
				return err
			}
			want := DetailRefs{Blobs: full.Detail.Blobs, Children: full.Detail.Children}
			if !found || !reflect.DeepEqual(refs, want) {
				t.Errorf("%s: Refs = %+v, %v; want %+v, true", name, refs, found, want)
			}
		}
		refs, found, err := Details.Refs(tx, "missing", a)
		if err != nil || found || refs.Blobs != nil || refs.Children != nil {
			t.Errorf("missing: Refs = %+v, %v, %v; want empty, false, nil", refs, found, err)
		}
		if _, _, err := Details.Refs(tx, "corrupt", a); !errors.Is(err, errdef.ErrUnavailable) {
			t.Errorf("corrupt: Refs error = %v, want ErrUnavailable", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
