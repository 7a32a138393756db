package memory_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/blob/memory"
)

// BenchmarkPutGet4KiB is one op: blob.Put of a 4 KiB blob (the Putter path:
// read, hash, verify, store), then ReaderAt, one 4 KiB ReadAt and Close,
// then Delete so the store stays small. It cycles through 1024 distinct
// blobs whose digests are computed before the clock starts, and reports
// ops/s. Run it with -cpu 1 for the one-core figure.
func BenchmarkPutGet4KiB(b *testing.B) {
	ctx := context.Background()
	st := memory.New()
	const n, size = 1024, 4 << 10
	blobs := make([][]byte, n)
	digests := make([]digest.Digest, n)
	for i := range blobs {
		blobs[i] = bytes.Repeat([]byte{byte(i)}, size)
		binary.LittleEndian.PutUint64(blobs[i], uint64(i))
		digests[i] = digest.FromBytes(blobs[i])
	}
	buf := make([]byte, size)
	r := bytes.NewReader(nil)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := i % n
		r.Reset(blobs[k])
		if _, err := blob.Put(ctx, st, digests[k], size, r); err != nil {
			b.Fatal(err)
		}
		ra, err := st.ReaderAt(ctx, digests[k])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ra.ReadAt(buf, 0); err != nil {
			b.Fatal(err)
		}
		ra.Close()
		if err := st.Delete(ctx, digests[k]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
