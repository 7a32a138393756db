package registry

import (
	"context"
	"errors"
	"testing"

	blobmem "github.com/regkit/regkit/blob/memory"
	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/bolt"
	metamem "github.com/regkit/regkit/registry/meta/memory"
)

// schemaVersionKey is where registry/internal/schema records the schema
// version (table v; see its package documentation). The test writes it by
// hand to play a store from another build.
var schemaVersionKey = []byte("v\x00schema")

// TestSchemaVersion: a store is stamped on first use and opens again; a
// store of a newer schema, or of an unreadable version, is refused with a
// clear error and left as it was.
func TestSchemaVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	pushImage(t, repoOf(t, r, "a"), "v1", 1)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r, err = Open(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if _, err := repoOf(t, r, "a").Tags().Resolve(ctx, "v1"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	r.Close()

	for _, c := range []struct {
		version string
		class   error
	}{
		{"3", ErrUnsupported},
		{"99", ErrUnsupported},
		{"x", ErrInvalid},
		{"0", ErrInvalid},
	} {
		store, err := bolt.Open(dir+"/meta.db", bolt.WithLog())
		if err != nil {
			t.Fatal(err)
		}
		err = store.Update(ctx, func(tx meta.Tx) error { return tx.Put(schemaVersionKey, []byte(c.version)) })
		if cerr := store.Close(); err != nil || cerr != nil {
			t.Fatal(err, cerr)
		}
		_, err = Open(dir)
		if !errors.Is(err, c.class) {
			t.Errorf("version %q: Open = %v, want an error wrapping %v", c.version, err, c.class)
		}
		mem := metamem.New()
		if err := mem.Update(ctx, func(tx meta.Tx) error { return tx.Put(schemaVersionKey, []byte(c.version)) }); err != nil {
			t.Fatal(err)
		}
		if _, err := New(blobmem.New(), mem); !errors.Is(err, c.class) {
			t.Errorf("version %q: New = %v, want an error wrapping %v", c.version, err, c.class)
		}
		mem.Close()
	}

	// A version-1 store (before the extension, history and soft-delete
	// tables) is migrated: its content stays, and it is stamped 2.
	store, err := bolt.Open(dir+"/meta.db", bolt.WithLog())
	if err != nil {
		t.Fatal(err)
	}
	err = store.Update(ctx, func(tx meta.Tx) error { return tx.Put(schemaVersionKey, []byte("1")) })
	if cerr := store.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	r, err = Open(dir)
	if err != nil {
		t.Fatalf("open a version-1 store: %v", err)
	}
	if _, err := repoOf(t, r, "a").Tags().Resolve(ctx, "v1"); err != nil {
		t.Fatalf("after the migration: %v", err)
	}
	var v []byte
	if err := r.meta.View(ctx, func(tx meta.Tx) error { v, err = tx.Get(schemaVersionKey); return err }); err != nil || string(v) != "2" {
		t.Fatalf("version after the migration: %q, %v", v, err)
	}
	r.Close()
}
