package bolt_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/bolt"
)

// TestOpenWithoutLogReplays opens, without WithLog, a database whose last
// changes are only in its log: they must be there, and a later Open with
// the log must not bring back their older values over newer writes.
func TestOpenWithoutLogReplays(t *testing.T) {
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "meta.db"), bolt.WithLog())
	defer s.Close()
	putKeys(t, s, 0, 300)
	if err := s.Update(context.Background(), func(tx meta.Tx) error {
		return tx.Put([]byte("moved"), []byte("old"))
	}); err != nil {
		t.Fatal(err)
	}
	img := snapshotFiles(t, dir) // a crash: everything is in the log

	plain := open(t, img)
	checkKeys(t, plain, 300)
	if v, err := get(t, plain, "moved"); err != nil || v != "old" {
		t.Fatalf("a key only in the log, opened without it: %q, %v", v, err)
	}
	if err := plain.Update(context.Background(), func(tx meta.Tx) error {
		return tx.Put([]byte("moved"), []byte("new"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := plain.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(img + ".wal.*"); len(left) != 0 {
		t.Errorf("segments left after they were replayed: %v", left)
	}

	logged := open(t, img, bolt.WithLog())
	defer logged.Close()
	checkKeys(t, logged, 300)
	if v, err := get(t, logged, "moved"); err != nil || v != "new" {
		t.Fatalf("after reopening with the log: %q, %v; want the newer write", v, err)
	}
}

// TestSegmentIdentity opens log segments beside a database file they do not
// belong to: a new file, another database's file, and an older copy of
// their own (a restored backup). Open refuses them, with or without the
// log, replays nothing and leaves the segments in place.
func TestSegmentIdentity(t *testing.T) {
	// Store a: its log holds the last changes; store b: another database.
	dirA, dirB := t.TempDir(), t.TempDir()
	a := open(t, filepath.Join(dirA, "meta.db"), bolt.WithLog())
	putKeys(t, a, 0, 30)
	backup := snapshotFiles(t, dirA)
	putKeys(t, a, 30, 60)
	// Close checkpoints everything and removes the segments the backup
	// would need; the log restarts past them.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = open(t, filepath.Join(dirA, "meta.db"), bolt.WithLog())
	defer a.Close()
	putKeys(t, a, 60, 90)
	b := open(t, filepath.Join(dirB, "meta.db"))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	copyFile := func(t *testing.T, from, to string) {
		t.Helper()
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		replace func(t *testing.T, db string) // replaces the database file at db
		want    error
		says    string
	}{
		{"new database", func(t *testing.T, db string) {
			if err := os.Remove(db); err != nil {
				t.Fatal(err)
			}
		}, meta.ErrInvalid, "another database"},
		{"another database", func(t *testing.T, db string) {
			copyFile(t, filepath.Join(dirB, "meta.db"), db)
		}, meta.ErrInvalid, "another database"},
		{"restored backup", func(t *testing.T, db string) {
			copyFile(t, backup, db)
		}, meta.ErrInvalid, "older than its log"},
	}
	for _, tt := range tests {
		for _, withLog := range []bool{false, true} {
			name := tt.name + "/without log"
			if withLog {
				name = tt.name + "/with log"
			}
			t.Run(name, func(t *testing.T) {
				img := snapshotFiles(t, dirA)
				segs, _ := filepath.Glob(img + ".wal.0*")
				if len(segs) == 0 {
					t.Fatal("no segments to replay")
				}
				tt.replace(t, img)
				var opts []bolt.Option
				if withLog {
					opts = append(opts, bolt.WithLog())
				}
				s, err := bolt.Open(img, opts...)
				if err == nil {
					s.Close()
					t.Fatal("Open replayed segments of another database")
				}
				if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
					t.Fatalf("Open: %v; want an error wrapping %v that says %q", err, tt.want, tt.says)
				}
				if left, _ := filepath.Glob(img + ".wal.0*"); len(left) != len(segs) {
					t.Fatalf("%d segments left of %d", len(left), len(segs))
				}
			})
		}
	}

	// A segment of the format before segments had a header: refused as
	// unsupported, not replayed as garbage nor skipped.
	t.Run("old format", func(t *testing.T) {
		img := snapshotFiles(t, dirA)
		segs, _ := filepath.Glob(img + ".wal.0*")
		last := segs[len(segs)-1]
		data, err := os.ReadFile(last)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(last, data[segmentHeader:], 0o600); err != nil { // the records alone
			t.Fatal(err)
		}
		_, err = bolt.Open(img, bolt.WithLog())
		if !errors.Is(err, errdef.ErrUnsupported) {
			t.Fatalf("Open with a segment of the old format: %v; want ErrUnsupported", err)
		}
	})
}
