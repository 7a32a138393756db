package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/internal/settle"
)

// The tests in this file check Copy's read-ahead path: a destination without
// io.ReaderFrom gets whole 1 MiB buffers, written on a second goroutine
// while the next buffer is read.

// aheadBuf is Copy's buffer size.
const aheadBuf = 1 << 20

// aheadData returns n pseudo-random bytes, so a buffer written twice, out of
// order or stale shows.
func aheadData(n int) []byte {
	b := make([]byte, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x >> 32)
	}
	return b
}

// countingReader serves data in pieces of at most piece bytes, then fails
// with err (io.EOF for a clean end), counting what it handed out.
type countingReader struct {
	data     []byte
	piece    int
	err      error
	consumed atomic.Int64
	// onRead, if set, runs after each read with the total consumed.
	onRead func(consumed int64)
}

func (r *countingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p[:min(len(p), r.piece)], r.data)
	r.data = r.data[n:]
	c := r.consumed.Add(int64(n))
	if r.onRead != nil {
		r.onRead(c)
	}
	return n, nil
}

// checkedWriter records its writes and checks how Copy calls it: never two
// writes at once, never a buffer changed under a write in progress, never a
// write after a failed one. It has no ReadFrom, so Copy reads ahead for it.
type checkedWriter struct {
	failOn int   // the 1-based call that fails; 0 for none
	err    error // what it fails with
	delay  time.Duration
	// onWrite, if set, runs inside each write with the call's number.
	onWrite func(call int)

	calls      atomic.Int32
	active     atomic.Int32
	overlapped atomic.Bool
	changed    atomic.Bool
	afterFail  atomic.Bool

	mu    sync.Mutex
	got   []byte // the bytes of the successful writes, in call order
	sizes []int  // the length of every call, the failed one included
}

func (w *checkedWriter) Write(p []byte) (int, error) {
	if w.active.Add(1) != 1 {
		w.overlapped.Store(true)
	}
	defer w.active.Add(-1)
	call := int(w.calls.Add(1))
	if w.failOn > 0 && call > w.failOn {
		w.afterFail.Store(true)
	}
	snapshot := bytes.Clone(p)
	if w.onWrite != nil {
		w.onWrite(call)
	}
	// Give the reading goroutine time to run while this write is in progress.
	time.Sleep(w.delay)
	if !bytes.Equal(p, snapshot) {
		w.changed.Store(true)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sizes = append(w.sizes, len(p))
	if call == w.failOn {
		return 0, w.err
	}
	w.got = append(w.got, p...)
	return len(p), nil
}

// check reports the misuses the writer saw, that a write is still in
// progress when Copy has returned, and that one starts afterwards.
func (w *checkedWriter) check(t *testing.T) {
	t.Helper()
	if n := w.active.Load(); n != 0 {
		t.Errorf("Copy returned with %d writes in progress", n)
	}
	calls := w.calls.Load()
	time.Sleep(20 * time.Millisecond)
	if n := w.calls.Load(); n != calls {
		t.Errorf("%d writes started after Copy returned", n-calls)
	}
	if w.overlapped.Load() {
		t.Error("two writes ran at the same time")
	}
	if w.changed.Load() {
		t.Error("a buffer changed while it was being written")
	}
	if w.afterFail.Load() {
		t.Error("Write was called again after it failed")
	}
}

// wantSizes is how Copy should cut n bytes: whole buffers, then the rest.
func wantSizes(n int) []int {
	var s []int
	for ; n >= aheadBuf; n -= aheadBuf {
		s = append(s, aheadBuf)
	}
	if n > 0 {
		s = append(s, n)
	}
	return s
}

func TestCopyAheadDelivers(t *testing.T) {
	sizes := []int{0, 1, aheadBuf - 1, aheadBuf, aheadBuf + 1, 2 * aheadBuf, 3*aheadBuf + 12345}
	pieces := []int{4093, aheadBuf + 3, 8 * aheadBuf}
	for _, size := range sizes {
		for _, piece := range pieces {
			t.Run(fmt.Sprintf("%d/%d", size, piece), func(t *testing.T) {
				data := aheadData(size)
				dst := &checkedWriter{delay: time.Millisecond}
				n, err := blob.Copy(context.Background(), dst, &countingReader{data: data, piece: piece, err: io.EOF})
				if err != nil || n != int64(size) {
					t.Fatalf("Copy = %d, %v; want %d, nil", n, err, size)
				}
				dst.check(t)
				if !bytes.Equal(dst.got, data) {
					t.Errorf("wrote %d bytes that differ from the %d read", len(dst.got), len(data))
				}
				if fmt.Sprint(dst.sizes) != fmt.Sprint(wantSizes(size)) {
					t.Errorf("write sizes = %v, want %v", dst.sizes, wantSizes(size))
				}
			})
		}
	}
}

var errAheadWrite = errors.New("test: storage write failed")

func TestCopyAheadWriteError(t *testing.T) {
	const size = 4*aheadBuf + 333 // four whole buffers and a short last write
	data := aheadData(size)
	for _, failOn := range []int{1, 2, 3, 5} {
		for _, delay := range []time.Duration{0, 5 * time.Millisecond} {
			t.Run(fmt.Sprintf("call%d/delay%v", failOn, delay), func(t *testing.T) {
				dst := &checkedWriter{failOn: failOn, err: errAheadWrite, delay: delay}
				body := &countingReader{data: data, piece: 64 << 10, err: io.EOF}
				n, err := blob.Copy(context.Background(), dst, body)
				if !errors.Is(err, errAheadWrite) {
					t.Fatalf("Copy = %v, want an error wrapping %v", err, errAheadWrite)
				}
				dst.check(t)
				if n := int(dst.calls.Load()); n != failOn {
					t.Errorf("Write called %d times, want %d (none after the failure)", n, failOn)
				}
				good := (failOn - 1) * aheadBuf
				if n != int64(good) || !bytes.Equal(dst.got, data[:good]) {
					t.Errorf("Copy counted %d bytes, the writes before the failure hold %d; want the body's first %d", n, len(dst.got), good)
				}
				if want := wantSizes(size)[:failOn]; fmt.Sprint(dst.sizes) != fmt.Sprint(want) {
					t.Errorf("write sizes = %v, want %v", dst.sizes, want)
				}
				// Reading ahead stops at one buffer past the failed write.
				if c := body.consumed.Load(); c > int64(failOn+1)*aheadBuf {
					t.Errorf("read %d bytes of the body after write %d failed; want at most one buffer ahead", c, failOn)
				}
			})
		}
	}
}

// TestCopyAheadReadError fails the source at points around the buffers,
// with slow and fast writes: Copy returns the error once the bytes read
// before it are written, and leaves no goroutine behind.
func TestCopyAheadReadError(t *testing.T) {
	data := aheadData(4 * aheadBuf)
	for _, n := range []int{100, aheadBuf, aheadBuf + 1, 2 * aheadBuf, 2*aheadBuf + 5, 3*aheadBuf + 12345} {
		for _, delay := range []time.Duration{0, 5 * time.Millisecond} {
			t.Run(fmt.Sprintf("%d/delay%v", n, delay), func(t *testing.T) {
				before := runtime.NumGoroutine()
				dst := &checkedWriter{delay: delay}
				got, err := blob.Copy(context.Background(), dst, &countingReader{data: data[:n], piece: 32 << 10, err: errTest})
				if !errors.Is(err, errTest) {
					t.Fatalf("Copy = %v, want an error wrapping %v", err, errTest)
				}
				dst.check(t)
				if got != int64(n) || !bytes.Equal(dst.got, data[:n]) {
					t.Errorf("Copy counted %d bytes and wrote %d; want all %d read before the error", got, len(dst.got), n)
				}
				if after := settle.Goroutines(before); after > before {
					t.Errorf("%d goroutines after Copy, %d before", after, before)
				}
			})
		}
	}
}

// TestCopyAheadReadsAhead checks the point of the second buffer: while a
// whole buffer is being written, the next one is read, and no further.
func TestCopyAheadReadsAhead(t *testing.T) {
	data := aheadData(4 * aheadBuf)
	secondFull := make(chan struct{})
	body := &countingReader{data: data, piece: 64 << 10, err: io.EOF}
	body.onRead = func(c int64) {
		if c == 2*aheadBuf {
			close(secondFull)
		}
	}
	var ahead, tooFar atomic.Int64
	dst := &checkedWriter{onWrite: func(call int) {
		if call != 1 {
			return
		}
		select {
		case <-secondFull:
			ahead.Store(1)
		case <-time.After(5 * time.Second):
			return
		}
		// The first write is still in progress: Copy must wait for it
		// before it reads a third buffer.
		time.Sleep(20 * time.Millisecond)
		tooFar.Store(body.consumed.Load())
	}}
	if _, err := blob.Copy(context.Background(), dst, body); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	dst.check(t)
	if ahead.Load() == 0 {
		t.Error("the second buffer was not read while the first was being written")
	}
	if c := tooFar.Load(); c > 2*aheadBuf {
		t.Errorf("read %d bytes while the first buffer was being written, more than two buffers", c)
	}
	if !bytes.Equal(dst.got, data) {
		t.Error("the written bytes differ from the body")
	}
}

// TestCopyAheadWritePanics turns a panic in the destination's Write, on the
// second goroutine, into Copy's error instead of a crash.
func TestCopyAheadWritePanics(t *testing.T) {
	dst := &checkedWriter{onWrite: func(call int) {
		if call == 2 {
			panic("test: write panics")
		}
	}}
	_, err := blob.Copy(context.Background(), dst, &countingReader{data: aheadData(3 * aheadBuf), piece: aheadBuf, err: io.EOF})
	if err == nil {
		t.Fatal("Copy succeeded although Write panicked")
	}
}
