package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regkit/regkit/registry"
)

// cbBuf is the size of blob.Copy's buffers, which copyBody uses for a
// destination without io.ReaderFrom (the cbWriter of these tests).
const cbBuf = 1 << 20

// cbHandler returns a handler built by New.
func cbHandler(t *testing.T) *Handler {
	t.Helper()
	reg, err := registry.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	return New(reg)
}

// cbData returns n pseudo-random bytes, so a buffer written twice, out of
// order or stale shows.
func cbData(n int) []byte {
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

// cbReader serves data in pieces of at most piece bytes, then fails with
// err (io.EOF for a clean end), counting what it handed out.
type cbReader struct {
	data     []byte
	piece    int
	err      error
	consumed atomic.Int64
	// onRead, if set, runs after each read with the total consumed.
	onRead func(consumed int64)
}

func (r *cbReader) Read(p []byte) (int, error) {
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

// cbWriter is an upload that records its writes and checks how copyBody
// calls it: never two writes at once, never a buffer changed under a write
// in progress, never a write after a failed one.
type cbWriter struct {
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

func (w *cbWriter) Write(p []byte) (int, error) {
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
// progress when copyBody has returned, and that one starts afterwards.
func (w *cbWriter) check(t *testing.T) {
	t.Helper()
	if n := w.active.Load(); n != 0 {
		t.Errorf("copyBody returned with %d writes in progress", n)
	}
	calls := w.calls.Load()
	time.Sleep(20 * time.Millisecond)
	if n := w.calls.Load(); n != calls {
		t.Errorf("%d writes started after copyBody returned", n-calls)
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

// wantSizes is how copyBody should cut n bytes: whole buffers, then the rest.
func wantSizes(n int) []int {
	var s []int
	for ; n >= cbBuf; n -= cbBuf {
		s = append(s, cbBuf)
	}
	if n > 0 {
		s = append(s, n)
	}
	return s
}

func TestCopyBodyDelivers(t *testing.T) {
	h := cbHandler(t)
	sizes := []int{0, 1, cbBuf - 1, cbBuf, cbBuf + 1, 2 * cbBuf, 3*cbBuf + 12345}
	pieces := []int{4093, cbBuf + 3, 8 * cbBuf}
	for _, size := range sizes {
		for _, piece := range pieces {
			t.Run(fmt.Sprintf("%d/%d", size, piece), func(t *testing.T) {
				data := cbData(size)
				dst := &cbWriter{delay: time.Millisecond}
				if err := h.copyBody(dst, &cbReader{data: data, piece: piece, err: io.EOF}); err != nil {
					t.Fatalf("copyBody: %v", err)
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

var (
	errCBWrite = errors.New("test: storage write failed")
	errCBRead  = errors.New("test: body read failed")
)

func TestCopyBodyWriteError(t *testing.T) {
	h := cbHandler(t)
	const size = 4*cbBuf + 333 // four whole buffers and a short last write
	data := cbData(size)
	for _, failOn := range []int{1, 2, 3, 5} {
		for _, delay := range []time.Duration{0, 5 * time.Millisecond} {
			t.Run(fmt.Sprintf("call%d/delay%v", failOn, delay), func(t *testing.T) {
				dst := &cbWriter{failOn: failOn, err: errCBWrite, delay: delay}
				body := &cbReader{data: data, piece: 64 << 10, err: io.EOF}
				err := h.copyBody(dst, body)
				if !errors.Is(err, errCBWrite) {
					t.Fatalf("copyBody = %v, want an error wrapping %v", err, errCBWrite)
				}
				var se *statusError
				if errors.As(err, &se) {
					t.Errorf("a storage failure answers %d %s, as if the client were at fault", se.status, se.code)
				}
				dst.check(t)
				if n := int(dst.calls.Load()); n != failOn {
					t.Errorf("Write called %d times, want %d (none after the failure)", n, failOn)
				}
				good := (failOn - 1) * cbBuf
				if !bytes.Equal(dst.got, data[:good]) {
					t.Errorf("the writes before the failure hold %d bytes that are not the body's first %d", len(dst.got), good)
				}
				if want := wantSizes(size)[:failOn]; fmt.Sprint(dst.sizes) != fmt.Sprint(want) {
					t.Errorf("write sizes = %v, want %v", dst.sizes, want)
				}
				// Reading ahead stops at one buffer past the failed write.
				if c := body.consumed.Load(); c > int64(failOn+1)*cbBuf {
					t.Errorf("read %d bytes of the body after write %d failed; want at most one buffer ahead", c, failOn)
				}
			})
		}
	}
}

func TestCopyBodyReadError(t *testing.T) {
	h := cbHandler(t)
	data := cbData(4 * cbBuf)
	for _, n := range []int{100, cbBuf, cbBuf + 1, 2 * cbBuf, 2*cbBuf + 5, 3*cbBuf + 12345} {
		for _, delay := range []time.Duration{0, 5 * time.Millisecond} {
			t.Run(fmt.Sprintf("%d/delay%v", n, delay), func(t *testing.T) {
				before := runtime.NumGoroutine()
				dst := &cbWriter{delay: delay}
				err := h.copyBody(dst, &cbReader{data: data[:n], piece: 32 << 10, err: errCBRead})
				if !errors.Is(err, errCBRead) {
					t.Fatalf("copyBody = %v, want an error wrapping %v", err, errCBRead)
				}
				var se *statusError
				if !errors.As(err, &se) || se.status != http.StatusBadRequest || se.code != CodeBlobUploadInvalid {
					t.Errorf("copyBody = %#v, want status 400 %s", err, CodeBlobUploadInvalid)
				}
				dst.check(t)
				if !bytes.HasPrefix(data[:n], dst.got) {
					t.Errorf("wrote %d bytes that are not a prefix of the body", len(dst.got))
				}
				if after := cbGoroutines(before); after > before {
					t.Errorf("%d goroutines after copyBody, %d before", after, before)
				}
			})
		}
	}
}

// SettledGoroutines lets the external tests wait for goroutines the same way.
var SettledGoroutines = cbGoroutines

// cbGoroutines waits up to a few seconds for the goroutines to be at most
// want and returns their last count.
func cbGoroutines(want int) int {
	deadline := time.Now().Add(3 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCopyBodyReadsAhead checks the point of the second buffer: while a
// whole buffer is being written, the next one is read, and no further.
func TestCopyBodyReadsAhead(t *testing.T) {
	h := cbHandler(t)
	data := cbData(4 * cbBuf)
	secondFull := make(chan struct{})
	body := &cbReader{data: data, piece: 64 << 10, err: io.EOF}
	body.onRead = func(c int64) {
		if c == 2*cbBuf {
			close(secondFull)
		}
	}
	var ahead, tooFar atomic.Int64
	dst := &cbWriter{onWrite: func(call int) {
		if call != 1 {
			return
		}
		select {
		case <-secondFull:
			ahead.Store(1)
		case <-time.After(5 * time.Second):
			return
		}
		// The first write is still in progress: copyBody must wait for it
		// before it reads a third buffer.
		time.Sleep(20 * time.Millisecond)
		tooFar.Store(body.consumed.Load())
	}}
	if err := h.copyBody(dst, body); err != nil {
		t.Fatalf("copyBody: %v", err)
	}
	dst.check(t)
	if ahead.Load() == 0 {
		t.Error("the second buffer was not read while the first was being written")
	}
	if c := tooFar.Load(); c > 2*cbBuf {
		t.Errorf("read %d bytes while the first buffer was being written, more than two buffers", c)
	}
	if !bytes.Equal(dst.got, data) {
		t.Error("the written bytes differ from the body")
	}
}
