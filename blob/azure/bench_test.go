package azure_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob/azure"
)

// benchSize is the blob size of the benchmarks: 32 MiB, four 8 MiB blocks.
const benchSize = 32 << 20

func benchData() []byte {
	b := make([]byte, benchSize)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b
}

// BenchmarkSHA256 is the baseline: hashing the same bytes in memory.
func BenchmarkSHA256(b *testing.B) {
	data := benchData()
	b.SetBytes(benchSize)
	for b.Loop() {
		_ = sha256.Sum256(data)
	}
}

// BenchmarkWrite uploads and commits a 32 MiB blob to the Blob service,
// in one Write and in 64 KiB Writes (a new digest each time); the last
// case only writes, closes and aborts, to split the time between staging
// blocks and the commit's server-side copy.
func BenchmarkWrite(b *testing.B) {
	for _, bc := range []struct {
		name     string
		chunk    int
		noCommit bool
	}{{"1chunk", benchSize, false}, {"64KiBchunks", 64 << 10, false}, {"1chunk-closed-not-committed", benchSize, true}} {
		b.Run(bc.name, func(b *testing.B) {
			c := newContainer(b)
			s := open(b, c)
			data := benchData()
			ctx := context.Background()
			b.SetBytes(benchSize)
			i := uint64(0)
			for b.Loop() {
				i++
				binary.LittleEndian.PutUint64(data, i)
				w, err := s.Writer(ctx)
				if err != nil {
					b.Fatal(err)
				}
				for off := 0; off < len(data); off += bc.chunk {
					if _, err := w.Write(data[off:min(off+bc.chunk, len(data))]); err != nil {
						b.Fatal(err)
					}
				}
				if bc.noCommit {
					w.Close()
					if err := s.Abort(ctx, w.ID()); err != nil {
						b.Fatal(err)
					}
					continue
				}
				if _, err := w.Commit(ctx, digest.FromBytes(data), benchSize); err != nil {
					b.Fatal(err)
				}
				w.Close()
			}
		})
	}
}

// BenchmarkRead opens a 32 MiB blob and reads it whole in 1 MiB ReadAt
// calls (one ranged Get Blob each), as http.ServeContent does.
func BenchmarkRead(b *testing.B) {
	c := newContainer(b)
	s := open(b, c, azure.WithBlockSize(8<<20))
	data := benchData()
	ctx := context.Background()
	w, err := s.Writer(ctx)
	if err != nil {
		b.Fatal(err)
	}
	w.Write(data)
	d := digest.FromBytes(data)
	if _, err := w.Commit(ctx, d, benchSize); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(benchSize)
	for b.Loop() {
		r, err := s.ReaderAt(ctx, d)
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.CopyBuffer(h, io.NewSectionReader(r, 0, r.Size()), buf); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
