package fs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

func TestLayout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := open(t, dir)
	if st.Root() != dir {
		t.Errorf("Root() = %s, want %s", st.Root(), dir)
	}
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		b := []byte("layout " + alg)
		d := alg.FromBytes(b)
		if _, err := blob.Put(ctx, st, d, int64(len(b)), strings.NewReader(string(b))); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "blobs", string(alg), d.Encoded()[:2], d.Encoded())
		if got, err := os.ReadFile(path); err != nil || string(got) != string(b) {
			t.Errorf("blob file %s: %q, %v", path, got, err)
		}
	}
	w, err := st.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, name := range []string{"data", "state"} {
		if _, err := os.Stat(filepath.Join(dir, "uploads", w.ID(), name)); err != nil {
			t.Errorf("upload file %s: %v", name, err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ holds %d entries after Put and Writer, want 0", len(ents))
	}
}

// TestOpenCleanup plants what a crash leaves behind and checks Open removes
// exactly the stale parts.
func TestOpenCleanup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := open(t, dir)
	paused := pausedUpload(t, st, digest.SHA256, []byte("keep me"))
	old := time.Now().Add(-2 * time.Hour)
	plant := func(rel string, isDir bool, mtime time.Time) string {
		p := filepath.Join(dir, rel)
		if isDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, []byte("stray"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return p
	}
	staleTemp := plant("tmp/put-1.tmp", false, old)
	staleStage := plant("tmp/"+blob.NewUploadID()+".new", true, old)
	freshTemp := plant("tmp/put-2.tmp", false, time.Now())
	finished := plant("uploads/"+blob.NewUploadID(), true, old)
	plant(strings.TrimPrefix(finished, dir+"/")+"/state", false, old)
	foreign := plant("uploads/not-an-upload", true, old)

	st = open(t, dir)
	for _, p := range []string{staleTemp, staleStage, finished} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived Open (%v)", p, err)
		}
	}
	for _, p := range []string{freshTemp, foreign} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed by Open: %v", p, err)
		}
	}
	ups := map[string]bool{}
	st.Uploads(ctx, func(u blob.UploadInfo) error { ups[u.ID] = true; return nil })
	if len(ups) != 1 || !ups[paused] {
		t.Errorf("Uploads after cleanup = %v, want only %s", ups, paused)
	}
}

// TestWalkIgnoresStrays puts files that are not blobs into blobs/.
func TestWalkIgnoresStrays(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := open(t, dir)
	b := []byte("real")
	d := digest.FromBytes(b)
	if _, err := blob.Put(ctx, st, d, 4, strings.NewReader("real")); err != nil {
		t.Fatal(err)
	}
	hex := d.Encoded()
	for _, rel := range []string{
		"blobs/sha256/" + hex[:2] + "/" + hex + ".tmp",
		"blobs/sha256/" + hex[:2] + "/short",
		"blobs/sha256/zz/" + hex,
		"blobs/sha256/00/" + hex, // wrong prefix directory
		"blobs/md5/ab/abcd",
		"blobs/README",
	} {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var got []digest.Digest
	if err := st.Walk(ctx, func(i blob.Info) error { got = append(got, i.Digest); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != d {
		t.Errorf("Walk = %v, want [%s]", got, d)
	}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// TestUnavailable removes the store's directories from under it: operations
// fail with ErrUnavailable (or ErrNotFound for a missing blob), not a panic.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := open(t, dir)
	for _, sub := range []string{"blobs", "uploads", "tmp"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			t.Fatal(err)
		}
	}
	unavailable := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", what, err)
		}
	}
	_, err := st.Writer(ctx)
	unavailable("Writer", err)
	_, err = blob.Put(ctx, st, digest.FromString("x"), 1, strings.NewReader("x"))
	unavailable("Put", err)
	unavailable("Walk", st.Walk(ctx, func(blob.Info) error { return nil }))
	unavailable("Uploads", st.Uploads(ctx, func(blob.UploadInfo) error { return nil }))
	if _, err := st.Stat(ctx, digest.FromString("x")); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat: %v, want ErrNotFound", err)
	}
}
