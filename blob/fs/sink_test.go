package fs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/blob/fs"
)

// TestWriteShapes writes the same bytes in pieces whose sizes, file offsets
// and memory addresses fall on and off the direct-I/O alignment, closing and
// resuming in between, and checks the committed blob byte for byte, with
// direct I/O on and off, on the test's folder and on tmpfs (which refuses
// O_DIRECT) when the machine has one.
func TestWriteShapes(t *testing.T) {
	data := make([]byte, 6<<20+12345)
	for i := range data {
		data[i] = byte(i*31 + i>>13)
	}
	want := digest.FromBytes(data)
	cases := []struct {
		name   string
		pieces []int // sizes written in order; the rest is written whole at the end
		skew   int   // the pieces start this many bytes into a larger buffer
		resume int   // close and resume after this many pieces (0: never)
	}{
		{"whole", nil, 0, 0},
		{"aligned MiB", []int{1 << 20, 1 << 20, 1 << 20}, 0, 0},
		{"unaligned offsets", []int{1000, 1 << 20, 300 << 10, 4095, 2 << 20}, 0, 0},
		{"unaligned memory", []int{1 << 20, 1 << 20, 512 << 10}, 7, 0},
		{"small then large", []int{1, 2, 3, 4096, 8192, 3 << 20}, 3, 0},
		{"resume unaligned", []int{5000, 1 << 20, 200 << 10}, 1, 2},
		{"resume aligned", []int{1 << 20, 1 << 20}, 0, 1},
	}
	dirs := map[string]string{"tempdir": ""}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		dirs["tmpfs"] = "/dev/shm"
	}
	for dirName, base := range dirs {
		for _, direct := range []bool{true, false} {
			for _, c := range cases {
				t.Run(fmt.Sprintf("%s/direct=%v/%s", dirName, direct, c.name), func(t *testing.T) {
					root := t.TempDir()
					if base != "" {
						var err error
						if root, err = os.MkdirTemp(base, "regkit-fs-test-"); err != nil {
							t.Skip(err)
						}
						t.Cleanup(func() { os.RemoveAll(root) })
					}
					writeShapes(t, root, direct, data, c.pieces, c.skew, c.resume)
					s, err := fs.Open(root, fs.WithDirectIO(direct))
					if err != nil {
						t.Fatal(err)
					}
					ra, err := s.ReaderAt(context.Background(), want)
					if err != nil {
						t.Fatal(err)
					}
					defer ra.Close()
					got, err := io.ReadAll(io.NewSectionReader(ra, 0, ra.Size()))
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, data) {
						t.Fatalf("stored %d bytes differ from the %d written", len(got), len(data))
					}
				})
			}
		}
	}
}

func writeShapes(t *testing.T, root string, direct bool, data []byte, pieces []int, skew, resume int) {
	t.Helper()
	ctx := context.Background()
	s, err := fs.Open(root, fs.WithDirectIO(direct))
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	scratch := make([]byte, len(data)+skew)
	off := 0
	write := func(n int) {
		t.Helper()
		p := scratch[skew : skew+n]
		copy(p, data[off:off+n])
		if m, err := w.Write(p); err != nil || m != n {
			t.Fatalf("Write(%d bytes at %d) = %d, %v", n, off, m, err)
		}
		off += n
	}
	for i, n := range pieces {
		write(n)
		if resume > 0 && i+1 == resume {
			id := w.ID()
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if w, err = s.Resume(ctx, id); err != nil {
				t.Fatal(err)
			}
			if w.Size() != int64(off) {
				t.Fatalf("resumed at %d, wrote %d", w.Size(), off)
			}
		}
	}
	write(len(data) - off)
	sum := sha256.Sum256(data)
	d := digest.NewDigestFromBytes(digest.SHA256, sum[:])
	if got := w.Digest(); got != d {
		t.Fatalf("writer digest %s, want %s", got, d)
	}
	if _, err := w.Commit(ctx, d, int64(len(data))); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if _, err := s.Stat(ctx, d); err != nil {
		t.Fatalf("Stat after commit: %v", err)
	}
	var _ blob.Storage = s
}
