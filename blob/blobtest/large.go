package blobtest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"runtime"
	"testing"

	"github.com/opencontainers/go-digest"
)

const (
	largeSize  = 1 << 30
	largeChunk = 1 << 20
	// largeHeapLimit is how much the heap may grow while a 1 GiB blob is
	// written or read: far below the blob, so memory is constant.
	largeHeapLimit = 32 << 20
)

// heapPeak samples the heap and remembers the highest value.
type heapPeak struct {
	base, peak uint64
}

func newHeapPeak() *heapPeak {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return &heapPeak{base: ms.HeapAlloc, peak: ms.HeapAlloc}
}

func (h *heapPeak) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.peak = max(h.peak, ms.HeapAlloc)
}

func (h *heapPeak) growth() uint64 { return h.peak - min(h.base, h.peak) }

func (s *suite) testLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1 GiB; skipped with -short")
	}
	if s.cfg.inMemory {
		t.Skip("backend keeps blobs in memory")
	}
	st, _ := s.open(t)
	ctx := context.Background()
	chunk := content(61, largeChunk)
	hp := newHeapPeak()
	w, err := st.Writer(ctx)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	defer w.Close()
	want := sha256.New()
	for i := range largeSize / largeChunk {
		// Vary each chunk so the blob is not periodic.
		binary.LittleEndian.PutUint64(chunk, uint64(i))
		want.Write(chunk)
		if _, err := w.Write(chunk); err != nil {
			t.Fatalf("Write chunk %d: %v", i, err)
		}
		if i%64 == 0 {
			hp.sample()
		}
	}
	d := digest.NewDigest(digest.SHA256, want)
	info, err := w.Commit(ctx, d, largeSize)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	hp.sample()
	if info.Size != largeSize {
		t.Errorf("Commit = %+v", info)
	}
	if g := hp.growth(); g > largeHeapLimit {
		t.Errorf("heap grew by %d MiB while writing 1 GiB, want at most %d MiB", g>>20, largeHeapLimit>>20)
	}

	hp = newHeapPeak()
	r, err := st.ReaderAt(ctx, d)
	if err != nil {
		t.Fatalf("ReaderAt: %v", err)
	}
	defer r.Close()
	got := sha256.New()
	sr := io.NewSectionReader(r, 0, r.Size())
	buf := make([]byte, largeChunk)
	for i := 0; ; i++ {
		n, err := sr.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if i%64 == 0 {
			hp.sample()
		}
	}
	if gd := digest.NewDigest(digest.SHA256, got); gd != d {
		t.Errorf("read back %s, want %s", gd, d)
	}
	if g := hp.growth(); g > largeHeapLimit {
		t.Errorf("heap grew by %d MiB while reading 1 GiB, want at most %d MiB", g>>20, largeHeapLimit>>20)
	}
	if err := st.Delete(ctx, d); err != nil {
		t.Errorf("Delete: %v", err)
	}
}
