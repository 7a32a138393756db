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
const Version = 1

// versionKey holds the store's schema version as decimal text.
var versionKey = key(tVersion, "schema")

// Open checks the schema version of store before the registry uses it. A
// store without one is stamped with Version: it is empty, or it was written
// before the version was stored, in the same layout as version 1. A newer
// version is refused with an error wrapping errdef.ErrUnsupported; a version
// that is not a positive number with an error wrapping errdef.ErrInvalid.
func Open(ctx context.Context, store meta.Store) error {
	var found bool
	err := store.View(ctx, func(tx meta.Tx) error {
		var err error
		found, err = checkVersion(tx)
		return err
	})
	if err != nil || found {
		return err
	}
	return store.Update(ctx, func(tx meta.Tx) error {
		found, err := checkVersion(tx)
		if err != nil || found {
			return err
		}
		return tx.Put(versionKey, []byte(strconv.Itoa(Version)))
	})
}

// checkVersion reads the stored version and reports whether there is one;
// it fails unless the version is this code's.
func checkVersion(tx meta.Tx) (found bool, err error) {
	b, err := tx.Get(versionKey)
	if errors.Is(err, meta.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	v, perr := strconv.ParseUint(string(b), 10, 32)
	switch {
	case perr != nil || v == 0:
		return true, fmt.Errorf("registry: metadata store has unknown schema version %q (this build reads version %d): %w", truncate(b), Version, errdef.ErrInvalid)
	case v > Version:
		return true, fmt.Errorf("registry: metadata store has schema version %d, newer than this build's %d; use a newer build: %w", v, Version, errdef.ErrUnsupported)
	case v < Version:
		return true, fmt.Errorf("registry: metadata store has schema version %d, older than this build's %d, and no migration exists: %w", v, Version, errdef.ErrUnsupported)
	}
	return true, nil
}

// truncate clips b for messages.
func truncate(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "..."
	}
	return string(b)
}
