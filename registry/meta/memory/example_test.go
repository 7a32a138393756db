package memory_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/memory"
)

func ExampleNew() {
	s := memory.New()
	defer s.Close()
	ctx := context.Background()

	err := s.Update(ctx, func(tx meta.Tx) error {
		for _, tag := range []string{"1.0", "1.1", "2.0", "latest"} {
			if err := tx.Put([]byte("tag/app/"+tag), []byte("sha256:...")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}

	// A failing Update writes nothing.
	errStop := errors.New("changed my mind")
	err = s.Update(ctx, func(tx meta.Tx) error {
		if err := tx.Delete([]byte("tag/app/latest")); err != nil {
			return err
		}
		return errStop
	})
	fmt.Println(errors.Is(err, errStop))

	// The repository's tags from the last key to the first: a reverse scan
	// of its prefix.
	err = s.View(ctx, func(tx meta.Tx) error {
		r := meta.Prefix([]byte("tag/app/"))
		r.Reverse = true
		return tx.Scan(r, func(key, _ []byte) bool {
			fmt.Println(string(key))
			return true
		})
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// true
	// tag/app/latest
	// tag/app/2.0
	// tag/app/1.1
	// tag/app/1.0
}
