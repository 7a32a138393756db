package blobtest

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func (s *suite) testConcurrentSameDigest(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	b := content(51, 512<<10)
	d := dgst(digest.SHA256, b)
	const writers = 8
	errs := make(chan error, 2*writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 1 {
				_, err := blob.Put(ctx, st, d, int64(len(b)), bytesReader(b))
				errs <- err
				return
			}
			w, err := st.Writer(ctx)
			if err != nil {
				errs <- err
				return
			}
			defer w.Close()
			for off := 0; off < len(b); off += 1 << 16 {
				if _, err := w.Write(b[off : off+1<<16]); err != nil {
					errs <- err
					return
				}
			}
			info, err := w.Commit(ctx, d, int64(len(b)))
			if err == nil && (info.Digest != d || info.Size != int64(len(b))) {
				t.Errorf("Commit = %+v", info)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent writer of one digest: %v", err)
		}
	}
	checkBlob(t, st, d, b)
	if got := walk(t, st); len(got) != 1 {
		t.Errorf("Walk found %d blobs, want 1", len(got))
	}
	if n := len(uploads(t, st)); n != 0 {
		t.Errorf("%d uploads left", n)
	}
}

func (s *suite) testConcurrentDistinct(t *testing.T) {
	st, _ := s.open(t)
	const workers, each = 4, 10
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				b := content(uint64(1000+g*each+i), 1000+i*100)
				info, err := commitErr(st, b)
				if err == nil {
					err = verifyBlob(st, info.Digest, b)
				}
				if err != nil {
					t.Error(err)
					return
				}
				if i%2 == 0 {
					if err := st.Delete(context.Background(), info.Digest); err != nil {
						t.Errorf("Delete: %v", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if got := walk(t, st); len(got) != workers*each/2 {
		t.Errorf("Walk found %d blobs, want %d", len(got), workers*each/2)
	}
}

func (s *suite) testReadDuringDelete(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	b := content(52, 1<<20)
	info := commit(t, st, b)
	// One reader opened before the delete, read after it.
	r, err := st.ReaderAt(ctx, info.Digest)
	if err != nil {
		t.Fatalf("ReaderAt: %v", err)
	}
	if err := st.Delete(ctx, info.Digest); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || !bytes.Equal(got, b) {
		t.Errorf("reader opened before Delete read %d bytes, %v", len(got), err)
	}
	r.Close()
	// Readers racing a loop of deletes and re-commits always read either
	// the whole blob or ErrNotFound.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := st.ReaderAt(ctx, info.Digest)
				if err != nil {
					wantErr(t, "ReaderAt racing Delete", err, blob.ErrNotFound)
					continue
				}
				got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
				r.Close()
				if err != nil || !bytes.Equal(got, b) {
					t.Errorf("reader racing Delete read %d bytes, %v", len(got), err)
					return
				}
			}
		}()
	}
	for range 20 {
		if _, err := blob.Put(ctx, st, info.Digest, info.Size, bytesReader(b)); err != nil {
			t.Errorf("Put: %v", err)
		}
		if err := st.Delete(ctx, info.Digest); err != nil {
			t.Errorf("Delete: %v", err)
		}
	}
	close(stop)
	wg.Wait()
}
