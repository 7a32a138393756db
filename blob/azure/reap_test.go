package azure_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/blob/azure"
)

// TestReap: readers that never close leave snapshots, and a blob deleted
// under such a reader stays stored, marked. Reap leaves what is younger
// than its limit, then removes the marked blob with its snapshots and the
// stray snapshot of a live blob, which stays readable.
func TestReap(t *testing.T) {
	need(t)
	ctx := t.Context()
	c := newContainer(t)
	s := open(t, c)
	put := func(b []byte) digest.Digest {
		d := digest.FromBytes(b)
		if _, err := blob.Put(ctx, s, d, int64(len(b)), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	gone, live := put([]byte("deleted under a reader that died")), put([]byte("read by a reader that died"))
	for _, d := range []digest.Digest{gone, live} {
		if _, err := s.ReaderAt(ctx, d); err != nil { // never closed, as by a process that died
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, gone); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Stat of the deleted blob: %v", err)
	}
	if n := countBlobs(t, c); n != 4 {
		t.Fatalf("%d blobs and snapshots stored, want 4 (two blobs, two snapshots)", n)
	}

	st, err := s.Reap(ctx, time.Hour)
	if err != nil || st != (azure.ReapStats{}) {
		t.Fatalf("Reap of young snapshots: %+v %v, want nothing removed", st, err)
	}
	// A limit of zero takes every snapshot made before now.
	st, err = s.Reap(ctx, 0)
	if err != nil || st.Blobs != 1 || st.Snapshots != 1 {
		t.Fatalf("Reap: %+v %v, want one blob and one snapshot", st, err)
	}
	if n := countBlobs(t, c); n != 1 {
		t.Fatalf("%d blobs and snapshots left, want 1 (the live blob)", n)
	}
	r, err := s.ReaderAt(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if b, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size())); err != nil || digest.FromBytes(b) != live {
		t.Fatalf("live blob after Reap: %v", err)
	}
}
