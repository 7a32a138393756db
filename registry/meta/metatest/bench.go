package metatest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/regkit/regkit/registry/meta"
)

// Benchmark sizes: a registry-shaped key space of 100k keys (1000 tags in
// each of 100 repositories) with values the size of a tag record.
const (
	benchKeys     = 100_000
	benchValueLen = 256
	benchPage     = 100
)

// Benchmark measures a store of 100k keys: Get of a random key, the same
// from parallel readers, a Scan page of 100 keys from a random key in both
// directions, and Updates that overwrite 1 or 10 random keys. Each
// operation is one transaction; ns/op is per transaction. open must return
// a new, empty store; Benchmark closes it.
func Benchmark(b *testing.B, open func(b *testing.B) meta.Store) {
	st := open(b)
	defer func() {
		if err := st.Close(); err != nil {
			b.Errorf("Close: %v", err)
		}
	}()
	keys := benchLoad(b, st)
	ctx := context.Background()

	b.Run("Get", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 1))
		b.ReportAllocs()
		for b.Loop() {
			k := keys[rng.IntN(len(keys))]
			if err := st.View(ctx, func(tx meta.Tx) error {
				_, err := tx.Get(k)
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetParallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(rand.Uint64(), 2))
			for pb.Next() {
				k := keys[rng.IntN(len(keys))]
				if err := st.View(ctx, func(tx meta.Tx) error {
					_, err := tx.Get(k)
					return err
				}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	for _, reverse := range []bool{false, true} {
		name := "ScanPage100"
		if reverse {
			name += "Reverse"
		}
		b.Run(name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 3))
			b.ReportAllocs()
			for b.Loop() {
				r := meta.Range{Start: keys[rng.IntN(len(keys))]}
				if reverse {
					r = meta.Range{End: r.Start, Reverse: true}
				}
				n := 0
				if err := st.View(ctx, func(tx meta.Tx) error {
					return tx.Scan(r, func(k, v []byte) bool {
						n++
						return n < benchPage
					})
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, batch := range []int{1, 10} {
		b.Run(fmt.Sprintf("Update%d", batch), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(4, 4))
			val := make([]byte, benchValueLen)
			b.ReportAllocs()
			for b.Loop() {
				if err := st.Update(ctx, func(tx meta.Tx) error {
					for range batch {
						val[0]++
						if err := tx.Put(keys[rng.IntN(len(keys))], val); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchLoad fills st with the benchmark's key space and returns the keys.
func benchLoad(b *testing.B, st meta.Store) [][]byte {
	b.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	keys := make([][]byte, benchKeys)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "tag/library/repo-%03d/v%d.%d", i%100, i/100, rng.IntN(1000))
	}
	val := make([]byte, benchValueLen)
	const batch = 10_000
	for i := 0; i < len(keys); i += batch {
		if err := st.Update(context.Background(), func(tx meta.Tx) error {
			for _, k := range keys[i : i+batch] {
				val[0]++
				if err := tx.Put(k, val); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	return keys
}
