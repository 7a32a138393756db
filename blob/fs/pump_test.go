package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/internal/settle"
)

// pumpData returns n bytes that differ at every offset of the pipeline's
// pieces, so a piece written at the wrong offset changes the digest.
func pumpData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*131 + i>>11 + i>>19)
	}
	return b
}

// pieceReader yields data in pieces of size piece, then err (io.EOF at a
// clean end).
type pieceReader struct {
	data  []byte
	piece int
	err   error
}

func (r *pieceReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data[:min(len(r.data), r.piece, len(p))])
	r.data = r.data[n:]
	return n, nil
}

func newTestWriter(t *testing.T, direct bool) (*Store, *writer) {
	t.Helper()
	s, err := Open(t.TempDir(), WithDirectIO(direct))
	if err != nil {
		t.Fatal(err)
	}
	bw, err := s.Writer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s, bw.(*writer)
}

// TestReadFromSizes copies bodies around the pipeline's buffer size and
// across several checkpoints, in large and odd-sized reads, with direct I/O
// on and off, and checks the committed blob byte for byte.
func TestReadFromSizes(t *testing.T) {
	sizes := []int{0, 1, pumpBuffer - 1, pumpBuffer, pumpBuffer + 1, 5*pumpBuffer + 12345, 2*checkpointEvery + 4097}
	for _, direct := range []bool{true, false} {
		for _, size := range sizes {
			for _, piece := range []int{1 << 20, 7777} {
				t.Run(fmt.Sprintf("direct=%v/size=%d/piece=%d", direct, size, piece), func(t *testing.T) {
					s, w := newTestWriter(t, direct)
					data := pumpData(size)
					n, err := w.ReadFrom(&pieceReader{data: data, piece: piece, err: io.EOF})
					if err != nil || n != int64(size) {
						t.Fatalf("ReadFrom = %d, %v; want %d, nil", n, err, size)
					}
					want := digest.FromBytes(data)
					if got := w.Digest(); got != want {
						t.Fatalf("Digest = %s, want %s", got, want)
					}
					if size > checkpointEvery {
						c, ok := readCheckpoint(w.sf)
						if !ok || c.offset < checkpointEvery || c.offset > int64(size) {
							t.Fatalf("checkpoint after ReadFrom = %+v (ok %v), want one past %d", c, ok, checkpointEvery)
						}
					}
					if _, err := w.Commit(context.Background(), want, int64(size)); err != nil {
						t.Fatal(err)
					}
					got, err := os.ReadFile(s.blobPath(want))
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, data) {
						t.Fatal("stored bytes differ from the body")
					}
				})
			}
		}
	}
}

// TestReadFromReadError ends the body with an error (a connection reset, a
// body cut short) at points before, inside and after the first buffer: the
// error comes back, every byte read before it is stored and hashed, no
// goroutine is left, and the upload goes on where the body stopped.
func TestReadFromReadError(t *testing.T) {
	errReset := errors.New("connection reset")
	for _, rerr := range []error{errReset, io.ErrUnexpectedEOF} {
		for _, n := range []int{0, 100, pumpBuffer, 3*pumpBuffer + 5, checkpointEvery + 1} {
			t.Run(fmt.Sprintf("%v/%d", rerr, n), func(t *testing.T) {
				before := runtime.NumGoroutine()
				_, w := newTestWriter(t, true)
				data := pumpData(n + 3*pumpBuffer)
				got, err := w.ReadFrom(&pieceReader{data: data[:n], piece: 64 << 10, err: rerr})
				if !errors.Is(err, rerr) {
					t.Fatalf("ReadFrom error = %v, want %v", err, rerr)
				}
				if got != int64(n) || w.Size() != int64(n) {
					t.Fatalf("ReadFrom = %d, Size = %d; want %d", got, w.Size(), n)
				}
				if d := w.Digest(); d != digest.FromBytes(data[:n]) {
					t.Fatalf("Digest after the error = %s, want the digest of the %d bytes read", d, n)
				}
				if _, err := w.ReadFrom(bytes.NewReader(data[n:])); err != nil {
					t.Fatalf("ReadFrom after the error: %v", err)
				}
				if _, err := w.Commit(context.Background(), digest.FromBytes(data), int64(len(data))); err != nil {
					t.Fatal(err)
				}
				if n := settle.Goroutines(before); n > before {
					t.Errorf("%d goroutines after ReadFrom, %d before", n, before)
				}
			})
		}
	}
}

// TestReadFromWriteError makes the data file unwritable under a running
// copy: ReadFrom fails with an I/O error, stops reading, leaves no goroutine
// behind, and the writer refuses further writes.
func TestReadFromWriteError(t *testing.T) {
	for _, direct := range []bool{true, false} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			before := runtime.NumGoroutine()
			_, w := newTestWriter(t, direct)
			// Closing the descriptors makes every later write fail (EBADF).
			w.f.Close()
			w.k.tried = true
			body := &pieceReader{data: pumpData(64 << 20), piece: 1 << 20, err: io.EOF}
			n, err := w.ReadFrom(body)
			if err == nil {
				t.Fatal("ReadFrom into a closed file succeeded")
			}
			if n != 0 {
				t.Errorf("ReadFrom reported %d bytes stored, want 0", n)
			}
			if left := len(body.data); left == 0 {
				t.Error("ReadFrom read the whole body after the first write failed")
			}
			if _, err := w.Write([]byte("more")); err == nil {
				t.Error("Write after a failed ReadFrom succeeded")
			}
			w.Close()
			if n := settle.Goroutines(before); n > before {
				t.Errorf("%d goroutines after ReadFrom, %d before", n, before)
			}
		})
	}
}

// TestReadFromCrash leaves an upload without Close after a large ReadFrom,
// as a crash would, and resumes it: the checkpoints written during the copy
// describe bytes the file holds, so the resumed upload has the right digest.
func TestReadFromCrash(t *testing.T) {
	s, w := newTestWriter(t, true)
	data := pumpData(3*checkpointEvery + 999)
	if _, err := w.ReadFrom(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	id := w.id
	// Drop the writer without its closing checkpoint.
	w.closeFiles()
	s.release(id)
	bw, err := s.Resume(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := bw.Digest(), digest.FromBytes(data); got != want {
		t.Fatalf("resumed Digest = %s, want %s", got, want)
	}
	if _, err := bw.Commit(context.Background(), digest.FromBytes(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
}

// TestReadFromCheckpointBoot pauses uploads filled by ReadFrom, one ending
// on a checkpoint boundary (as every 16 MiB PATCH of a chunked push does)
// and one past it, and checks that the newest checkpoint covers the whole
// upload and carries the running boot, so Resume trusts it instead of
// re-hashing the file from the start. The pipeline's checkpoints used to
// carry no boot, which made every Resume after such a PATCH re-hash the
// whole upload: a chunked push cost O(n²).
func TestReadFromCheckpointBoot(t *testing.T) {
	for _, n := range []int{2 * checkpointEvery, 2*checkpointEvery + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s, w := newTestWriter(t, true)
			if _, err := w.ReadFrom(bytes.NewReader(pumpData(n))); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			sf, err := os.Open(filepath.Join(w.dir, "state"))
			if err != nil {
				t.Fatal(err)
			}
			defer sf.Close()
			c, ok := readCheckpoint(sf)
			if !ok || c.offset != int64(n) || c.boot != s.boot {
				t.Fatalf("newest checkpoint: offset %d, boot %x (valid %v); want offset %d, boot %x", c.offset, c.boot, ok, n, s.boot)
			}
		})
	}
}
