package token

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry"
)

// keyStore is where a keyring keeps its keys, so that they outlive the
// process and every Service sharing the store signs and verifies with the
// same ones: a folder (WithKeyDir) or a registry's state (WithKeyState).
type keyStore interface {
	// read returns every stored key, oldest first.
	read() ([]*key, error)
	// write stores k durably.
	write(k *key) error
	// remove deletes the key kid; a missing key is not an error.
	remove(kid string) error
}

// dirStore keeps each key in a file of a folder.
type dirStore struct{ dir string }

func (d dirStore) read() ([]*key, error) {
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return nil, fmt.Errorf("token: key folder: %w: %w", errdef.ErrUnavailable, err)
	}
	return readKeys(d.dir)
}

func (d dirStore) write(k *key) error { return writeKey(d.dir, k) }

func (d dirStore) remove(kid string) error {
	err := os.Remove(filepath.Join(d.dir, kid+keyFileSuffix))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("token: remove key %s: %w: %w", kid, errdef.ErrUnavailable, err)
	}
	return syncDir(d.dir)
}

// stateKeyPrefix prefixes the keys' entries in a registry's state.
const stateKeyPrefix = "key/"

// stateStore keeps the keys in a registry's metadata store (its State),
// where every frontend of a registry on a shared store finds them. The
// keyring's calls carry no context; each is one short transaction.
type stateStore struct{ st *registry.State }

func (s stateStore) read() ([]*key, error) {
	var keys []*key
	err := s.st.View(context.Background(), func(tx registry.StateTx) error {
		keys = keys[:0]
		var bad error
		err := tx.Scan(stateKeyPrefix, func(name string, value []byte) bool {
			k, err := decodeKey("key "+name, strings.TrimPrefix(name, stateKeyPrefix), value)
			if err != nil {
				bad = err
				return false
			}
			keys = append(keys, k)
			return true
		})
		if err != nil {
			return err
		}
		return bad
	})
	if err != nil {
		return nil, fmt.Errorf("token: read keys: %w", err)
	}
	slices.SortFunc(keys, func(a, b *key) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return strings.Compare(a.kid, b.kid)
	})
	return keys, nil
}

func (s stateStore) write(k *key) error {
	b, err := encodeKey(k)
	if err != nil {
		return err
	}
	if err := s.st.Update(context.Background(), func(tx registry.StateTx) error {
		return tx.Put(stateKeyPrefix+k.kid, b)
	}); err != nil {
		return fmt.Errorf("token: write key: %w", err)
	}
	return nil
}

func (s stateStore) remove(kid string) error {
	if err := s.st.Update(context.Background(), func(tx registry.StateTx) error {
		return tx.Delete(stateKeyPrefix + kid)
	}); err != nil {
		return fmt.Errorf("token: remove key %s: %w", kid, err)
	}
	return nil
}
