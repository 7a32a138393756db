package schema

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/meta"
)

// Version is the schema version this code reads and writes. Raise it with
// any change a build of the previous version would misread, and teach Open
// to migrate or refuse the older one.
//
// Version 2 adds tables a version-1 build would not know to keep consistent
// (extension state e, tag history H, the soft-delete tables D, M, T, U, P,
// K, Z); nothing of version 1 changes meaning, so a version-1 store is
// migrated by stamping it 2. A version-1 build refuses a version-2 store.
const Version = 2

// migrations[v] turns a store of version v into one of version v+1 inside
// one transaction.
var migrations = map[uint64]func(tx meta.Tx) error{
	1: func(meta.Tx) error { return nil }, // additive tables only
}

// versionKey holds the store's schema version as decimal text.
var versionKey = key(tVersion, "schema")

// Open checks the schema version of store before the registry uses it. A
// store without one is stamped with Version: it is empty, or it was written
// before the version was stored, in the same layout as version 1. A newer
// version is refused with an error wrapping errdef.ErrUnsupported; a version
// that is not a positive number with an error wrapping errdef.ErrInvalid.
func Open(ctx context.Context, store meta.Store) error {
	var v uint64
	err := store.View(ctx, func(tx meta.Tx) error {
		var err error
		v, err = readVersion(tx)
		return err
	})
	if err != nil || v == Version {
		return err
	}
	return store.Update(ctx, func(tx meta.Tx) error {
		v, err := readVersion(tx)
		if err != nil || v == Version {
			return err
		}
		if v == 0 { // no version: empty, or written before versions were stored
			return tx.Put(versionKey, []byte(strconv.Itoa(Version)))
		}
		for ; v < Version; v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("registry: migrate metadata schema %d to %d: %w", v, v+1, err)
			}
		}
		return tx.Put(versionKey, []byte(strconv.Itoa(Version)))
	})
}

// readVersion returns the stored version, 0 when there is none. It fails
// for a version newer than this code's, one older without a migration, and
// one that is not a positive number.
func readVersion(tx meta.Tx) (uint64, error) {
	b, err := tx.Get(versionKey)
	if errors.Is(err, meta.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	v, perr := strconv.ParseUint(string(b), 10, 32)
	switch {
	case perr != nil || v == 0:
		return 0, fmt.Errorf("registry: metadata store has unknown schema version %q (this build reads version %d): %w", truncate(b), Version, errdef.ErrInvalid)
	case v > Version:
		return 0, fmt.Errorf("registry: metadata store has schema version %d, newer than this build's %d; use a newer build: %w", v, Version, errdef.ErrUnsupported)
	}
	for u := v; u < Version; u++ {
		if migrations[u] == nil {
			return 0, fmt.Errorf("registry: metadata store has schema version %d, older than this build's %d, and no migration exists: %w", v, Version, errdef.ErrUnsupported)
		}
	}
	return v, nil
}

// truncate clips b for messages.
func truncate(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "..."
	}
	return string(b)
}
