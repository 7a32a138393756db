package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	blobfs "github.com/regkit/regkit/blob/fs"
	blobmem "github.com/regkit/regkit/blob/memory"
	"github.com/regkit/regkit/registry/meta/bolt"
	metamem "github.com/regkit/regkit/registry/meta/memory"
)

// NewMemory returns a Registry held entirely in memory: for tests, harnesses
// and programs that need a registry for their own lifetime only.
func NewMemory(opts ...Option) (*Registry, error) {
	store := metamem.New()
	r, err := New(blobmem.New(), store, opts...)
	if err != nil {
		return nil, err
	}
	r.closers = append(r.closers, store.Close)
	return r, nil
}

// Open returns a Registry persisted in dir, the embedded default: blobs as
// files under dir/blobs (blob/fs) and metadata in one bbolt file,
// dir/meta.db, with a write-ahead log beside it (bolt.WithLog: one append and
// one flush per commit). The folder is created if needed. Close closes both.
func Open(dir string, opts ...Option) (*Registry, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("registry: create %s: %w: %w", dir, ErrUnavailable, err)
	}
	blobs, err := blobfs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		return nil, err
	}
	store, err := bolt.Open(filepath.Join(dir, "meta.db"), bolt.WithLog())
	if err != nil {
		return nil, errors.Join(err, closeIf(blobs))
	}
	r, err := New(blobs, store, opts...)
	if err != nil {
		return nil, errors.Join(err, store.Close(), closeIf(blobs))
	}
	r.closers = append(r.closers, store.Close, func() error { return closeIf(blobs) })
	return r, nil
}

// closeIf closes v when it has a Close method.
func closeIf(v any) error {
	if c, ok := v.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}
