package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// Factory returns a new, empty Storage for one test. reopen, when not nil,
// returns another Storage over the same durable state, as a process restart
// would; the suite calls it only after closing every Writer of the first.
// Backends that keep nothing across restarts return a nil reopen, and the
// tests that need it skip.
type Factory func(t *testing.T) (s blob.Storage, reopen func() blob.Storage)

// Option adjusts the suite to a backend.
type Option func(*config)

type config struct {
	inMemory bool
}

// InMemory declares that the backend keeps blob bytes in memory, so the
// constant-memory test of a 1 GiB blob does not apply and is skipped.
func InMemory() Option {
	return func(c *config) { c.inMemory = true }
}

// suite is one run's settings, shared by the test functions.
type suite struct {
	newStorage Factory
	cfg        config
}

// Run runs the conformance suite against the backend f creates, one
// subtest per behaviour.
func Run(t *testing.T, f Factory, opts ...Option) {
	t.Helper()
	s := &suite{newStorage: f}
	for _, o := range opts {
		o(&s.cfg)
	}
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Missing", s.testMissing},
		{"MalformedDigest", s.testMalformedDigest},
		{"MalformedUploadID", s.testMalformedUploadID},
		{"UnsupportedAlgorithm", s.testUnsupportedAlgorithm},
		{"WriteCommitRead", s.testWriteCommitRead},
		{"ReadAtAndServeContent", s.testReadAtAndServeContent},
		{"WriterState", s.testWriterState},
		{"WrongDigest", s.testWrongDigest},
		{"WrongSize", s.testWrongSize},
		{"TrailingData", s.testTrailingData},
		{"OtherAlgorithmCommit", s.testOtherAlgorithmCommit},
		{"CommitExisting", s.testCommitExisting},
		{"FinishedWriter", s.testFinishedWriter},
		{"Put", s.testPut},
		{"ResumeAbortUploads", s.testResumeAbortUploads},
		{"ResumeConflict", s.testResumeConflict},
		{"Delete", s.testDelete},
		{"Walk", s.testWalk},
		{"CanceledContext", s.testCanceledContext},
		{"ConcurrentSameDigest", s.testConcurrentSameDigest},
		{"ConcurrentDistinct", s.testConcurrentDistinct},
		{"ReadDuringDelete", s.testReadDuringDelete},
		{"ReopenResume", s.testReopenResume},
		{"ReopenCommitted", s.testReopenCommitted},
		{"LargeConstantMemory", s.testLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

// open returns a fresh storage and its reopen function.
func (s *suite) open(t *testing.T) (blob.Storage, func() blob.Storage) {
	t.Helper()
	st, reopen := s.newStorage(t)
	if st == nil {
		t.Fatal("factory returned a nil Storage")
	}
	return st, reopen
}

// content returns n deterministic pseudo-random bytes chosen by seed.
func content(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// dgst returns the digest of b in alg.
func dgst(alg digest.Algorithm, b []byte) digest.Digest { return alg.FromBytes(b) }

// write starts an upload with opts and writes b in chunks of chunk bytes.
func write(t *testing.T, st blob.Storage, b []byte, chunk int, opts ...blob.WriterOption) blob.Writer {
	t.Helper()
	w, err := st.Writer(context.Background(), opts...)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	writeChunks(t, w, b, chunk)
	return w
}

func writeChunks(t *testing.T, w blob.Writer, b []byte, chunk int) {
	t.Helper()
	if chunk <= 0 {
		chunk = len(b) + 1
	}
	for len(b) > 0 {
		n := min(chunk, len(b))
		m, err := w.Write(b[:n])
		if err != nil || m != n {
			t.Fatalf("Write(%d bytes) = %d, %v", n, m, err)
		}
		b = b[n:]
	}
}

// commit stores b as a blob through a Writer and returns its Info.
func commit(t *testing.T, st blob.Storage, b []byte) blob.Info {
	t.Helper()
	info, err := commitErr(st, b)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// commitErr is commit for goroutines, which must not call t.Fatal.
func commitErr(st blob.Storage, b []byte) (blob.Info, error) {
	ctx := context.Background()
	w, err := st.Writer(ctx)
	if err != nil {
		return blob.Info{}, fmt.Errorf("start writer: %w", err)
	}
	defer w.Close()
	if _, err := w.Write(b); err != nil {
		return blob.Info{}, fmt.Errorf("write: %w", err)
	}
	d := dgst(digest.SHA256, b)
	info, err := w.Commit(ctx, d, int64(len(b)))
	if err != nil {
		return blob.Info{}, fmt.Errorf("Commit(%s): %w", d, err)
	}
	return info, nil
}

// checkBlob verifies that d is committed with exactly want.
func checkBlob(t *testing.T, st blob.Storage, d digest.Digest, want []byte) {
	t.Helper()
	if err := verifyBlob(st, d, want); err != nil {
		t.Fatal(err)
	}
}

// verifyBlob is checkBlob for goroutines.
func verifyBlob(st blob.Storage, d digest.Digest, want []byte) error {
	ctx := context.Background()
	info, err := st.Stat(ctx, d)
	if err != nil {
		return fmt.Errorf("Stat(%s): %w", d, err)
	}
	if info.Digest != d || info.Size != int64(len(want)) || info.CreatedAt.IsZero() {
		return fmt.Errorf("Stat(%s) = %+v, want size %d and a creation time", d, info, len(want))
	}
	r, err := st.ReaderAt(ctx, d)
	if err != nil {
		return fmt.Errorf("ReaderAt(%s): %w", d, err)
	}
	defer r.Close()
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		return fmt.Errorf("read %s: %w", d, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("blob %s: read %d bytes that differ from the %d written", d, len(got), len(want))
	}
	return nil
}

// wantErr fails unless err wraps class.
func wantErr(t *testing.T, what string, err, class error) {
	t.Helper()
	if !errors.Is(err, class) {
		t.Errorf("%s: error %v, want one wrapping %v", what, err, class)
	}
}

// uploads returns the storage's unfinished uploads by ID.
func uploads(t *testing.T, st blob.Storage) map[string]blob.UploadInfo {
	t.Helper()
	m := make(map[string]blob.UploadInfo)
	err := st.Uploads(context.Background(), func(u blob.UploadInfo) error {
		if _, dup := m[u.ID]; dup {
			t.Errorf("Uploads listed %s twice", u.ID)
		}
		m[u.ID] = u
		return nil
	})
	if err != nil {
		t.Fatalf("Uploads: %v", err)
	}
	return m
}

// walk returns the storage's committed blobs by digest.
func walk(t *testing.T, st blob.Storage) map[digest.Digest]blob.Info {
	t.Helper()
	m := make(map[digest.Digest]blob.Info)
	err := st.Walk(context.Background(), func(i blob.Info) error {
		if _, dup := m[i.Digest]; dup {
			t.Errorf("Walk listed %s twice", i.Digest)
		}
		m[i.Digest] = i
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return m
}
