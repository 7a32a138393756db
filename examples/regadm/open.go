package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/regkit/regkit/registry"
)

// metaFile is the metadata file registry.Open keeps in a data folder.
const metaFile = "meta.db"

// heldError says that another process (a server) holds the data folder.
type heldError struct {
	dir string
	err error
}

func (e *heldError) Error() string {
	return fmt.Sprintf("data folder %s is in use: a server (such as registryd) holds its metadata file %s; stop the server first, then run regadm",
		e.dir, filepath.Join(e.dir, metaFile))
}

func (e *heldError) Unwrap() error { return e.err }

// openData opens the registry in dir for a command. dir must be an existing
// data folder (regadm never creates one: a mistyped -data would otherwise
// administer an empty registry), and no other process may hold it.
//
// bbolt takes an exclusive file lock on meta.db and registry.Open waits for
// it (bolt's default WithTimeout, one second) before failing. regadm tries
// the lock itself first, without waiting, so that a folder a server holds is
// refused at once and before blob/fs's Open tidies the folder's staging
// areas under the server's feet.
func openData(ctx context.Context, dir string) (*registry.Registry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("data folder %s is not a directory", dir)
	}
	meta := filepath.Join(dir, metaFile)
	if _, err := os.Stat(meta); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s is not a regkit data folder (it has no %s): %w", dir, metaFile, err)
		}
		return nil, fmt.Errorf("data folder: %w", err)
	}
	held, err := lockHeld(meta)
	if err != nil {
		return nil, fmt.Errorf("data folder %s: check the lock on %s: %w", dir, metaFile, err)
	}
	if held {
		return nil, &heldError{dir: dir}
	}
	// No background retention sweep nor expiry of soft-deleted items:
	// regadm deletes only what it is asked to (retention sweep runs the
	// former on demand; a server expires the latter).
	reg, err := registry.Open(dir, registry.WithSweepInterval(0), registry.WithSoftDeleteSweepInterval(0))
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			// A server took the lock between the check and the open.
			return nil, &heldError{dir: dir, err: err}
		}
		return nil, fmt.Errorf("open data folder %s: %w", dir, err)
	}
	return reg, nil
}
