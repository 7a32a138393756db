package metatest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/regkit/regkit/registry/meta"
)

// CloseUnderWrites runs writers goroutines committing one new key each per
// Update (keys start with prefix) until st is closed, closes st from two
// goroutines at once once every writer has committed warmup keys, and
// returns the keys whose Update returned nil. It fails t if an Update fails
// with anything but an error wrapping meta.ErrUnavailable, or if either
// Close fails. Reopen the store and check every returned key is there.
func CloseUnderWrites(t *testing.T, st meta.Store, prefix string, writers, warmup int) []string {
	t.Helper()
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	started := make(chan struct{}, writers)
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("%sw%d/%06d", prefix, w, i)
				err := st.Update(context.Background(), func(tx meta.Tx) error {
					return tx.Put([]byte(key), []byte("v"))
				})
				if err != nil {
					if !errors.Is(err, meta.ErrUnavailable) {
						t.Errorf("Update during Close: %v, want an error wrapping ErrUnavailable", err)
					}
					if i < warmup {
						started <- struct{}{} // never block the test on a failed writer
					}
					return
				}
				mu.Lock()
				acked = append(acked, key)
				mu.Unlock()
				if i == warmup {
					started <- struct{}{}
				}
			}
		})
	}
	for range writers {
		<-started
	}
	closed := make(chan error, 2)
	for range 2 {
		go func() { closed <- st.Close() }()
	}
	for range 2 {
		if err := <-closed; err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	wg.Wait()
	return acked
}

// testCloseUnderWrites closes a store, from two goroutines at once, while
// writers commit, then reopens it: every Update that returned nil is there,
// and every one that failed failed with an error wrapping
// meta.ErrUnavailable.
func (p persistSuite) testCloseUnderWrites(t *testing.T) {
	dir := t.TempDir()
	st := p.open(t, dir)
	if st == nil {
		t.Fatal("open returned a nil Store")
	}
	acked := CloseUnderWrites(t, st, "", 4, 50)
	st, closeStore := p.reopen(t, dir)
	defer closeStore()
	lost := 0
	view(t, st, func(tx meta.Tx) error {
		for _, key := range acked {
			if _, err := tx.Get([]byte(key)); err != nil {
				lost++
			}
		}
		return nil
	})
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged Updates missing after Close and reopen", lost, len(acked))
	}
}
