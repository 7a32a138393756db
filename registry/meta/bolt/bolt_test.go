package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/bolt"
	"github.com/regkit/regkit/registry/meta/metatest"
)

func TestConformance(t *testing.T) {
	metatest.RunPersistent(t, func(t *testing.T, dir string) meta.Store {
		return open(t, filepath.Join(dir, "meta.db"), bolt.WithNoSync())
	})
}

func BenchmarkStore(b *testing.B) {
	metatest.Benchmark(b, func(b *testing.B) meta.Store {
		s, err := bolt.Open(filepath.Join(b.TempDir(), "meta.db"), bolt.WithNoSync())
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}

// open opens a store or fails the test.
func open(t *testing.T, path string, opts ...bolt.Option) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// BenchmarkUpdateDurable measures a one-key Update with the default options:
// the cost of a commit is two fsyncs of the file, so the figure is the disk's.
func BenchmarkUpdateDurable(b *testing.B) {
	s, err := bolt.Open(filepath.Join(b.TempDir(), "meta.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	val := make([]byte, 256)
	key := []byte("tag/library/app/latest")
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Update(b.Context(), func(tx meta.Tx) error {
			val[0]++
			return tx.Put(key, val)
		}); err != nil {
			b.Fatal(err)
		}
	}
}
