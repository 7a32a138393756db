package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/regkit/regkit/registry/meta"
)

// TestGroupCommit runs many concurrent writes, some of which fail and one of
// which panics, and checks that every writer gets its own outcome: the
// good writes are committed, a failed write never fails another, the panic
// reaches only its own goroutine, and writes still commit afterwards (the
// lead was passed on).
func TestGroupCommit(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(opts ...Option) *Registry) {
		reg := newReg()
		ctx := context.Background()
		errRefused := errors.New("refused")
		const writers = 64
		var wg sync.WaitGroup
		errs := make([]error, writers)
		panics := make([]any, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { panics[i] = recover() }()
				errs[i] = reg.update(ctx, func(tx *txn) error {
					switch {
					case i == 17:
						panic("write 17")
					case i%5 == 0:
						return errRefused
					}
					return tx.Put([]byte(fmt.Sprintf("test/%03d", i)), []byte{byte(i)})
				})
			}()
		}
		wg.Wait()
		for i := range writers {
			switch {
			case i == 17:
				if panics[i] == nil {
					t.Errorf("write %d: the panic did not reach its writer", i)
				}
			case panics[i] != nil:
				t.Errorf("write %d panicked: %v", i, panics[i])
			case i%5 == 0:
				if !errors.Is(errs[i], errRefused) {
					t.Errorf("write %d = %v, want its own error", i, errs[i])
				}
			case errs[i] != nil:
				t.Errorf("write %d = %v", i, errs[i])
			}
		}
		if err := reg.update(ctx, func(tx *txn) error { return tx.Put([]byte("test/after"), nil) }); err != nil {
			t.Fatalf("write after the panic: %v", err)
		}
		err := reg.view(ctx, func(tx meta.Tx) error {
			for i := range writers {
				_, err := tx.Get([]byte(fmt.Sprintf("test/%03d", i)))
				if err != nil && !errors.Is(err, meta.ErrNotFound) {
					return err
				}
				if stored, want := err == nil, i != 17 && i%5 != 0; stored != want {
					t.Errorf("write %d stored = %v, want %v", i, stored, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
