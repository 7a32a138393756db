package bolt

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/regkit/regkit/registry/meta"
)

// TestBackpressure holds a checkpoint in its transaction while a writer
// commits: once the new active layer holds WithMaxPendingBytes of records,
// the writer waits for the checkpoint to end, while reads go on; then it
// resumes and nothing is lost.
func TestBackpressure(t *testing.T) {
	tests := []struct {
		name  string
		bound int64
	}{
		{"tight bound", 100},
		{"bound of many records", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "meta.db")
			entered, release := make(chan struct{}), make(chan struct{})
			blocked := make(chan struct{}, 1)
			var once sync.Once
			s, err := Open(path, WithLog(), WithNoSync(), WithCheckpointBytes(1<<30), WithMaxPendingBytes(tt.bound),
				withHooks(hooks{
					checkpoint: func() error {
						once.Do(func() { close(entered); <-release })
						return nil
					},
					blocked: func() {
						select {
						case blocked <- struct{}{}:
						default:
						}
					},
				}))
			if err != nil {
				t.Fatal(err)
			}
			before := keys("a", 10)
			putEach(t, s, before...)
			checkpointed := make(chan error, 1)
			go func() { checkpointed <- s.checkpoint() }()
			<-entered

			during := keys("b", 200)
			wrote := make(chan error, 1)
			go func() {
				for _, k := range during {
					if err := s.Update(context.Background(), func(tx meta.Tx) error {
						return tx.Put([]byte(k), []byte("v-"+k))
					}); err != nil {
						wrote <- fmt.Errorf("Update %s: %w", k, err)
						return
					}
				}
				wrote <- nil
			}()
			<-blocked
			select {
			case err := <-wrote:
				t.Fatalf("the writes ran through a held checkpoint: %v", err)
			default:
			}
			s.log.mu.Lock()
			pending := s.log.seg.records()
			s.log.mu.Unlock()
			const record = 8 + 1 + 1 + 4 + 1 + 6 // header, put, key and value lengths, key, value
			if pending < tt.bound || pending >= tt.bound+record {
				t.Fatalf("writer waits with %d bytes of records pending; want %d to %d", pending, tt.bound, tt.bound+record-1)
			}
			if n := present(t, s, before); n != len(before) {
				t.Fatalf("a read during the checkpoint finds %d of %d keys", n, len(before))
			}

			close(release)
			if err := <-checkpointed; err != nil {
				t.Fatalf("checkpoint: %v", err)
			}
			if err := <-wrote; err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			reopenWorks(t, path, append(before, during...))
		})
	}
}
