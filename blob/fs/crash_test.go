package fs_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/blob/fs"
)

// Environment of the crash child: the store root and its report file.
const (
	crashDirEnv = "REGKIT_BLOB_CRASH_DIR"
	crashLogEnv = "REGKIT_BLOB_CRASH_LOG"
)

// TestCrash runs this test binary as a child that writes, pauses, resumes
// and commits blobs in a loop, and kills it with SIGKILL at random moments.
// After each kill it reopens the store and checks that every blob the child
// reported committed reads back with its digest, that Walk shows only whole
// blobs, and that every unfinished upload holds a correct prefix of its
// content and resumes with the right hash. The last round commits or
// aborts every leftover upload.
func TestCrash(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir, os.Getenv(crashLogEnv))
		return
	}
	rounds := 6
	if testing.Short() {
		rounds = 3
	}
	dir := t.TempDir()
	logPath := filepath.Join(t.TempDir(), "committed.log")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashLogEnv+"="+logPath)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("start child: %v", err)
		}
		time.Sleep(time.Duration(150+rng.IntN(450)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill child: %v", err)
		}
		if err := cmd.Wait(); err == nil {
			t.Fatalf("round %d: the child exited by itself; it should run until killed", round)
		}
		verifyAfterCrash(t, dir, logPath, round == rounds-1)
	}
}

// verifyAfterCrash reopens the store and checks it; finish ends every
// unfinished upload, half by Commit and half by Abort.
func verifyAfterCrash(t *testing.T, dir, logPath string, finish bool) {
	t.Helper()
	ctx := context.Background()
	st, err := fs.Open(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	committed := readCommitted(t, logPath)
	for d := range committed {
		if err := hashBlob(st, d); err != nil {
			t.Errorf("reported blob: %v", err)
		}
	}
	n := 0
	err = st.Walk(ctx, func(i blob.Info) error {
		n++
		if err := hashBlob(st, i.Digest); err != nil {
			t.Errorf("walked blob: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	var ups []blob.UploadInfo
	if err := st.Uploads(ctx, func(u blob.UploadInfo) error { ups = append(ups, u); return nil }); err != nil {
		t.Fatalf("Uploads: %v", err)
	}
	t.Logf("after crash: %d reported commits, %d blobs, %d unfinished uploads", len(committed), n, len(ups))
	for i, u := range ups {
		want := crashContent(u.ID, 0, int(u.Size))
		data, err := os.ReadFile(filepath.Join(dir, "uploads", u.ID, "data"))
		if err != nil || string(data) != string(want) {
			t.Errorf("upload %s: data on disk is not the %d-byte prefix of its content (%v)", u.ID, u.Size, err)
			continue
		}
		w, err := st.Resume(ctx, u.ID)
		if err != nil {
			t.Errorf("Resume(%s) after crash: %v", u.ID, err)
			continue
		}
		alg := w.Digest().Algorithm()
		if w.Size() != u.Size || w.Digest() != alg.FromBytes(want) {
			t.Errorf("upload %s resumed with Size, Digest = %d, %s; want %d, %s", u.ID, w.Size(), w.Digest(), u.Size, alg.FromBytes(want))
		}
		switch {
		case !finish:
			w.Close()
		case i%2 == 0:
			if _, err := w.Commit(ctx, alg.FromBytes(want), u.Size); err != nil {
				t.Errorf("Commit of leftover %s: %v", u.ID, err)
			}
			w.Close()
		default:
			w.Close()
			if err := st.Abort(ctx, u.ID); err != nil {
				t.Errorf("Abort of leftover %s: %v", u.ID, err)
			}
		}
	}
	if finish {
		left := 0
		st.Uploads(ctx, func(blob.UploadInfo) error { left++; return nil })
		if left != 0 {
			t.Errorf("%d uploads left after committing or aborting all", left)
		}
	}
}

// hashBlob reads blob d and checks it hashes to d.
func hashBlob(st blob.Storage, d digest.Digest) error {
	r, err := st.ReaderAt(context.Background(), d)
	if err != nil {
		return err
	}
	defer r.Close()
	v := d.Algorithm().Digester()
	if _, err := io.Copy(v.Hash(), io.NewSectionReader(r, 0, r.Size())); err != nil {
		return err
	}
	if v.Digest() != d {
		return fmt.Errorf("blob %s holds bytes hashing to %s", d, v.Digest())
	}
	return nil
}

// readCommitted parses the child's report: one "ok <digest>" line per
// Commit or Put that returned.
func readCommitted(t *testing.T, path string) map[digest.Digest]bool {
	t.Helper()
	m := make(map[digest.Digest]bool)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return m
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "ok "); ok {
			if pd, err := blob.ParseDigest(d); err == nil {
				m[pd] = true
			}
		}
	}
	return m
}

// crashContent returns bytes [off, off+n) of the content of upload id: a
// stream anyone can regenerate from the ID at any offset.
func crashContent(id string, off, n int) []byte {
	h := fnv.New64a()
	h.Write([]byte(id))
	seed := h.Sum64()
	b := make([]byte, n)
	var x uint64
	for i := range b {
		pos := uint64(off + i)
		if i == 0 || pos%8 == 0 {
			x = seed ^ (pos/8)*0x9e3779b97f4a7c15 // splitmix64 of the block index
			x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
			x = (x ^ x>>27) * 0x94d049bb133111eb
			x ^= x >> 31
		}
		b[i] = byte(x >> (8 * (pos % 8)))
	}
	return b
}

// crashTarget is the final length of upload id's content: mostly small,
// sometimes past the periodic checkpoint interval.
func crashTarget(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	v := int(h.Sum32())
	if v%10 == 0 {
		return 8<<20 + v%(10<<20)
	}
	return v % (1 << 20)
}

// crashChild is the child's loop; it runs until killed (or 60 s pass).
func crashChild(dir, logPath string) {
	ctx := context.Background()
	st, err := fs.Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open:", err)
		os.Exit(2)
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: log:", err)
		os.Exit(2)
	}
	report := func(d digest.Digest) {
		// One write per line: the line is in the kernel once Commit returned.
		if _, err := logf.WriteString("ok " + string(d) + "\n"); err != nil {
			os.Exit(2)
		}
	}
	fail := func(what string, err error) {
		fmt.Fprintf(os.Stderr, "child: %s: %v\n", what, err)
		os.Exit(3)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		switch op := rng.IntN(10); {
		case op < 2: // a small blob through Put
			b := crashContent(fmt.Sprint(rng.Uint64()), 0, rng.IntN(64<<10))
			d := digest.SHA256.FromBytes(b)
			if _, err := blob.Put(ctx, st, d, int64(len(b)), strings.NewReader(string(b))); err != nil {
				fail("Put", err)
			}
			report(d)
		case op < 4: // resume a leftover upload, if any
			var ids []string
			st.Uploads(ctx, func(u blob.UploadInfo) error { ids = append(ids, u.ID); return nil })
			if len(ids) == 0 {
				continue
			}
			w, err := st.Resume(ctx, ids[rng.IntN(len(ids))])
			if err != nil {
				fail("Resume", err)
			}
			crashWrite(ctx, st, w, rng, report, fail)
		default: // a new upload
			opts := []blob.WriterOption{}
			if rng.IntN(3) == 0 {
				opts = append(opts, blob.WithAlgorithm(digest.SHA512))
			}
			w, err := st.Writer(ctx, opts...)
			if err != nil {
				fail("Writer", err)
			}
			crashWrite(ctx, st, w, rng, report, fail)
		}
	}
	os.Exit(0)
}

// crashWrite continues upload w towards its target length, through the
// Writer's ReadFrom (the pipeline) or in random chunks; it then commits
// (sometimes after a wrong digest) or pauses.
func crashWrite(ctx context.Context, st blob.Storage, w blob.Writer, rng *rand.Rand, report func(digest.Digest), fail func(string, error)) {
	target := crashTarget(w.ID())
	pause := rng.IntN(3) == 0
	stopAt := target
	if pause {
		stopAt = int(w.Size()) + rng.IntN(target-int(w.Size())+1)
	}
	if rf, ok := w.(io.ReaderFrom); ok && rng.IntN(2) == 0 {
		// The read, hash and write pipeline, checkpoints included.
		off := int(w.Size())
		if _, err := rf.ReadFrom(bytes.NewReader(crashContent(w.ID(), off, stopAt-off))); err != nil {
			fail("ReadFrom", err)
		}
	}
	for off := int(w.Size()); off < stopAt; {
		n := min(1+rng.IntN(2<<20), stopAt-off)
		if _, err := w.Write(crashContent(w.ID(), off, n)); err != nil {
			fail("Write", err)
		}
		off += n
	}
	if pause {
		if err := w.Close(); err != nil {
			fail("Close", err)
		}
		return
	}
	all := crashContent(w.ID(), 0, target)
	alg := digest.SHA256
	if rng.IntN(2) == 0 {
		alg = digest.SHA512
	}
	if target > 0 && rng.IntN(5) == 0 {
		if _, err := w.Commit(ctx, alg.FromBytes(all[:target/2]), -1); !errors.Is(err, blob.ErrDigestMismatch) {
			fail("Commit of a wrong digest", err)
		}
	}
	d := alg.FromBytes(all)
	if _, err := w.Commit(ctx, d, int64(target)); err != nil {
		fail("Commit", err)
	}
	report(d)
	w.Close()
}
