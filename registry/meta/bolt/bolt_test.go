package bolt_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
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

// BenchmarkStoreWithLog is BenchmarkStore with the write-ahead log, as
// registry.Open runs it (but unsynced, like BenchmarkStore).
func BenchmarkStoreWithLog(b *testing.B) {
	metatest.Benchmark(b, func(b *testing.B) meta.Store {
		s, err := bolt.Open(filepath.Join(b.TempDir(), "meta.db"), bolt.WithLog(), bolt.WithNoSync())
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}

// BenchmarkUpdateDurableLog is BenchmarkUpdateDurable with the log: one
// append and one fdatasync per commit, and the checkpoints they cause; from
// one writer ("serial") and from 8 ("parallel"), each Update its own commit
// (the registry's group commit would batch the 8).
func BenchmarkUpdateDurableLog(b *testing.B) {
	for _, tt := range []struct {
		name string
		opts []bolt.Option
	}{
		{"plain", nil},
		{"log", []bolt.Option{bolt.WithLog()}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			s, err := bolt.Open(filepath.Join(b.TempDir(), "meta.db"), tt.opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			val := make([]byte, 256)
			b.Run("serial", func(b *testing.B) {
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
			})
			b.Run("parallel", func(b *testing.B) {
				b.SetParallelism(4) // 8 writers on 2 cores
				b.ReportAllocs()
				var n atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					v := make([]byte, 256)
					for pb.Next() {
						key := fmt.Appendf(nil, "tag/library/app/%d", n.Add(1)%1000)
						if err := s.Update(b.Context(), func(tx meta.Tx) error {
							return tx.Put(key, v)
						}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}
