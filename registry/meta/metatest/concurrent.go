package metatest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/regkit/regkit/registry/meta"
)

// testSnapshot checks that a View sees all of a concurrent Update's writes
// or none: one writer rewrites a group of keys with one generation number per
// Update, while readers check that every key of the group agrees, through
// Get and through Scan, twice in the same View.
func (s suite) testSnapshot(t *testing.T) {
	st := s.store(t)
	const group = 8
	keys := make([][]byte, group)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("snap/%d", i))
	}
	write := func(gen int) error {
		return st.Update(context.Background(), func(tx meta.Tx) error {
			v := []byte(strconv.Itoa(gen))
			for _, k := range keys {
				if err := tx.Put(k, v); err != nil {
					return err
				}
			}
			// Odd generations also add a key and even ones delete it.
			if gen%2 == 1 {
				return tx.Put([]byte("snap/odd"), v)
			}
			return tx.Delete([]byte("snap/odd"))
		})
	}
	if err := write(0); err != nil {
		t.Fatal(err)
	}
	gens := 200
	if testing.Short() {
		gens = 60
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	wg.Go(func() {
		defer close(done)
		for gen := 1; gen <= gens; gen++ {
			if err := write(gen); err != nil {
				errs <- err
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := st.View(context.Background(), func(tx meta.Tx) error {
					first, err := readGroup(tx, keys)
					if err != nil {
						return err
					}
					second, err := scanGroup(tx)
					if err != nil {
						return err
					}
					if first != second {
						return fmt.Errorf("one View read generation %s with Get and %s with Scan", first, second)
					}
					return nil
				}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// readGroup reads the group with Get and returns its generation, or an error
// if the keys disagree.
func readGroup(tx meta.Tx, keys [][]byte) (string, error) {
	var gen string
	for i, k := range keys {
		v, err := tx.Get(k)
		if err != nil {
			return "", fmt.Errorf("Get(%q): %w", k, err)
		}
		if i == 0 {
			gen = string(v)
		} else if string(v) != gen {
			return "", fmt.Errorf("torn read: %q is generation %s, %q is %s", keys[0], gen, k, v)
		}
	}
	odd, err := tx.Get([]byte("snap/odd"))
	n, _ := strconv.Atoi(gen)
	switch {
	case n%2 == 1 && (err != nil || string(odd) != gen):
		return "", fmt.Errorf("generation %s without its odd key: %q, %v", gen, odd, err)
	case n%2 == 0 && !errors.Is(err, meta.ErrNotFound):
		return "", fmt.Errorf("generation %s with a deleted key: %q, %v", gen, odd, err)
	}
	return gen, nil
}

// scanGroup reads the group with Scan and returns its generation, or an
// error if the keys disagree.
func scanGroup(tx meta.Tx) (string, error) {
	var gen, torn string
	n := 0
	err := tx.Scan(meta.Prefix([]byte("snap/")), func(k, v []byte) bool {
		n++
		if string(k) == "snap/odd" {
			return true
		}
		if gen == "" {
			gen = string(v)
		} else if string(v) != gen {
			torn = fmt.Sprintf("torn scan: generations %s and %s", gen, v)
			return false
		}
		return true
	})
	if err != nil {
		return "", err
	}
	if torn != "" {
		return "", errors.New(torn)
	}
	g, _ := strconv.Atoi(gen)
	if want := 8 + g%2; n != want {
		return "", fmt.Errorf("scan of generation %s found %d keys, want %d", gen, n, want)
	}
	return gen, nil
}

// testCounter increments counters from several goroutines at once: with
// serializable Updates no increment is lost.
func (s suite) testCounter(t *testing.T) {
	st := s.store(t)
	const workers = 4
	incs := 40
	if testing.Short() {
		incs = 15
	}
	counters := [][]byte{[]byte("count/a"), []byte("count/b")}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range incs {
				err := st.Update(context.Background(), func(tx meta.Tx) error {
					for _, c := range counters {
						n := 0
						v, err := tx.Get(c)
						switch {
						case err == nil:
							if n, err = strconv.Atoi(string(v)); err != nil {
								return err
							}
						case !errors.Is(err, meta.ErrNotFound):
							return err
						}
						if err := tx.Put(c, []byte(strconv.Itoa(n+1))); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := strconv.Itoa(workers * incs)
	wantPairs(t, "counters", dump(t, st), []kv{{"count/a", want}, {"count/b", want}})
}

func (s suite) testClosed(t *testing.T) {
	st := s.open(t)
	if st == nil {
		t.Fatal("open returned a nil Store")
	}
	putAll(t, st, kv{"a", "1"})
	h, reports := st.(meta.HealthReporter)
	if reports {
		if err := h.Health(); err != nil {
			t.Fatalf("Health of an open store: %v", err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if reports {
		wantErr(t, "Health after Close", h.Health(), meta.ErrUnavailable)
	}
	called := false
	fn := func(meta.Tx) error { called = true; return nil }
	wantErr(t, "View after Close", st.View(context.Background(), fn), meta.ErrUnavailable)
	wantErr(t, "Update after Close", st.Update(context.Background(), fn), meta.ErrUnavailable)
	if called {
		t.Fatal("a transaction ran after Close")
	}
}

func (s suite) testContext(t *testing.T) {
	st := s.store(t)
	putAll(t, st, kv{"a", "1"})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	tests := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"canceled", canceled, context.Canceled},
		{"deadline exceeded", expired, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			fn := func(tx meta.Tx) error {
				called = true
				return tx.Put([]byte("a"), []byte("changed"))
			}
			wantErr(t, "View", st.View(tt.ctx, fn), tt.want)
			wantErr(t, "Update", st.Update(tt.ctx, fn), tt.want)
			if called {
				t.Fatal("a transaction ran with a done context")
			}
		})
	}
	wantPairs(t, "store", dump(t, st), []kv{{"a", "1"}})
}
