package blobtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

func (s *suite) testResumeAbortUploads(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		t.Run(string(alg), func(t *testing.T) {
			before := time.Now().Add(-time.Second)
			b := content(21, 300_000)
			w := write(t, st, b[:100_000], 30_000, blob.WithAlgorithm(alg))
			id := w.ID()
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			u, ok := uploads(t, st)[id]
			if !ok {
				t.Fatalf("closed upload %s not listed", id)
			}
			if u.Size != 100_000 || u.StartedAt.Before(before) || u.UpdatedAt.Before(u.StartedAt.Add(-time.Second)) {
				t.Errorf("Uploads = %+v, want size 100000 and times after %v", u, before)
			}
			// Resume twice in a row, writing a piece each time.
			for i, piece := range [][]byte{b[100_000:200_000], b[200_000:]} {
				w, err := st.Resume(ctx, id)
				if err != nil {
					t.Fatalf("Resume %d: %v", i, err)
				}
				if w.ID() != id {
					t.Errorf("resumed ID = %s, want %s", w.ID(), id)
				}
				done := int64(100_000 * (i + 1))
				if w.Size() != done || w.Digest() != dgst(alg, b[:done]) {
					t.Errorf("resumed Size, Digest = %d, %s; want %d, %s", w.Size(), w.Digest(), done, dgst(alg, b[:done]))
				}
				writeChunks(t, w, piece, 7777)
				if i == 1 {
					if _, err := w.Commit(ctx, dgst(alg, b), int64(len(b))); err != nil {
						t.Fatalf("Commit after resume: %v", err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			}
			checkBlob(t, st, dgst(alg, b), b)
			_, err := st.Resume(ctx, id)
			wantErr(t, "Resume of a committed upload", err, blob.ErrNotFound)
			wantErr(t, "Abort of a committed upload", st.Abort(ctx, id), blob.ErrNotFound)

			// Abort an unfinished upload.
			w = write(t, st, b[:5000], 0, blob.WithAlgorithm(alg))
			id = w.ID()
			w.Close()
			if err := st.Abort(ctx, id); err != nil {
				t.Fatalf("Abort: %v", err)
			}
			if _, ok := uploads(t, st)[id]; ok {
				t.Errorf("aborted upload still listed")
			}
			_, err = st.Resume(ctx, id)
			wantErr(t, "Resume of an aborted upload", err, blob.ErrNotFound)
			wantErr(t, "second Abort", st.Abort(ctx, id), blob.ErrNotFound)
		})
	}
}

func (s *suite) testResumeConflict(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	w := write(t, st, []byte("held"), 0)
	id := w.ID()
	_, err := st.Resume(ctx, id)
	wantErr(t, "Resume of a held upload", err, blob.ErrConflict)
	wantErr(t, "Abort of a held upload", st.Abort(ctx, id), blob.ErrConflict)
	w.Close()
	w2, err := st.Resume(ctx, id)
	if err != nil {
		t.Fatalf("Resume after Close: %v", err)
	}
	_, err = st.Resume(ctx, id)
	wantErr(t, "Resume of a resumed upload", err, blob.ErrConflict)
	w2.Close()
	if err := st.Abort(ctx, id); err != nil {
		t.Errorf("Abort after Close: %v", err)
	}
}

func (s *suite) testDelete(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	b := content(22, 1234)
	info := commit(t, st, b)
	if err := st.Delete(ctx, info.Digest); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := st.Stat(ctx, info.Digest)
	wantErr(t, "Stat after Delete", err, blob.ErrNotFound)
	_, err = st.ReaderAt(ctx, info.Digest)
	wantErr(t, "ReaderAt after Delete", err, blob.ErrNotFound)
	wantErr(t, "second Delete", st.Delete(ctx, info.Digest), blob.ErrNotFound)
	if _, ok := walk(t, st)[info.Digest]; ok {
		t.Errorf("Walk lists a deleted blob")
	}
	// The digest can be committed again.
	commit(t, st, b)
	checkBlob(t, st, info.Digest, b)
}

func (s *suite) testWalk(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	if n := len(walk(t, st)); n != 0 {
		t.Fatalf("Walk of an empty storage found %d blobs", n)
	}
	want := make(map[digest.Digest]int64)
	for i := range 20 {
		b := content(uint64(100+i), i*37)
		alg := digest.SHA256
		if i%3 == 0 {
			alg = digest.SHA512
		}
		info, err := blob.Put(ctx, st, dgst(alg, b), int64(len(b)), bytesReader(b))
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		want[info.Digest] = info.Size
	}
	w := write(t, st, []byte("an upload is not a blob"), 0)
	defer w.Close()
	got := walk(t, st)
	if len(got) != len(want) {
		t.Errorf("Walk found %d blobs, want %d", len(got), len(want))
	}
	for d, size := range want {
		if info, ok := got[d]; !ok || info.Size != size || info.CreatedAt.IsZero() {
			t.Errorf("Walk: %s = %+v (found %v), want size %d", d, info, ok, size)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err := st.Walk(ctx, func(blob.Info) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Walk with failing fn = %v after %d calls, want stop after 1", err, calls)
	}
	calls = 0
	err = st.Uploads(ctx, func(blob.UploadInfo) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Uploads with failing fn = %v after %d calls, want stop after 1", err, calls)
	}
	// fn may call the storage.
	err = st.Walk(ctx, func(i blob.Info) error { return st.Delete(ctx, i.Digest) })
	if err != nil {
		t.Errorf("Walk deleting every blob: %v", err)
	}
	if n := len(walk(t, st)); n != 0 {
		t.Errorf("%d blobs left after deleting all", n)
	}
}

func (s *suite) testCanceledContext(t *testing.T) {
	st, _ := s.open(t)
	b := []byte("canceled")
	info := commit(t, st, b)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	canceled := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: %v, want context.Canceled", what, err)
		}
	}
	_, err := st.Stat(ctx, info.Digest)
	canceled("Stat", err)
	_, err = st.ReaderAt(ctx, info.Digest)
	canceled("ReaderAt", err)
	_, err = st.Writer(ctx)
	canceled("Writer", err)
	canceled("Walk", st.Walk(ctx, func(blob.Info) error { return nil }))
	_, err = blob.Put(ctx, st, dgst(digest.SHA256, []byte("other")), 5, bytesReader([]byte("other")))
	canceled("Put", err)
	w := write(t, st, []byte("other"), 0)
	_, err = w.Commit(ctx, dgst(digest.SHA256, []byte("other")), 5)
	canceled("Commit", err)
	w.Close()
	canceled("Delete", st.Delete(ctx, info.Digest))
	checkBlob(t, st, info.Digest, b)
	if err := st.Abort(context.Background(), w.ID()); err != nil {
		t.Errorf("Abort: %v", err)
	}
	if n := len(uploads(t, st)); n != 0 {
		t.Errorf("%d uploads left after canceled operations", n)
	}
}

func (s *suite) testReopenResume(t *testing.T) {
	st, reopen := s.open(t)
	if reopen == nil {
		t.Skip("backend keeps nothing across restarts")
	}
	ctx := context.Background()
	b := content(31, 2<<20+333)
	var ids []string
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		w := write(t, st, b[:1<<20+1], 100_000, blob.WithAlgorithm(alg))
		ids = append(ids, w.ID())
		if err := w.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	aborted := write(t, st, b[:10], 0)
	aborted.Close()
	st = reopen()
	ups := uploads(t, st)
	for _, id := range append(ids, aborted.ID()) {
		if _, ok := ups[id]; !ok {
			t.Errorf("upload %s not listed after reopen", id)
		}
	}
	if err := st.Abort(ctx, aborted.ID()); err != nil {
		t.Errorf("Abort after reopen: %v", err)
	}
	for i, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		w, err := st.Resume(ctx, ids[i])
		if err != nil {
			t.Fatalf("Resume after reopen: %v", err)
		}
		if w.Size() != 1<<20+1 || w.Digest() != dgst(alg, b[:1<<20+1]) {
			t.Errorf("after reopen: Size, Digest = %d, %s", w.Size(), w.Digest())
		}
		writeChunks(t, w, b[1<<20+1:], 1<<19)
		if _, err := w.Commit(ctx, dgst(alg, b), int64(len(b))); err != nil {
			t.Fatalf("Commit after reopen: %v", err)
		}
		w.Close()
		checkBlob(t, st, dgst(alg, b), b)
	}
	if n := len(uploads(t, st)); n != 0 {
		t.Errorf("%d uploads left", n)
	}
}

func (s *suite) testReopenCommitted(t *testing.T) {
	st, reopen := s.open(t)
	if reopen == nil {
		t.Skip("backend keeps nothing across restarts")
	}
	want := make(map[digest.Digest][]byte)
	for i := range 5 {
		b := content(uint64(40+i), i*1000)
		want[commit(t, st, b).Digest] = b
	}
	st = reopen()
	if got := walk(t, st); len(got) != len(want) {
		t.Errorf("Walk after reopen found %d blobs, want %d", len(got), len(want))
	}
	for d, b := range want {
		checkBlob(t, st, d, b)
	}
}
