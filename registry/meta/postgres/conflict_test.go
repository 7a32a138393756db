package postgres_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/postgres"
)

// increment adds one to the counter under key in one Update of s.
func increment(ctx context.Context, s meta.Store, key []byte) error {
	return s.Update(ctx, func(tx meta.Tx) error {
		n := 0
		v, err := tx.Get(key)
		switch {
		case err == nil:
			if n, err = strconv.Atoi(string(v)); err != nil {
				return err
			}
		case !errors.Is(err, meta.ErrNotFound):
			return err
		}
		return tx.Put(key, []byte(strconv.Itoa(n+1)))
	})
}

// countConcurrently runs perStore goroutines on each Store, each calling
// increment incs times on the key keyOf(store, worker, n) picks, and fails
// the test on the first error.
func countConcurrently(t *testing.T, stores []*postgres.Store, perStore, incs int, keyOf func(i, w, n int) []byte) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*perStore)
	for i, s := range stores {
		for w := range perStore {
			wg.Go(func() {
				for n := range incs {
					if err := increment(t.Context(), s, keyOf(i, w, n)); err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestTwoStoresCounter increments shared counters from goroutines of two
// Stores on one table, as two registry frontends would: serializable
// Updates, retried on conflict, lose no increment.
func TestTwoStoresCounter(t *testing.T) {
	table := uniqueTable(t)
	stores := []*postgres.Store{
		open(t, table, postgres.WithMaxRetries(50)),
		open(t, table, postgres.WithMaxRetries(50)),
	}
	for _, s := range stores {
		defer s.Close()
	}
	const perStore, incs = 3, 30
	keys := [][]byte{[]byte("count/x"), []byte("count/y")}
	// Each worker alternates, so workers of both stores collide on both keys.
	countConcurrently(t, stores, perStore, incs, func(i, w, n int) []byte { return keys[(i+w+n)%2] })
	total := 0
	for _, k := range keys {
		n, err := strconv.Atoi(get(t, stores[1], string(k)))
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if want := len(stores) * perStore * incs; total != want {
		t.Fatalf("counters add up to %d, want %d", total, want)
	}
}

// TestConflict makes one Update lose deterministically: it reads a key,
// another Store's Update changes that key and commits, then the first
// writes it. PostgreSQL aborts the first; without retries Update fails
// with meta.ErrConflict, with one it runs fn again and succeeds.
func TestConflict(t *testing.T) {
	table := uniqueTable(t)
	other := open(t, table)
	defer other.Close()
	key := []byte("count")
	if err := increment(t.Context(), other, key); err != nil {
		t.Fatal(err)
	}
	for _, retries := range []int{0, 1} {
		t.Run("retries="+strconv.Itoa(retries), func(t *testing.T) {
			s := open(t, table, postgres.WithMaxRetries(retries))
			defer s.Close()
			var calls atomic.Int32
			err := s.Update(t.Context(), func(tx meta.Tx) error {
				v, err := tx.Get(key)
				if err != nil {
					return err
				}
				if calls.Add(1) == 1 {
					if err := increment(t.Context(), other, key); err != nil {
						t.Errorf("the other Update: %v", err)
					}
				}
				n, _ := strconv.Atoi(string(v))
				return tx.Put(key, []byte(strconv.Itoa(n+1)))
			})
			switch {
			case retries == 0 && !errors.Is(err, meta.ErrConflict):
				t.Fatalf("Update = %v, want an error wrapping meta.ErrConflict", err)
			case retries == 0 && calls.Load() != 1:
				t.Fatalf("fn ran %d times without retries", calls.Load())
			case retries == 1 && (err != nil || calls.Load() != 2):
				t.Fatalf("Update = %v after %d runs of fn, want nil after 2", err, calls.Load())
			}
		})
	}
	// Start 1, then +1 by the other store in each subtest, +1 by the retried
	// Update.
	if got := get(t, other, string(key)); got != "4" {
		t.Fatalf("counter = %s, want 4", got)
	}
}

// TestConnectionLost kills the server process of a Store's connection in
// the middle of a transaction: the transaction fails with an error wrapping
// meta.ErrUnavailable, writes nothing, and the next one runs on a new
// connection.
func TestConnectionLost(t *testing.T) {
	table := uniqueTable(t)
	const app = "regkit_victim"
	s, err := postgres.Open(t.Context(), serverURL(t)+"&application_name="+app, postgres.WithTable(table))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	admin := hostPool(t, nil, 0)
	err = s.Update(t.Context(), func(tx meta.Tx) error {
		if _, err := tx.Get([]byte("k")); !errors.Is(err, meta.ErrNotFound) {
			return err
		}
		if _, err := admin.Exec(t.Context(),
			"SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = $1", app); err != nil {
			t.Errorf("terminate: %v", err)
		}
		if err := tx.Put([]byte("k"), []byte("lost")); err != nil {
			return err
		}
		_, err := tx.Get([]byte("other"))
		return err
	})
	if !errors.Is(err, meta.ErrUnavailable) {
		t.Fatalf("Update on a killed connection = %v, want an error wrapping meta.ErrUnavailable", err)
	}
	if err := s.Update(t.Context(), func(tx meta.Tx) error { return tx.Put([]byte("k2"), []byte("v")) }); err != nil {
		t.Fatalf("Update after the lost connection: %v", err)
	}
	err = s.View(t.Context(), func(tx meta.Tx) error {
		_, err := tx.Get([]byte("k"))
		return err
	})
	if !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("the failed Update's write: %v, want meta.ErrNotFound", err)
	}
	if err := s.Health(); err != nil {
		t.Fatalf("Health: %v", err)
	}
}

// TestContextDuringTransaction cancels the context while fn runs: the next
// round trip fails with the context's error and nothing is written.
func TestContextDuringTransaction(t *testing.T) {
	s := open(t, uniqueTable(t))
	defer s.Close()
	ctx, cancel := context.WithCancel(t.Context())
	err := s.Update(ctx, func(tx meta.Tx) error {
		if _, err := tx.Get([]byte("a")); !errors.Is(err, meta.ErrNotFound) {
			return err
		}
		if err := tx.Put([]byte("a"), []byte("1")); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update = %v, want an error wrapping context.Canceled", err)
	}
	err = s.View(t.Context(), func(tx meta.Tx) error {
		_, err := tx.Get([]byte("a"))
		return err
	})
	if !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("after a canceled commit: %v, want meta.ErrNotFound", err)
	}
}

// TestHotKeyNeverStarves: eight goroutines of two Stores increment one key
// with only three retries allowed. Each Update that has lost three times
// takes the writers' gate exclusively and runs alone, so none gives up
// however hot the key, and no increment is lost.
func TestHotKeyNeverStarves(t *testing.T) {
	table := uniqueTable(t)
	stores := []*postgres.Store{
		open(t, table, postgres.WithMaxRetries(3)),
		open(t, table, postgres.WithMaxRetries(3)),
	}
	for _, s := range stores {
		defer s.Close()
	}
	const perStore, incs = 4, 25
	key := []byte("count/hot")
	countConcurrently(t, stores, perStore, incs, func(int, int, int) []byte { return key })
	if got, want := get(t, stores[0], string(key)), strconv.Itoa(len(stores)*perStore*incs); got != want {
		t.Fatalf("counter = %s, want %s", got, want)
	}
}
