package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/bolt"
)

// TestCloseKeepsAcknowledgedWrites closes a store with the log while 8
// writers commit, from two goroutines at once, and reopens it: every Update
// that returned nil must be in the file, and every Update that failed must
// have failed with an error wrapping meta.ErrUnavailable.
func TestCloseKeepsAcknowledgedWrites(t *testing.T) {
	tests := []struct {
		name string
		opts []bolt.Option
	}{
		{"no checkpoint before Close", []bolt.Option{bolt.WithLog(), bolt.WithNoSync()}},
		{"checkpoints while writing", []bolt.Option{bolt.WithLog(), bolt.WithNoSync(), bolt.WithCheckpointBytes(16 << 10)}},
		{"durable", []bolt.Option{bolt.WithLog()}},
		{"without the log", []bolt.Option{bolt.WithNoSync()}},
	}
	const writers = 8
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for round := range 3 {
				path := filepath.Join(t.TempDir(), "meta.db")
				s := open(t, path, tt.opts...)
				var (
					mu    sync.Mutex
					acked []string
					wg    sync.WaitGroup
				)
				started := make(chan struct{}, writers)
				for w := range writers {
					wg.Go(func() {
						for i := 0; ; i++ {
							key := fmt.Sprintf("r%d/w%d/%06d", round, w, i)
							err := s.Update(context.Background(), func(tx meta.Tx) error {
								return tx.Put([]byte(key), []byte("v"))
							})
							if err != nil {
								if !errors.Is(err, meta.ErrUnavailable) {
									t.Errorf("Update during Close: %v, want an error wrapping ErrUnavailable", err)
								}
								return
							}
							mu.Lock()
							acked = append(acked, key)
							mu.Unlock()
							if i == 200 {
								started <- struct{}{}
							}
						}
					})
				}
				for range writers {
					<-started
				}
				closeErrs := make(chan error, 2)
				for range 2 {
					go func() { closeErrs <- s.Close() }()
				}
				for range 2 {
					if err := <-closeErrs; err != nil {
						t.Fatalf("Close: %v", err)
					}
				}
				wg.Wait()

				s = open(t, path, tt.opts...)
				lost := 0
				for _, key := range acked {
					if _, err := get(t, s, key); err != nil {
						lost++
					}
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if lost > 0 {
					t.Fatalf("round %d: %d of %d acknowledged Updates missing after reopen", round, lost, len(acked))
				}
			}
		})
	}
}
