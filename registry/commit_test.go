package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

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

// TestGroupCommitCancelled: a write whose context ends while it waits for
// the leader is not committed and returns its context's error, and the
// leader's context never fails the writes it commits for others.
func TestGroupCommitCancelled(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(opts ...Option) *Registry) {
		reg := newReg()
		queued := func(n int) {
			for {
				reg.queueMu.Lock()
				l := len(reg.queue)
				reg.queueMu.Unlock()
				if l >= n {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}
		// lead starts a write that holds its transaction until release is
		// closed, and returns once it is in it.
		leaderDone := make(chan error, 1)
		lead := func(k string, release chan struct{}) {
			entered := make(chan struct{})
			var once sync.Once
			go func() {
				leaderDone <- reg.update(context.Background(), func(tx *txn) error {
					once.Do(func() { close(entered) })
					<-release
					return tx.Put([]byte(k), nil)
				})
			}()
			<-entered
		}
		release := make(chan struct{})
		lead("test/leader", release)
		ctx, cancel := context.WithCancel(context.Background())
		waiterDone := make(chan error, 1)
		go func() {
			waiterDone <- reg.update(ctx, func(tx *txn) error { return tx.Put([]byte("test/cancelled"), nil) })
		}()
		queued(1)
		cancel()
		close(release)
		if err := <-leaderDone; err != nil {
			t.Fatalf("leader: %v", err)
		}
		if err := <-waiterDone; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled write = %v, want context.Canceled", err)
		}

		// A writer that leads the next batch but whose context ended skips
		// only its own write: the others in its batch commit.
		release = make(chan struct{})
		lead("test/leader2", release)
		lctx, lcancel := context.WithCancel(context.Background())
		go func() {
			waiterDone <- reg.update(lctx, func(tx *txn) error { return tx.Put([]byte("test/gone-leader"), nil) })
		}()
		queued(1) // leads the next batch
		others := make(chan error, 2)
		for i := range 2 {
			go func() {
				others <- reg.update(context.Background(), func(tx *txn) error {
					return tx.Put([]byte(fmt.Sprintf("test/other%d", i)), nil)
				})
			}()
		}
		queued(3)
		lcancel()
		close(release)
		if err := <-leaderDone; err != nil {
			t.Fatalf("first leader: %v", err)
		}
		if err := <-waiterDone; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled leader's write = %v, want context.Canceled", err)
		}
		for range 2 {
			if err := <-others; err != nil {
				t.Fatalf("a write in a cancelled leader's batch: %v", err)
			}
		}
		err := reg.view(context.Background(), func(tx meta.Tx) error {
			for k, want := range map[string]bool{"test/leader": true, "test/cancelled": false, "test/leader2": true, "test/gone-leader": false, "test/other0": true, "test/other1": true} {
				_, err := tx.Get([]byte(k))
				if err != nil && !errors.Is(err, meta.ErrNotFound) {
					return err
				}
				if got := err == nil; got != want {
					t.Errorf("%s stored = %v, want %v", k, got, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
