package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/bolt"
	"github.com/regkit/regkit/registry/meta/metatest"
)

// The conformance suite with the log: checkpoints at every few records, and
// none before Close.
func TestConformanceWithLog(t *testing.T) {
	for _, every := range []int64{1, 512, 1 << 20} {
		t.Run(fmt.Sprintf("checkpoint=%d", every), func(t *testing.T) {
			metatest.RunPersistent(t, func(t *testing.T, dir string) meta.Store {
				return open(t, filepath.Join(dir, "meta.db"), bolt.WithLog(), bolt.WithCheckpointBytes(every))
			})
		})
	}
}

// snapshotFiles copies the database file and its log segments from dir to a
// new folder, as a crash would leave them (the page cache survives a killed
// process), and returns the copy's database path.
func snapshotFiles(t *testing.T, dir string) string {
	t.Helper()
	// The store may be checkpointing in the background: a copy is a crash
	// image only if no file changed while it was taken, so copy until the
	// folder looks the same before and after.
	for range 1000 {
		out := t.TempDir()
		before, err := listing(dir)
		if err != nil {
			t.Fatal(err)
		}
		ok := true
		for name := range before {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if errors.Is(err, fs.ErrNotExist) {
				ok = false
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(out, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		after, err := listing(dir)
		if err != nil {
			t.Fatal(err)
		}
		if ok && maps.Equal(before, after) {
			return filepath.Join(out, "meta.db")
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the store's files kept changing; no consistent snapshot")
	return ""
}

// listing returns the size and modification time of every file in dir.
func listing(dir string) (map[string]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(ents))
	for _, e := range ents {
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		m[e.Name()] = fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
	}
	return m, nil
}

// onlySegment returns the path and bytes of the one log segment of the
// database at db.
func onlySegment(t *testing.T, db string) (string, []byte) {
	t.Helper()
	segs, _ := filepath.Glob(db + ".wal.*")
	segs = slices.DeleteFunc(segs, func(p string) bool { return strings.HasSuffix(p, ".wal.next") }) // the spare
	if len(segs) != 1 {
		t.Fatalf("%d segments, want 1", len(segs))
	}
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	return segs[0], b
}

func get(t *testing.T, s meta.Store, key string) (string, error) {
	t.Helper()
	var v string
	err := s.View(context.Background(), func(tx meta.Tx) error {
		b, err := tx.Get([]byte(key))
		v = string(b)
		return err
	})
	return v, err
}

func putKeys(t *testing.T, s meta.Store, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := s.Update(context.Background(), func(tx meta.Tx) error {
			if i%3 == 2 {
				return tx.Delete(fmt.Appendf(nil, "k%04d", i-1))
			}
			return tx.Put(fmt.Appendf(nil, "k%04d", i), fmt.Appendf(nil, "v%d", i))
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// checkKeys checks the state putKeys(0, n) leaves.
func checkKeys(t *testing.T, s meta.Store, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		v, err := get(t, s, fmt.Sprintf("k%04d", i))
		deleted := i%3 == 1 && i+1 < n
		switch {
		case i%3 == 2 || deleted:
			if !errors.Is(err, meta.ErrNotFound) {
				t.Fatalf("k%04d: got %q, %v; want not found", i, v, err)
			}
		case err != nil || v != fmt.Sprintf("v%d", i):
			t.Fatalf("k%04d: got %q, %v", i, v, err)
		}
	}
}

// TestLogRecovery opens copies of a store taken without Close: with the
// changes only in the log, half checkpointed, with a torn last record, and
// with a corrupt record in an older segment, which Open refuses.
func TestLogRecovery(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "meta.db")
	s := open(t, path, bolt.WithLog(), bolt.WithCheckpointBytes(1<<20))
	defer s.Close()
	putKeys(t, s, 0, 300)

	t.Run("log only", func(t *testing.T) {
		c := open(t, snapshotFiles(t, dir), bolt.WithLog())
		checkKeys(t, c, 300)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("torn tail", func(t *testing.T) {
		cp := snapshotFiles(t, dir)
		seg, b := onlySegment(t, cp)
		_, end := lastRecord(b)
		if end == 0 || end+9 > len(b) {
			t.Fatalf("segment of %d bytes has records up to %d", len(b), end)
		}
		copy(b[end:], []byte{200, 0, 0, 0, 1, 2, 3, 4, 5}) // a record cut short
		if err := os.WriteFile(seg, b, 0o600); err != nil {
			t.Fatal(err)
		}
		c := open(t, cp, bolt.WithLog())
		checkKeys(t, c, 300)
		c.Close()
		if left, _ := filepath.Glob(cp + ".wal.*"); len(left) != 0 {
			t.Errorf("segments left after a clean Close: %v", left)
		}
		// Without the log the file itself now holds everything.
		c = open(t, cp)
		checkKeys(t, c, 300)
		c.Close()
	})
	t.Run("corrupt older segment", func(t *testing.T) {
		cp := snapshotFiles(t, dir)
		segs, _ := filepath.Glob(cp + ".wal.*")
		b, _ := os.ReadFile(segs[0])
		b[segmentHeader+20] ^= 0xff // in the first record
		os.WriteFile(segs[0], b, 0o600)
		// A newer, empty segment makes the damaged one not the last.
		seq, err := strconv.ParseUint(segs[0][len(segs[0])-16:], 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		next := strings.TrimSuffix(segs[0], segs[0][len(segs[0])-16:]) + fmt.Sprintf("%016x", seq+1)
		os.WriteFile(next, nil, 0o600)
		_, err = bolt.Open(cp, bolt.WithLog())
		if !errors.Is(err, meta.ErrUnavailable) {
			t.Fatalf("Open with a corrupt older segment: %v, want ErrUnavailable", err)
		}
	})

	// Half checkpointed: a small threshold checkpoints while writing.
	dir2 := t.TempDir()
	s2 := open(t, filepath.Join(dir2, "meta.db"), bolt.WithLog(), bolt.WithCheckpointBytes(2000))
	putKeys(t, s2, 0, 500)
	c := open(t, snapshotFiles(t, dir2), bolt.WithLog())
	checkKeys(t, c, 500)
	c.Close()
	checkKeys(t, s2, 500)
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
}
