package metatest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/regkit/regkit/registry/meta"
)

// Benchmark sizes: a registry-shaped key space of 100k tags (1000 in each of
// 100 repositories) with values the size of a tag record, each naming one
// of 10k manifests of 2 KiB.
const (
	benchKeys        = 100_000
	benchValueLen    = 256
	benchManifests   = 10_000
	benchManifestLen = 2048
	benchPage        = 100
)

// Benchmark measures a store of 100k tag keys and 10k manifests: Get of a
// random tag, the same from parallel readers, Resolve (a tag and the 2 KiB
// manifest it names, copied out, in one View), a Scan page of 100 keys from
// a random tag in both directions, and Updates that overwrite 1 or 10 random
// tags. Each operation is one transaction; ns/op is per transaction. open
// must return a new, empty store; Benchmark closes it.
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
	b.Run("Resolve", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(2, 2))
		manifest := make([]byte, 0, benchManifestLen)
		b.ReportAllocs()
		for b.Loop() {
			k := keys[rng.IntN(len(keys))]
			if err := st.View(ctx, func(tx meta.Tx) error {
				tag, err := tx.Get(k)
				if err != nil {
					return err
				}
				m, err := tx.Get(tag[:len(manifestKey(0))])
				manifest = append(manifest[:0], m...)
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
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

// manifestKey returns the key of manifest i; every one has the same length.
func manifestKey(i int) []byte {
	return fmt.Appendf(nil, "manifest/sha256:%064x", i)
}

// benchLoad fills st with the benchmark's manifests and tags and returns
// the tag keys. A tag's value starts with the key of its manifest.
func benchLoad(b *testing.B, st meta.Store) [][]byte {
	b.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	const batch = 10_000
	manifest := make([]byte, benchManifestLen)
	if err := st.Update(context.Background(), func(tx meta.Tx) error {
		for i := range benchManifests {
			manifest[0] = byte(i)
			if err := tx.Put(manifestKey(i), manifest); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	keys := make([][]byte, benchKeys)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "tag/library/repo-%03d/v%d.%d", i%100, i/100, rng.IntN(1000))
	}
	val := make([]byte, benchValueLen)
	for i := 0; i < len(keys); i += batch {
		if err := st.Update(context.Background(), func(tx meta.Tx) error {
			for _, k := range keys[i : i+batch] {
				copy(val, manifestKey(rng.IntN(benchManifests)))
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
