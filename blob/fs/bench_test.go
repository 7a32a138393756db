package fs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/blob/fs"
)

const (
	benchSize  = 256 << 20
	benchChunk = 1 << 20
)

// benchData returns benchSize random bytes and their digest.
func benchData(b *testing.B) ([]byte, digest.Digest) {
	b.Helper()
	data := randBytes(benchSize)
	return data, digest.FromBytes(data)
}

// BenchmarkSHA256Baseline hashes 256 MiB with crypto/sha256 on one core:
// the baseline BenchmarkFSWrite256MiB is compared to.
func BenchmarkSHA256Baseline(b *testing.B) {
	data, _ := benchData(b)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
		h := sha256.New()
		for off := 0; off < len(data); off += benchChunk {
			h.Write(data[off : off+benchChunk])
		}
		h.Sum(nil)
	}
}

// BenchmarkFSWrite256MiB is a committed write: Writer, 1 MiB Writes, Commit
// (fsync, rename, directory fsync). The blob is deleted between iterations,
// off the clock, so every Commit really writes. It also reports
// sha256-ratio: its throughput over that of hashing the same bytes with
// crypto/sha256, timed in the same iteration.
func BenchmarkFSWrite256MiB(b *testing.B) {
	benchWrite256MiB(b, func(w blob.Writer, data []byte) error {
		for off := 0; off < len(data); off += benchChunk {
			if _, err := w.Write(data[off : off+benchChunk]); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkFSReadFrom256MiB is BenchmarkFSWrite256MiB fed through the
// Writer's ReadFrom (what io.Copy and blob.Copy use): the read, hash and
// write pipeline.
func BenchmarkFSReadFrom256MiB(b *testing.B) {
	benchWrite256MiB(b, func(w blob.Writer, data []byte) error {
		_, err := w.(io.ReaderFrom).ReadFrom(bytes.NewReader(data))
		return err
	})
}

// benchWrite256MiB writes and commits a 256 MiB blob with fill, and reports
// the time of hashing the same bytes alone over it as sha256-ratio.
func benchWrite256MiB(b *testing.B, fill func(w blob.Writer, data []byte) error) {
	ctx := context.Background()
	st := open(b, b.TempDir())
	data, d := benchData(b)
	b.SetBytes(benchSize)
	b.ResetTimer()
	var write, hash time.Duration
	for range b.N {
		start := time.Now()
		w, err := st.Writer(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := fill(w, data); err != nil {
			b.Fatal(err)
		}
		if _, err := w.Commit(ctx, d, benchSize); err != nil {
			b.Fatal(err)
		}
		write += time.Since(start)
		b.StopTimer()
		start = time.Now()
		h := sha256.New()
		for off := 0; off < len(data); off += benchChunk {
			h.Write(data[off : off+benchChunk])
		}
		h.Sum(nil)
		hash += time.Since(start)
		if err := st.Delete(ctx, d); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(hash)/float64(write), "sha256-ratio")
}

// BenchmarkFSWrite1GiBHeap writes and commits a 1 GiB blob from one 1 MiB
// buffer and reports the peak heap growth (sampled every 16 MiB) as
// peak-heap-MiB.
func BenchmarkFSWrite1GiBHeap(b *testing.B) {
	ctx := context.Background()
	st := open(b, b.TempDir())
	chunk := randBytes(benchChunk)
	const size = 1 << 30
	want := sha256.New()
	for range size / benchChunk {
		want.Write(chunk)
	}
	d := digest.NewDigest(digest.SHA256, want)
	b.SetBytes(size)
	var peak uint64
	var ms runtime.MemStats
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		w, err := st.Writer(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for i := range size / benchChunk {
			if _, err := w.Write(chunk); err != nil {
				b.Fatal(err)
			}
			if i%16 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
			}
		}
		if _, err := w.Commit(ctx, d, size); err != nil {
			b.Fatal(err)
		}
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
		b.StopTimer()
		if err := st.Delete(ctx, d); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// BenchmarkFSReadAt256MiB reads a committed 256 MiB blob (in the page cache)
// through ReaderAt with 1 MiB reads.
func BenchmarkFSReadAt256MiB(b *testing.B) {
	r := benchBlob(b)
	buf := make([]byte, benchChunk)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
		for off := int64(0); off < benchSize; off += benchChunk {
			if _, err := r.ReadAt(buf, off); err != nil && err != io.EOF {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkFSServeContent256MiB serves a committed 256 MiB blob through
// http.ServeContent over io.NewSectionReader, as the HTTP layer does, into
// a ResponseWriter that discards the body.
func BenchmarkFSServeContent256MiB(b *testing.B) {
	r := benchBlob(b)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
		w := discardResponse{h: http.Header{}}
		http.ServeContent(w, req, "", time.Time{}, io.NewSectionReader(r, 0, r.Size()))
	}
}

type discardResponse struct{ h http.Header }

func (d discardResponse) Header() http.Header         { return d.h }
func (d discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (d discardResponse) WriteHeader(int)             {}

// benchBlob commits a 256 MiB blob and opens it, reading it once so it is
// in the page cache.
func benchBlob(b *testing.B) blob.ReaderAt {
	b.Helper()
	ctx := context.Background()
	st := open(b, b.TempDir())
	data, d := benchData(b)
	if _, err := blob.Put(ctx, st, d, benchSize, bytesReader(data)); err != nil {
		b.Fatal(err)
	}
	r, err := st.ReaderAt(ctx, d)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	io.Copy(io.Discard, io.NewSectionReader(r, 0, r.Size()))
	return r
}

// BenchmarkFSFirstRead256MiB pushes a 256 MiB blob through ReadFrom and
// Commit, then reads it once through ReaderAt in 1 MiB reads, as the first
// pull right after a push does. It reports both rates (push-MB/s,
// first-read-MB/s) and the push's sha256-ratio, for direct I/O with and
// without read-back and for buffered writes. The blob is deleted between
// iterations, so every read is the first of a freshly written file.
func BenchmarkFSFirstRead256MiB(b *testing.B) {
	for _, v := range []struct {
		name         string
		direct, back bool
	}{{"direct+readback", true, true}, {"direct", true, false}, {"buffered", false, false}} {
		b.Run(v.name, func(b *testing.B) {
			ctx := context.Background()
			st, err := fs.Open(b.TempDir(), fs.WithDirectIO(v.direct), fs.WithReadBack(v.back))
			if err != nil {
				b.Fatal(err)
			}
			data, d := benchData(b)
			buf := make([]byte, benchChunk)
			var push, read, hash time.Duration
			b.SetBytes(benchSize)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				w, err := st.Writer(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := w.(io.ReaderFrom).ReadFrom(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
				if _, err := w.Commit(ctx, d, benchSize); err != nil {
					b.Fatal(err)
				}
				push += time.Since(start)
				start = time.Now()
				r, err := st.ReaderAt(ctx, d)
				if err != nil {
					b.Fatal(err)
				}
				for off := int64(0); off < benchSize; off += benchChunk {
					if _, err := r.ReadAt(buf, off); err != nil && err != io.EOF {
						b.Fatal(err)
					}
				}
				r.Close()
				read += time.Since(start)
				b.StopTimer()
				start = time.Now()
				h := sha256.New()
				h.Write(data)
				h.Sum(nil)
				hash += time.Since(start)
				if err := st.Delete(ctx, d); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			n := float64(b.N) * benchSize / 1e6
			b.ReportMetric(n/push.Seconds(), "push-MB/s")
			b.ReportMetric(n/read.Seconds(), "first-read-MB/s")
			b.ReportMetric(float64(hash)/float64(push), "sha256-ratio")
		})
	}
}
