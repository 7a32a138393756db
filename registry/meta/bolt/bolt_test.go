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
