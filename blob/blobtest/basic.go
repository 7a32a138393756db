package blobtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

func (s *suite) testMissing(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	for _, d := range []digest.Digest{dgst(digest.SHA256, []byte("missing")), dgst(digest.SHA512, []byte("missing"))} {
		_, err := st.Stat(ctx, d)
		wantErr(t, "Stat", err, blob.ErrNotFound)
		_, err = st.ReaderAt(ctx, d)
		wantErr(t, "ReaderAt", err, blob.ErrNotFound)
		wantErr(t, "Delete", st.Delete(ctx, d), blob.ErrNotFound)
	}
	id := blob.NewUploadID()
	_, err := st.Resume(ctx, id)
	wantErr(t, "Resume", err, blob.ErrNotFound)
	wantErr(t, "Abort", st.Abort(ctx, id), blob.ErrNotFound)
}

// malformedDigests are digests no caller may get a panic for.
var malformedDigests = []struct {
	name string
	d    digest.Digest
}{
	{"empty", ""},
	{"no algorithm", digest.Digest(strings.Repeat("a", 64))},
	{"no hex", "sha256:"},
	{"short", digest.Digest("sha256:" + strings.Repeat("a", 63))},
	{"long", digest.Digest("sha256:" + strings.Repeat("a", 65))},
	{"upper case", digest.Digest("sha256:" + strings.Repeat("A", 64))},
	{"not hex", digest.Digest("sha256:" + strings.Repeat("g", 64))},
	{"sha512 length of sha256", digest.Digest("sha512:" + strings.Repeat("a", 64))},
	{"path traversal", "sha256:../../../../etc/passwd"},
	{"slash in hex", digest.Digest("sha256:ab/" + strings.Repeat("a", 61))},
	{"unknown algorithm", digest.Digest("md5:" + strings.Repeat("a", 32))},
	{"colon only", ":"},
	{"unicode", "sha256:ä"},
	{"huge", digest.Digest("sha256:" + strings.Repeat("a", 1<<16))},
}

func (s *suite) testMalformedDigest(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	for _, tc := range malformedDigests {
		t.Run(tc.name, func(t *testing.T) {
			invalid := func(what string, err error) {
				t.Helper()
				if err == nil || (!errors.Is(err, blob.ErrInvalid) && !errors.Is(err, blob.ErrUnsupported)) {
					t.Errorf("%s(%.40q): error %v, want ErrInvalid or ErrUnsupported", what, tc.d, err)
				}
			}
			_, err := st.Stat(ctx, tc.d)
			invalid("Stat", err)
			_, err = st.ReaderAt(ctx, tc.d)
			invalid("ReaderAt", err)
			invalid("Delete", st.Delete(ctx, tc.d))
			_, err = blob.Put(ctx, st, tc.d, 1, strings.NewReader("x"))
			invalid("Put", err)
			w := write(t, st, []byte("x"), 0)
			_, err = w.Commit(ctx, tc.d, 1)
			invalid("Commit", err)
			// The upload survives a rejected commit.
			info, err := w.Commit(ctx, dgst(digest.SHA256, []byte("x")), 1)
			if err != nil || info.Size != 1 {
				t.Errorf("Commit after a malformed digest = %+v, %v", info, err)
			}
			w.Close()
		})
	}
}

func (s *suite) testMalformedUploadID(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	ids := []string{"", ".", "..", "../uploads", "/etc", "a/b", strings.Repeat("A", 32),
		strings.Repeat("0", 31), strings.Repeat("0", 33), strings.Repeat("z", 32), "\x00", strings.Repeat("0", 1<<16)}
	for _, id := range ids {
		_, err := st.Resume(ctx, id)
		wantErr(t, "Resume("+quote(id)+")", err, blob.ErrNotFound)
		wantErr(t, "Abort("+quote(id)+")", st.Abort(ctx, id), blob.ErrNotFound)
	}
}

func (s *suite) testUnsupportedAlgorithm(t *testing.T) {
	st, _ := s.open(t)
	for _, alg := range []digest.Algorithm{"", "md5", "sha1", "SHA256", "../x"} {
		w, err := st.Writer(context.Background(), blob.WithAlgorithm(alg))
		if err == nil {
			w.Close()
		}
		wantErr(t, "Writer(WithAlgorithm("+string(alg)+"))", err, blob.ErrUnsupported)
	}
}

func (s *suite) testWriteCommitRead(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		size  int
		chunk int
		alg   digest.Algorithm
	}{
		{"empty", 0, 0, digest.SHA256},
		{"empty sha512", 0, 0, digest.SHA512},
		{"one byte", 1, 0, digest.SHA256},
		{"4KiB in bytes", 4 << 10, 1, digest.SHA256},
		{"odd chunks", 100_003, 7_919, digest.SHA256},
		{"large chunks sha512", 3<<20 + 5, 1 << 20, digest.SHA512},
		{"one write", 2<<20 + 1, 0, digest.SHA256},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := content(uint64(i), tc.size)
			w := write(t, st, b, tc.chunk, blob.WithAlgorithm(tc.alg))
			defer w.Close()
			d := dgst(tc.alg, b)
			info, err := w.Commit(ctx, d, int64(len(b)))
			if err != nil {
				t.Fatalf("Commit: %v", err)
			}
			if info.Digest != d || info.Size != int64(len(b)) || info.CreatedAt.IsZero() {
				t.Errorf("Commit = %+v, want digest %s size %d", info, d, len(b))
			}
			checkBlob(t, st, d, b)
			if _, ok := uploads(t, st)[w.ID()]; ok {
				t.Errorf("committed upload %s still listed", w.ID())
			}
		})
	}
}

func (s *suite) testReadAtAndServeContent(t *testing.T) {
	st, _ := s.open(t)
	b := content(7, 1<<20+17)
	info := commit(t, st, b)
	r, err := st.ReaderAt(context.Background(), info.Digest)
	if err != nil {
		t.Fatalf("ReaderAt: %v", err)
	}
	defer r.Close()
	if r.Size() != int64(len(b)) {
		t.Fatalf("Size() = %d, want %d", r.Size(), len(b))
	}
	for _, tc := range []struct{ off, n int }{{0, 1}, {5, 100}, {len(b) - 1, 1}, {4096, 65536}, {0, len(b)}} {
		p := make([]byte, tc.n)
		n, err := r.ReadAt(p, int64(tc.off))
		if n != tc.n || (err != nil && err != io.EOF) || !bytes.Equal(p, b[tc.off:tc.off+tc.n]) {
			t.Errorf("ReadAt(%d bytes at %d) = %d, %v", tc.n, tc.off, n, err)
		}
	}
	if n, err := r.ReadAt(make([]byte, 10), int64(len(b))); n != 0 || err != io.EOF {
		t.Errorf("ReadAt at end = %d, %v, want 0, io.EOF", n, err)
	}
	if n, err := r.ReadAt(make([]byte, 10), int64(len(b)-3)); n != 3 || err != io.EOF {
		t.Errorf("ReadAt across end = %d, %v, want 3, io.EOF", n, err)
	}
	for _, rg := range []struct {
		header   string
		from, to int
	}{{"bytes=0-99", 0, 100}, {"bytes=1000-", 1000, len(b)}, {"bytes=-10", len(b) - 10, len(b)}} {
		req := httptest.NewRequest(http.MethodGet, "/blob", nil)
		req.Header.Set("Range", rg.header)
		rec := httptest.NewRecorder()
		http.ServeContent(rec, req, "", info.CreatedAt, io.NewSectionReader(r, 0, r.Size()))
		if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), b[rg.from:rg.to]) {
			t.Errorf("ServeContent Range %s: status %d, %d bytes", rg.header, rec.Code, rec.Body.Len())
		}
	}
}

func (s *suite) testWriterState(t *testing.T) {
	st, _ := s.open(t)
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		b := content(3, 10_000)
		w := write(t, st, b[:6000], 1000, blob.WithAlgorithm(alg))
		if w.ID() == "" {
			t.Errorf("ID() = %q", w.ID())
		}
		if w.Size() != 6000 || w.Digest() != dgst(alg, b[:6000]) {
			t.Errorf("%s: Size, Digest = %d, %s; want 6000, %s", alg, w.Size(), w.Digest(), dgst(alg, b[:6000]))
		}
		if _, ok := uploads(t, st)[w.ID()]; !ok {
			t.Errorf("open upload %s not listed by Uploads", w.ID())
		}
		writeChunks(t, w, b[6000:], 0)
		if w.Size() != int64(len(b)) || w.Digest() != dgst(alg, b) {
			t.Errorf("%s: after all writes Size, Digest = %d, %s", alg, w.Size(), w.Digest())
		}
		if _, err := w.Commit(context.Background(), w.Digest(), w.Size()); err != nil {
			t.Errorf("Commit(Digest(), Size()): %v", err)
		}
		w.Close()
	}
}

func (s *suite) testWrongDigest(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	b := content(11, 5000)
	w := write(t, st, b, 999)
	defer w.Close()
	for _, d := range []digest.Digest{dgst(digest.SHA256, b[1:]), dgst(digest.SHA512, b[1:]), dgst(digest.SHA256, nil)} {
		_, err := w.Commit(ctx, d, int64(len(b)))
		wantErr(t, "Commit(wrong digest)", err, blob.ErrDigestMismatch)
		if _, err := st.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat(wrong digest) after failed commit: %v, want ErrNotFound", err)
		}
	}
	if w.Size() != int64(len(b)) {
		t.Errorf("Size() after failed commits = %d, want %d", w.Size(), len(b))
	}
	if _, err := w.Commit(ctx, dgst(digest.SHA256, b), int64(len(b))); err != nil {
		t.Fatalf("Commit(right digest) after failures: %v", err)
	}
	checkBlob(t, st, dgst(digest.SHA256, b), b)
}

func (s *suite) testWrongSize(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	b := content(12, 3000)
	d := dgst(digest.SHA256, b)
	w := write(t, st, b, 0)
	defer w.Close()
	for _, size := range []int64{0, 1, 2999, 3001, 1 << 40} {
		_, err := w.Commit(ctx, d, size)
		wantErr(t, "Commit(wrong size)", err, blob.ErrSizeMismatch)
	}
	if _, err := st.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after failed commits: %v, want ErrNotFound", err)
	}
	// A negative size skips the size check.
	info, err := w.Commit(ctx, d, -1)
	if err != nil || info.Size != int64(len(b)) {
		t.Fatalf("Commit(size -1) = %+v, %v", info, err)
	}
	checkBlob(t, st, d, b)
}

func (s *suite) testTrailingData(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	b := content(13, 4096)
	d := dgst(digest.SHA256, b)
	w := write(t, st, append(append([]byte(nil), b...), "trailing"...), 1000)
	_, err := w.Commit(ctx, d, int64(len(b)))
	wantErr(t, "Commit with trailing data", err, blob.ErrSizeMismatch)
	_, err = w.Commit(ctx, d, -1)
	wantErr(t, "Commit with trailing data, size unchecked", err, blob.ErrDigestMismatch)
	w.Close()
	if err := st.Abort(ctx, w.ID()); err != nil {
		t.Errorf("Abort: %v", err)
	}
	if _, ok := uploads(t, st)[w.ID()]; ok {
		t.Errorf("aborted upload still listed")
	}
	if _, err := st.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after failed commits: %v, want ErrNotFound", err)
	}
}

func (s *suite) testOtherAlgorithmCommit(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	for _, tc := range []struct{ hashWith, commitWith digest.Algorithm }{
		{digest.SHA256, digest.SHA512},
		{digest.SHA512, digest.SHA256},
	} {
		b := content(14, 200_000)
		w := write(t, st, b, 65536, blob.WithAlgorithm(tc.hashWith))
		_, err := w.Commit(ctx, dgst(tc.commitWith, b[:1000]), -1)
		wantErr(t, "Commit(wrong "+string(tc.commitWith)+")", err, blob.ErrDigestMismatch)
		d := dgst(tc.commitWith, b)
		if _, err := w.Commit(ctx, d, int64(len(b))); err != nil {
			t.Fatalf("upload hashed with %s, Commit(%s): %v", tc.hashWith, d, err)
		}
		w.Close()
		checkBlob(t, st, d, b)
	}
}

func (s *suite) testCommitExisting(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	b := content(15, 10_000)
	first := commit(t, st, b)
	w := write(t, st, b, 3000)
	info, err := w.Commit(ctx, first.Digest, int64(len(b)))
	if err != nil {
		t.Fatalf("Commit of existing content: %v", err)
	}
	if info.Digest != first.Digest || info.Size != first.Size || !info.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("Commit of existing content = %+v, want the first %+v", info, first)
	}
	w.Close()
	if _, err := st.Resume(ctx, w.ID()); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Resume of the discarded upload: %v, want ErrNotFound", err)
	}
	if n := len(uploads(t, st)); n != 0 {
		t.Errorf("%d uploads left, want 0", n)
	}
	if got := walk(t, st); len(got) != 1 {
		t.Errorf("Walk found %d blobs, want 1", len(got))
	}
	// Existing content still needs a matching size and digest.
	w = write(t, st, b[:10], 0)
	_, err = w.Commit(ctx, first.Digest, first.Size)
	wantErr(t, "Commit of a prefix as existing digest", err, blob.ErrSizeMismatch)
	_, err = w.Commit(ctx, first.Digest, -1)
	wantErr(t, "Commit of a prefix as existing digest", err, blob.ErrDigestMismatch)
	w.Close()
}

func (s *suite) testFinishedWriter(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	b := []byte("finished")
	d := dgst(digest.SHA256, b)
	w := write(t, st, b, 0)
	if _, err := w.Commit(ctx, d, int64(len(b))); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Error("Write after Commit succeeded")
	}
	if _, err := w.Commit(ctx, d, int64(len(b))); err == nil {
		t.Error("second Commit succeeded")
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after Commit: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	w = write(t, st, b, 0)
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Error("Write after Close succeeded")
	}
	if _, err := w.Commit(ctx, d, int64(len(b))); err == nil {
		t.Error("Commit after Close succeeded")
	}
	if err := st.Abort(ctx, w.ID()); err != nil {
		t.Errorf("Abort after Close: %v", err)
	}
	checkBlob(t, st, d, b)
}

func (s *suite) testPut(t *testing.T) {
	st, _ := s.open(t)
	ctx := context.Background()
	b := content(16, 70_000)
	d := dgst(digest.SHA256, b)
	tests := []struct {
		name  string
		d     digest.Digest
		size  int64
		r     io.Reader
		class error
	}{
		{"wrong digest", dgst(digest.SHA256, b[1:]), int64(len(b)), bytes.NewReader(b), blob.ErrDigestMismatch},
		{"short", d, int64(len(b)) + 1, bytes.NewReader(b), blob.ErrSizeMismatch},
		{"trailing data", d, int64(len(b)) - 1, bytes.NewReader(b), blob.ErrSizeMismatch},
		{"unbounded trailing data", d, int64(len(b)), io.MultiReader(bytes.NewReader(b), zeros{}), blob.ErrSizeMismatch},
		{"ok", d, int64(len(b)), bytes.NewReader(b), nil},
		{"existing", d, int64(len(b)), bytes.NewReader(b), nil},
		{"existing wrong size", d, int64(len(b)) + 1, bytes.NewReader(b), blob.ErrSizeMismatch},
		{"unknown size", dgst(digest.SHA512, b), -1, bytes.NewReader(b), nil},
		{"zero length", dgst(digest.SHA256, nil), 0, bytes.NewReader(nil), nil},
		{"zero length sha512", dgst(digest.SHA512, nil), -1, bytes.NewReader(nil), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := blob.Put(ctx, st, tc.d, tc.size, tc.r)
			if tc.class != nil {
				wantErr(t, "Put", err, tc.class)
				if tc.d != d {
					if _, err := st.Stat(ctx, tc.d); !errors.Is(err, blob.ErrNotFound) {
						t.Errorf("Stat after failed Put: %v, want ErrNotFound", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if info.Digest != tc.d {
				t.Errorf("Put = %+v", info)
			}
		})
	}
	checkBlob(t, st, d, b)
	checkBlob(t, st, dgst(digest.SHA256, nil), nil)
	if n := len(uploads(t, st)); n != 0 {
		t.Errorf("Put left %d uploads", n)
	}
}

// zeros is an endless reader.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// quote shortens and quotes an ID for messages.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}
