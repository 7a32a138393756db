package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	blobmem "github.com/regkit/regkit/blob/memory"
	"github.com/regkit/regkit/registry/meta"
	metamem "github.com/regkit/regkit/registry/meta/memory"
)

// countingStore counts the transactions of a meta.Store.
type countingStore struct {
	meta.Store
	updates atomic.Int64
}

func (s *countingStore) Update(ctx context.Context, fn func(meta.Tx) error) error {
	s.updates.Add(1)
	return s.Store.Update(ctx, fn)
}

// TestUpdateEachSharesCommits: a group of writes queued together on an idle
// registry commits in one transaction (a batch of up to maxBatch), and
// a larger group in ceil(n/maxBatch).
func TestUpdateEachSharesCommits(t *testing.T) {
	for _, n := range []int{1, 32, maxBatch, maxBatch + 1, 3*maxBatch + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			store := &countingStore{Store: metamem.New()}
			reg, err := New(blobmem.New(), store)
			if err != nil {
				t.Fatal(err)
			}
			defer reg.Close()
			fns := make([]func(*txn) error, n)
			for i := range fns {
				fns[i] = func(tx *txn) error { return tx.Put([]byte(fmt.Sprintf("test/%04d", i)), nil) }
			}
			before := store.updates.Load()
			for i, err := range reg.updateEach(context.Background(), fns) {
				if err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
			}
			if got, want := store.updates.Load()-before, int64((n+maxBatch-1)/maxBatch); got != want {
				t.Fatalf("%d writes took %d transactions, want %d", n, got, want)
			}
		})
	}
}

// TestUpdateEach runs groups of writes beside single writes, some failing
// and one panicking, and checks that every write of a group gets its own
// outcome as update gives it: a failed write never fails another of its
// group, the panic reaches the group's caller once every write is done, and
// writes still commit afterwards.
func TestUpdateEach(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(opts ...Option) *Registry) {
		reg := newReg()
		ctx := context.Background()
		errRefused := errors.New("refused")
		const groups, size, singles = 4, 100, 32
		key := func(g, i int) []byte { return []byte(fmt.Sprintf("test/%d/%03d", g, i)) }
		fails := func(g, i int) bool { return i%7 == 3 }
		panicking := func(g, i int) bool { return g == 2 && i == 50 }
		var wg sync.WaitGroup
		errs := make([][]error, groups)
		panics := make([]any, groups)
		for g := range groups {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { panics[g] = recover() }()
				fns := make([]func(*txn) error, size)
				for i := range fns {
					fns[i] = func(tx *txn) error {
						switch {
						case panicking(g, i):
							panic("write 2/50")
						case fails(g, i):
							return errRefused
						}
						return tx.Put(key(g, i), nil)
					}
				}
				errs[g] = reg.updateEach(ctx, fns)
			}()
		}
		for i := range singles {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := reg.update(ctx, func(tx *txn) error { return tx.Put(key(groups, i), nil) }); err != nil {
					t.Errorf("single write %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		for g := range groups {
			if g == 2 {
				if panics[g] == nil {
					t.Errorf("group %d: the panic did not reach its caller", g)
				}
				continue
			}
			if panics[g] != nil {
				t.Fatalf("group %d panicked: %v", g, panics[g])
			}
			for i, err := range errs[g] {
				if want := fails(g, i); want != errors.Is(err, errRefused) || (!want && err != nil) {
					t.Errorf("write %d/%d = %v", g, i, err)
				}
			}
		}
		err := reg.view(ctx, func(tx meta.Tx) error {
			for g := range groups + 1 {
				n := size
				if g == groups {
					n = singles
				}
				for i := range n {
					_, err := tx.Get(key(g, i))
					if err != nil && !errors.Is(err, meta.ErrNotFound) {
						return err
					}
					want := g == groups || !(fails(g, i) || panicking(g, i))
					if stored := err == nil; stored != want {
						t.Errorf("write %d/%d stored = %v, want %v", g, i, stored, want)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.update(ctx, func(tx *txn) error { return tx.Put([]byte("test/after"), nil) }); err != nil {
			t.Fatalf("write after the groups: %v", err)
		}
	})
}

// TestUpdateEachCancelled: a group whose context has ended writes nothing
// and returns the context's error for every write.
func TestUpdateEachCancelled(t *testing.T) {
	reg, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	fns := []func(*txn) error{func(*txn) error { ran = true; return nil }, func(*txn) error { ran = true; return nil }}
	for i, err := range reg.updateEach(ctx, fns) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("write %d = %v, want context.Canceled", i, err)
		}
	}
	if ran {
		t.Error("a write of a cancelled group ran")
	}
	if errs := reg.updateEach(context.Background(), nil); len(errs) != 0 {
		t.Errorf("empty group = %v", errs)
	}
}
