package bolt_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/regkit/regkit/registry/meta/bolt"
	"github.com/regkit/regkit/registry/meta/metatest"
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
				acked := metatest.CloseUnderWrites(t, s, fmt.Sprintf("r%d/", round), writers, 200)

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
