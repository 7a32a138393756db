package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// faultEntry is one way of storing a blob: Writer.Write in 1 MiB chunks,
// Writer.ReadFrom (the read, hash and write pipeline) or Store.Put.
type faultEntry struct {
	name string
	put  bool
	// fill writes data into w the entry's way.
	fill func(w blob.Writer, data []byte) error
}

var faultEntries = []faultEntry{
	{name: "Write", fill: func(w blob.Writer, data []byte) error {
		for off := 0; off < len(data); off += 1 << 20 {
			if _, err := w.Write(data[off:min(off+1<<20, len(data))]); err != nil {
				return err
			}
		}
		return nil
	}},
	{name: "ReadFrom", fill: func(w blob.Writer, data []byte) error {
		_, err := w.(io.ReaderFrom).ReadFrom(bytes.NewReader(data))
		return err
	}},
	{name: "Put", put: true},
}

// store stores data as d the entry's way. It returns the upload's Writer
// (nil for Put, or when none was started) and the first error.
func (e faultEntry) store(ctx context.Context, st *Store, data []byte, d digest.Digest) (blob.Writer, error) {
	if e.put {
		_, err := st.Put(ctx, d, int64(len(data)), bytes.NewReader(data))
		return nil, err
	}
	w, err := st.Writer(ctx)
	if err != nil {
		return nil, err
	}
	if err := e.fill(w, data); err != nil {
		return w, err
	}
	_, err = w.Commit(ctx, d, int64(len(data)))
	return w, err
}

// notState matches every file but an upload's state file.
func notState(p string) bool { return !strings.HasSuffix(p, "/state") }

// TestFaults injects EIO and ENOSPC into file creation, writes (of data and
// of hash checkpoints), fsync, rename and directory sync while a 12 MiB blob
// is stored through Writer.Write, Writer.ReadFrom and Store.Put, with direct
// I/O on and off. Every failure must wrap ErrUnavailable and the cause;
// the blob committed before must survive; nothing half-written may be
// visible or left in tmp/; and once the fault clears the upload resumes
// (from exactly the bytes known written, with their digest) or is retried,
// and commits, also after a reopen.
func TestFaults(t *testing.T) {
	data := pumpData(12<<20 + 123)
	d := digest.FromBytes(data)
	prefix := filepath.Join("blobs", "sha256", d.Encoded()[:2])
	cases := []struct {
		name  string
		fault fault
		// visible: the blob is whole and visible after the failure (its
		// name was renamed in; only the directory sync failed).
		visible bool
		// resume: the upload survives and resumes; otherwise it is gone
		// (or never was) and the store is retried from the start.
		resume bool
		// stillFails: while the fault lasts, a retry must fail too.
		stillFails bool
		// synced: a directory that must be synced again once the fault
		// clears, before the retry is acknowledged.
		synced func(string) bool
		// noPut: the fault cannot happen in Put (no upload state).
		noPut bool
	}{
		{name: "create ENOSPC", fault: fault{op: opCreate, err: syscall.ENOSPC}},
		{name: "write ENOSPC short", fault: fault{op: opWrite, path: notState, err: syscall.ENOSPC, skip: 3, part: partShort}, resume: true},
		{name: "write EIO torn", fault: fault{op: opWrite, path: notState, err: syscall.EIO, skip: 2, part: partTorn}, resume: true},
		{name: "write EIO first", fault: fault{op: opWrite, path: notState, err: syscall.EIO}, resume: true},
		{name: "checkpoint ENOSPC", fault: fault{op: opWrite, path: endsWith("/state"), err: syscall.ENOSPC, skip: 1}, resume: true, noPut: true},
		{name: "fsync EIO", fault: fault{op: opSync, err: syscall.EIO}},
		{name: "fsync ENOSPC", fault: fault{op: opSync, err: syscall.ENOSPC}},
		{name: "rename EIO", fault: fault{op: opRename, path: under("/blobs/"), err: syscall.EIO}, resume: true},
		{name: "rename ENOSPC", fault: fault{op: opRename, path: under("/blobs/"), err: syscall.ENOSPC}, resume: true},
		{
			name:   "new directory sync EIO",
			fault:  fault{op: opSyncDir, path: endsWith("/blobs/sha256"), err: syscall.EIO},
			resume: true, synced: endsWith("/blobs/sha256"),
		},
		{
			name:    "directory sync EIO",
			fault:   fault{op: opSyncDir, path: endsWith(prefix), err: syscall.EIO},
			visible: true, stillFails: true, synced: endsWith(prefix),
		},
		{
			name:    "directory sync ENOSPC",
			fault:   fault{op: opSyncDir, path: endsWith(prefix), err: syscall.ENOSPC},
			visible: true, stillFails: true, synced: endsWith(prefix),
		},
	}
	for _, tc := range cases {
		for _, e := range faultEntries {
			if e.put && tc.noPut {
				continue
			}
			for _, direct := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%s/direct=%v", tc.name, e.name, direct), func(t *testing.T) {
					resume := tc.resume && !e.put
					checkFault(t, e, tc.fault, direct, data, d, tc.visible, resume, tc.stillFails, tc.synced)
				})
			}
		}
	}
}

func checkFault(t *testing.T, e faultEntry, f fault, direct bool, data []byte, d digest.Digest,
	visible, resume, stillFails bool, synced func(string) bool) {
	ctx := context.Background()
	dir := t.TempDir()
	ffs := &faultFS{}
	st, err := Open(dir, WithDirectIO(direct), withFS(ffs))
	if err != nil {
		t.Fatal(err)
	}
	// A blob committed before the fault, in another prefix directory.
	old := committedBefore(t, st, d)

	ffs.inject(f)
	w, err := e.store(ctx, st, data, d)
	wantFault(t, "store", err, f.err)
	if w != nil && !resume {
		// The Writer is spent or finished: further writes fail.
		if _, err := w.Write([]byte("x")); err == nil {
			t.Error("Write after the failure succeeded")
		}
	}
	checkVisible(t, st, dir, old, data, d, visible)
	var again blob.Writer
	if stillFails {
		again, err = e.store(ctx, st, data, d)
		wantFault(t, "retry while the fault lasts", err, f.err)
	}

	ffs.clear()
	mark := ffs.mark()
	if again != nil {
		// The retry's upload is whole and kept: its Commit now succeeds.
		if _, err := again.Commit(ctx, d, int64(len(data))); err != nil {
			t.Fatalf("Commit of the retry's upload after the fault cleared: %v", err)
		}
	}
	if resume {
		resumeAndCommit(t, st, e, w, data, d)
	} else {
		if w != nil {
			w.Close()
		}
		if ups := uploads(t, st); len(ups) != 0 {
			t.Fatalf("uploads left after a failure that ends the upload: %+v", ups)
		}
		if _, err := e.store(ctx, st, data, d); err != nil {
			t.Fatalf("retry after the fault cleared: %v", err)
		}
	}
	if synced != nil && ffs.count(mark, opSyncDir, synced) == 0 {
		t.Error("the directory whose sync failed was not synced again before the commit was acknowledged")
	}
	checkVisible(t, st, dir, old, data, d, true)
	if ups := uploads(t, st); len(ups) != 0 {
		t.Errorf("uploads left after the commit: %+v", ups)
	}
	reopened, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkVisible(t, reopened, dir, old, data, d, true)
}

// committedBefore puts a small blob whose prefix directory differs from d's.
func committedBefore(t *testing.T, st *Store, d digest.Digest) []byte {
	t.Helper()
	for i := 0; ; i++ {
		b := []byte(fmt.Sprintf("committed before the fault %d", i))
		od := digest.FromBytes(b)
		if od.Encoded()[:2] == d.Encoded()[:2] {
			continue
		}
		if _, err := st.Put(context.Background(), od, int64(len(b)), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		return b
	}
}

// wantFault checks that err wraps ErrUnavailable and the injected errno.
func wantFault(t *testing.T, what string, err error, errno syscall.Errno) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("%s succeeded under the fault", what)
	case !errors.Is(err, blob.ErrUnavailable) || !errors.Is(err, errno):
		t.Fatalf("%s: %v; want an error wrapping ErrUnavailable and %v", what, err, errno)
	}
}

// checkVisible checks that the old blob reads back whole, that d is
// visible (whole) exactly when want says, that Walk shows nothing else,
// and that tmp/ holds no staging file.
func checkVisible(t *testing.T, st *Store, dir string, old, data []byte, d digest.Digest, want bool) {
	t.Helper()
	ctx := context.Background()
	if err := readBack(st, old); err != nil {
		t.Errorf("committed blob: %v", err)
	}
	_, err := st.Stat(ctx, d)
	switch {
	case want && err != nil:
		t.Errorf("Stat: %v", err)
	case !want && !errors.Is(err, blob.ErrNotFound):
		t.Errorf("Stat of a blob whose store failed: %v, want ErrNotFound", err)
	}
	if want {
		if err := readBack(st, data); err != nil {
			t.Error(err)
		}
	} else if _, err := st.ReaderAt(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ReaderAt of a blob whose store failed: %v, want ErrNotFound", err)
	}
	n := 0
	err = st.Walk(ctx, func(i blob.Info) error {
		n++
		switch i.Digest {
		case digest.FromBytes(old):
		case d:
			if !want {
				t.Errorf("Walk shows %s, whose store failed", d)
			}
		default:
			t.Errorf("Walk shows an unknown blob %s", i.Digest)
		}
		return nil
	})
	if err != nil {
		t.Errorf("Walk: %v", err)
	}
	if ents, err := os.ReadDir(filepath.Join(dir, "tmp")); err != nil || len(ents) != 0 {
		t.Errorf("tmp/ holds %d entries (%v), want none", len(ents), err)
	}
}

// readBack checks that the blob of data reads back whole.
func readBack(st *Store, data []byte) error {
	d := digest.FromBytes(data)
	r, err := st.ReaderAt(context.Background(), d)
	if err != nil {
		return err
	}
	defer r.Close()
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || !bytes.Equal(got, data) {
		return fmt.Errorf("blob %s reads back %d bytes (%v), want %d equal bytes", d, len(got), err, len(data))
	}
	return nil
}

// resumeAndCommit closes w, resumes its upload and checks that it holds
// exactly the bytes w reported, with their digest, then writes the rest the
// entry's way and commits.
func resumeAndCommit(t *testing.T, st *Store, e faultEntry, w blob.Writer, data []byte, d digest.Digest) {
	t.Helper()
	ctx := context.Background()
	if w == nil {
		t.Fatal("no upload to resume")
	}
	size := w.Size()
	w.Close()
	r, err := st.Resume(ctx, w.ID())
	if err != nil {
		t.Fatalf("Resume after the fault cleared: %v", err)
	}
	if r.Size() != size || size > int64(len(data)) {
		t.Fatalf("resumed upload holds %d bytes, the failed writer reported %d (of %d)", r.Size(), size, len(data))
	}
	if got, want := r.Digest(), digest.FromBytes(data[:size]); got != want {
		t.Fatalf("resumed upload hashes to %s, want %s (the digest of its first %d bytes)", got, want, size)
	}
	if err := e.fill(r, data[size:]); err != nil {
		t.Fatalf("write after resume: %v", err)
	}
	if _, err := r.Commit(ctx, d, int64(len(data))); err != nil {
		t.Fatalf("Commit after resume: %v", err)
	}
}

func uploads(t *testing.T, st *Store) []blob.UploadInfo {
	t.Helper()
	var ups []blob.UploadInfo
	if err := st.Uploads(context.Background(), func(u blob.UploadInfo) error {
		ups = append(ups, u)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ups
}

// TestDeleteFaults checks that Delete fsyncs the blob's directory, so a
// deleted blob cannot reappear after a crash, and that a failed sync is
// reported (ErrUnavailable and the cause), leaves the blob invisible, and
// is retried before the next commit is acknowledged.
func TestDeleteFaults(t *testing.T) {
	ctx := context.Background()
	for _, errno := range []syscall.Errno{0, syscall.EIO, syscall.ENOSPC} {
		t.Run(fmt.Sprint(errno), func(t *testing.T) {
			dir := t.TempDir()
			ffs := &faultFS{}
			st, err := Open(dir, withFS(ffs))
			if err != nil {
				t.Fatal(err)
			}
			data := pumpData(5000)
			d := digest.FromBytes(data)
			if _, err := st.Put(ctx, d, int64(len(data)), bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			blobDir := endsWith(filepath.Dir(st.blobPath(d)))
			if errno != 0 {
				ffs.inject(fault{op: opSyncDir, path: blobDir, err: errno})
			}
			mark := ffs.mark()
			err = st.Delete(ctx, d)
			if errno == 0 {
				if err != nil {
					t.Fatalf("Delete: %v", err)
				}
				if ffs.count(mark, opSyncDir, blobDir) == 0 {
					t.Fatal("Delete did not sync the blob's directory")
				}
			} else {
				wantFault(t, "Delete", err, errno)
			}
			if _, err := st.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Stat after Delete: %v, want ErrNotFound", err)
			}
			ffs.clear()
			mark = ffs.mark()
			other := pumpData(7000)
			if _, err := st.Put(ctx, digest.FromBytes(other), int64(len(other)), bytes.NewReader(other)); err != nil {
				t.Fatalf("Put after the fault cleared: %v", err)
			}
			if errno != 0 && ffs.count(mark, opSyncDir, blobDir) == 0 {
				t.Error("the directory whose sync failed in Delete was not synced again before the next commit")
			}
			reopened, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := reopened.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Stat after reopening: %v, want ErrNotFound", err)
			}
		})
	}
}
