package fs_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// randBytes returns n random bytes.
func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// pausedUpload writes b to a new upload hashed with alg and closes it.
func pausedUpload(t *testing.T, st blob.Storage, alg digest.Algorithm, b []byte) string {
	t.Helper()
	w, err := st.Writer(context.Background(), blob.WithAlgorithm(alg))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.ID()
}

// TestResumeUsesCheckpoint proves Resume does not re-read what the
// checkpoint covers: it corrupts those bytes on disk, and the resumed
// digest still matches the original content. It also checks the fallbacks:
// bytes beyond the checkpoint are hashed, a shorter file or a broken state
// file makes Resume hash the file from the start.
func TestResumeUsesCheckpoint(t *testing.T) {
	ctx := context.Background()
	orig := randBytes(3<<20 + 100)
	tail := randBytes(12345)
	tests := []struct {
		name string
		// damage changes the upload on disk; it returns the bytes Resume
		// must report, and whether Digest must match them (false: the
		// checkpoint is trusted, so Digest matches orig instead).
		damage   func(t *testing.T, data, state string) (want []byte, rehashed bool)
		wantSize int
	}{
		{"checkpoint only", func(t *testing.T, data, _ string) ([]byte, bool) {
			corrupt(t, data, 1000)
			return orig, false
		}, len(orig)},
		{"tail beyond checkpoint", func(t *testing.T, data, _ string) ([]byte, bool) {
			appendFile(t, data, tail)
			return append(append([]byte(nil), orig...), tail...), true
		}, len(orig) + len(tail)},
		{"data shorter than checkpoint", func(t *testing.T, data, _ string) ([]byte, bool) {
			if err := os.Truncate(data, 1<<20); err != nil {
				t.Fatal(err)
			}
			return orig[:1<<20], true
		}, 1 << 20},
		{"state destroyed", func(t *testing.T, data, state string) ([]byte, bool) {
			if err := os.WriteFile(state, []byte("garbage"), 0o644); err != nil {
				t.Fatal(err)
			}
			return orig, true
		}, len(orig)},
		{"state missing", func(t *testing.T, data, state string) ([]byte, bool) {
			if err := os.Remove(state); err != nil {
				t.Fatal(err)
			}
			return orig, true
		}, len(orig)},
	}
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		for _, tc := range tests {
			t.Run(string(alg)+"/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				st := open(t, dir)
				id := pausedUpload(t, st, alg, orig)
				up := filepath.Join(dir, "uploads", id)
				want, rehashed := tc.damage(t, filepath.Join(up, "data"), filepath.Join(up, "state"))
				w, err := open(t, dir).Resume(ctx, id)
				if err != nil {
					t.Fatalf("Resume: %v", err)
				}
				defer w.Close()
				if w.Size() != int64(tc.wantSize) {
					t.Errorf("Size() = %d, want %d", w.Size(), tc.wantSize)
				}
				wantDigest := alg.FromBytes(orig)
				if rehashed {
					wantDigest = alg.FromBytes(want)
				}
				if tc.name == "state destroyed" || tc.name == "state missing" {
					// The algorithm was lost with the state: SHA-256.
					wantDigest = digest.SHA256.FromBytes(want)
				}
				if w.Digest() != wantDigest {
					t.Errorf("Digest() = %s, want %s", w.Digest(), wantDigest)
				}
				if rehashed {
					// Commit verifies the bytes on disk, in either algorithm.
					if _, err := w.Commit(ctx, alg.FromBytes(want), int64(len(want))); err != nil {
						t.Errorf("Commit: %v", err)
					}
				}
			})
		}
	}
}

// TestTornCheckpoint breaks the newest checkpoint slot: Resume falls back to
// the older slot and hashes only the rest of the file.
func TestTornCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := open(t, dir)
	b := randBytes(20 << 20)
	w, err := st.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Chunks, so periodic checkpoints happen at 8 and 16 MiB; Close adds
	// one at 20 MiB.
	for off := 0; off < len(b); off += 1 << 20 {
		if _, err := w.Write(b[off : off+1<<20]); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	id := w.ID()
	state := filepath.Join(dir, "uploads", id, "state")
	slots, err := os.ReadFile(state)
	if err != nil || len(slots) != 1024 {
		t.Fatalf("state file: %d bytes, %v", len(slots), err)
	}
	// The newest slot has the larger sequence number (big-endian at 4..12).
	newest := 0
	if bytes.Compare(slots[516:524], slots[4:12]) > 0 {
		newest = 512
	}
	slots[newest+100] ^= 0xff
	if err := os.WriteFile(state, slots, 0o644); err != nil {
		t.Fatal(err)
	}
	// Damage bytes the older checkpoint covers: if Resume used it, it does
	// not see them.
	corrupt(t, filepath.Join(dir, "uploads", id, "data"), 1000)
	w, err = st.Resume(ctx, id)
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	defer w.Close()
	if w.Size() != int64(len(b)) || w.Digest() != digest.FromBytes(b) {
		t.Errorf("after a torn checkpoint: Size, Digest = %d, %s", w.Size(), w.Digest())
	}
}

// TestLockAcrossStores uses two Stores on one root, as two processes would:
// only the flock on the data file keeps them apart.
func TestLockAcrossStores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := open(t, dir), open(t, dir)
	w, err := a.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("locked")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Resume(ctx, w.ID()); !errors.Is(err, blob.ErrConflict) {
		t.Errorf("Resume from another store: %v, want ErrConflict", err)
	}
	if err := b.Abort(ctx, w.ID()); !errors.Is(err, blob.ErrConflict) {
		t.Errorf("Abort from another store: %v, want ErrConflict", err)
	}
	w.Close()
	w2, err := b.Resume(ctx, w.ID())
	if err != nil {
		t.Fatalf("Resume after Close: %v", err)
	}
	if _, err := a.Resume(ctx, w.ID()); !errors.Is(err, blob.ErrConflict) {
		t.Errorf("Resume back in the first store: %v, want ErrConflict", err)
	}
	if _, err := w2.Commit(ctx, digest.FromString("locked"), 6); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if _, err := a.Resume(ctx, w.ID()); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Resume of the committed upload: %v, want ErrNotFound", err)
	}
}

func corrupt(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 100)
	if _, err := f.ReadAt(b, off); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	for i := range b {
		b[i] ^= 0x5a
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}
