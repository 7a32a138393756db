package bolt_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/bolt"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "regkit-meta")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	// One transaction: both keys are written, durably, or neither.
	err = s.Update(ctx, func(tx meta.Tx) error {
		if err := tx.Put([]byte("tag/library/alpine/3.20"), []byte("sha256:1234")); err != nil {
			return err
		}
		return tx.Put([]byte("tag/library/alpine/latest"), []byte("sha256:1234"))
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}

	// Reopen the file: the tags are still there.
	s, err = bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	err = s.View(ctx, func(tx meta.Tx) error {
		return tx.Scan(meta.Prefix([]byte("tag/library/alpine/")), func(key, value []byte) bool {
			fmt.Printf("%s -> %s\n", key, value)
			return true
		})
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// tag/library/alpine/3.20 -> sha256:1234
	// tag/library/alpine/latest -> sha256:1234
}
