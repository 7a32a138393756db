package bolt

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/regkit/regkit/registry/meta"
)

// TestInitialMmapSize opens stores with maps smaller and larger than the
// file grows to: the data written past the first map is read back, also
// after reopening.
func TestInitialMmapSize(t *testing.T) {
	if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" && defaultMmapSize() != 1<<30 {
		t.Fatalf("default initial map %d bytes, want 1 GiB", defaultMmapSize())
	}
	tests := []struct {
		name string
		opts []Option
	}{
		{"default", nil},
		{"bbolt's own", []Option{WithInitialMmapSize(0)}},
		{"smaller than the file", []Option{WithInitialMmapSize(64 << 10)}},
		{"with the log", []Option{WithLog(), WithCheckpointBytes(64 << 10), WithInitialMmapSize(64 << 10)}},
	}
	value := bytes.Repeat([]byte{'x'}, 4096)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "meta.db")
			opts := append([]Option{WithNoSync()}, tt.opts...)
			for round := range 2 {
				s, err := Open(path, opts...)
				if err != nil {
					t.Fatal(err)
				}
				if round == 0 {
					for i := range 512 { // 2 MiB of values
						if err := s.Update(context.Background(), func(tx meta.Tx) error {
							return tx.Put(fmt.Appendf(nil, "k%04d", i), value)
						}); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := s.View(context.Background(), func(tx meta.Tx) error {
					for i := range 512 {
						v, err := tx.Get(fmt.Appendf(nil, "k%04d", i))
						if err != nil || !bytes.Equal(v, value) {
							return fmt.Errorf("k%04d: %d bytes, %w", i, len(v), err)
						}
					}
					return nil
				}); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
