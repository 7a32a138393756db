package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/regkit/regkit/registry/meta"
)

// Fault injection: every test fails one file-system operation of the log
// (faultFS) or a checkpoint's transaction, then checks that the operation
// fails with an error wrapping meta.ErrUnavailable and the cause, that the
// store says it is read-only (Health, the log) and keeps serving reads, that
// no acknowledged Update is lost and no failed one is half visible, and that
// the store takes writes again once reopened.

// logBuffer collects what a store logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// openFaulty opens the store at path with the log writing through ffs, its
// faults also failing checkpoints, and no checkpoint but those the test
// starts.
func openFaulty(t *testing.T, path string, ffs *faultFS, logs *logBuffer, opts ...Option) *Store {
	t.Helper()
	opts = append([]Option{
		WithLog(), WithCheckpointBytes(1 << 30), withFS(ffs), WithLogger(logs.logger()),
		withHooks(hooks{checkpoint: ffs.checkpointHook}),
	}, opts...)
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// putEach commits each key in its own Update.
func putEach(t *testing.T, s *Store, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := s.Update(context.Background(), func(tx meta.Tx) error {
			return tx.Put([]byte(k), []byte("v-"+k))
		}); err != nil {
			t.Fatalf("Update %s: %v", k, err)
		}
	}
}

// keys returns n keys with prefix.
func keys(prefix string, n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return ks
}

// present counts the keys of ks that s holds with their value.
func present(t *testing.T, s *Store, ks []string) int {
	t.Helper()
	n := 0
	if err := s.View(context.Background(), func(tx meta.Tx) error {
		for _, k := range ks {
			v, err := tx.Get([]byte(k))
			switch {
			case errors.Is(err, meta.ErrNotFound):
			case err != nil:
				return err
			case string(v) != "v-"+k:
				return fmt.Errorf("%s = %q", k, v)
			default:
				n++
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	return n
}

// crashImage copies the files of dir, as a crash of the process would leave
// them, and returns the copy's database path. No checkpoint may run.
func crashImage(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(out, "meta.db")
}

// wantFault checks that err wraps meta.ErrUnavailable and cause.
func wantFault(t *testing.T, what string, err, cause error) {
	t.Helper()
	if !errors.Is(err, meta.ErrUnavailable) || !errors.Is(err, cause) {
		t.Fatalf("%s: %v; want an error wrapping ErrUnavailable and %v", what, err, cause)
	}
}

// wantReadOnly checks a store after a fault: Health and Update report it
// read-only, with the cause; it was logged; reads still see acked.
func wantReadOnly(t *testing.T, s *Store, logs *logBuffer, cause error, acked []string) {
	t.Helper()
	err := s.Health()
	wantFault(t, "Health", err, cause)
	if !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Health: %v; want it to say read-only", err)
	}
	if !strings.Contains(logs.String(), "read-only") {
		t.Errorf("nothing logged about the failure; log: %q", logs.String())
	}
	err = s.Update(context.Background(), func(tx meta.Tx) error {
		t.Error("fn ran in a read-only store")
		return nil
	})
	wantFault(t, "Update in a read-only store", err, cause)
	if n := present(t, s, acked); n != len(acked) {
		t.Fatalf("View in a read-only store finds %d of %d acknowledged keys", n, len(acked))
	}
}

// reopenWorks reopens the store at path with the operating system's file
// system: every acknowledged key is there, and it takes writes.
func reopenWorks(t *testing.T, path string, acked []string) *Store {
	t.Helper()
	s, err := Open(path, WithLog())
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if n := present(t, s, acked); n != len(acked) {
		t.Fatalf("after reopen %d of %d acknowledged keys", n, len(acked))
	}
	if err := s.Health(); err != nil {
		t.Fatalf("Health after reopen: %v", err)
	}
	putEach(t, s, "after-reopen")
	return s
}

// TestFaultAppend fails the append of an Update's log record: its write
// (cut short) or its flush, once or until cleared.
func TestFaultAppend(t *testing.T) {
	tests := []struct {
		name   string
		fault  fault
		erased bool // whether the store can erase the failed record
	}{
		{"write ENOSPC", fault{op: faultWrite, match: ".wal.0", err: syscall.ENOSPC, times: 1}, true},
		{"write EIO until cleared", fault{op: faultWrite, match: ".wal.0", err: syscall.EIO}, false},
		{"fsync ENOSPC", fault{op: faultSync, match: ".wal.0", err: syscall.ENOSPC, times: 1}, true},
		{"fsync EIO until cleared", fault{op: faultSync, match: ".wal.0", err: syscall.EIO}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "meta.db")
			ffs, logs := &faultFS{}, &logBuffer{}
			s := openFaulty(t, path, ffs, logs)
			acked := keys("a", 20)
			putEach(t, s, acked...)

			ffs.inject(tt.fault)
			failed := keys("f", 3)
			err := s.Update(context.Background(), func(tx meta.Tx) error {
				for _, k := range failed {
					if err := tx.Put([]byte(k), []byte("v-"+k)); err != nil {
						return err
					}
				}
				return nil
			})
			if ffs.failed() == 0 {
				t.Fatal("the fault was never hit")
			}
			wantFault(t, "Update", err, tt.fault.err)
			if says := !strings.Contains(err.Error(), "could not be erased"); says != tt.erased {
				t.Errorf("Update: %v; want it to say whether the record was erased (%v)", err, tt.erased)
			}
			if n := present(t, s, failed); n != 0 {
				t.Fatalf("%d keys of the failed Update visible", n)
			}
			wantReadOnly(t, s, logs, tt.fault.err, acked)
			ffs.clear()
			// Read-only by design until reopened, also once the fault clears.
			wantReadOnly(t, s, logs, tt.fault.err, acked)

			// A crash now: the failed Update's record is erased, cut short,
			// or (if even the erase failed) whole; never half applied.
			img := crashImage(t, dir)
			c := reopenWorks(t, img, acked)
			if n := present(t, c, failed); n != 0 && n != len(failed) {
				t.Fatalf("after a crash %d of the %d keys of the failed Update", n, len(failed))
			}
			if tt.erased && present(t, c, failed) != 0 {
				t.Fatal("after a crash the failed Update, whose record was erased, is there")
			}

			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			c = reopenWorks(t, path, acked)
			if n := present(t, c, failed); n != 0 {
				t.Fatalf("after Close and reopen %d keys of the failed Update", n)
			}
		})
	}
}

// TestFaultCheckpoint fails a checkpoint: the rotation to a new segment
// (rename, directory sync) or the checkpoint's transaction, once or for the
// rest of the store's life, when Close's last checkpoint fails too and the
// log keeps everything for the next Open.
func TestFaultCheckpoint(t *testing.T) {
	tests := []struct {
		name  string
		fault fault
	}{
		{"rename ENOSPC", fault{op: faultRename, err: syscall.ENOSPC, times: 1}},
		{"directory sync EIO", fault{op: faultSyncDir, err: syscall.EIO, times: 1}},
		{"new segment write ENOSPC", fault{op: faultWrite, match: "next", err: syscall.ENOSPC, times: 1}},
		{"transaction EIO", fault{op: faultCheckpoint, err: syscall.EIO, times: 1}},
		{"transaction ENOSPC until Close", fault{op: faultCheckpoint, err: syscall.ENOSPC}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "meta.db")
			ffs, logs := &faultFS{}, &logBuffer{}
			s := openFaulty(t, path, ffs, logs)
			acked := keys("a", 20)
			putEach(t, s, acked[:10]...)
			if err := s.checkpoint(); err != nil {
				t.Fatalf("checkpoint: %v", err)
			}
			putEach(t, s, acked[10:]...)
			if tt.fault.match == "next" {
				// Make the rotation prepare its segment itself.
				s.log.spare.f.Close()
				s.log.spare = nil
			}

			ffs.inject(tt.fault)
			err := s.checkpoint()
			if ffs.failed() == 0 {
				t.Fatal("the fault was never hit")
			}
			wantFault(t, "checkpoint", err, tt.fault.err)
			wantReadOnly(t, s, logs, tt.fault.err, acked)

			err = s.Close()
			if tt.fault.times == 0 {
				wantFault(t, "Close with a failing checkpoint", err, tt.fault.err)
				if !strings.Contains(logs.String(), "last checkpoint failed") {
					t.Errorf("Close's failed checkpoint not logged: %q", logs.String())
				}
			} else if err != nil {
				t.Fatalf("Close: %v", err)
			}
			reopenWorks(t, path, acked)
		})
	}
}

// TestFaultSpare fails the preparation of the next segment after a
// checkpoint: nothing is lost or refused, it is logged, and the next
// rotation prepares the segment itself.
func TestFaultSpare(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "meta.db")
	ffs, logs := &faultFS{}, &logBuffer{}
	s := openFaulty(t, path, ffs, logs)
	acked := keys("a", 30)
	putEach(t, s, acked[:10]...)
	ffs.inject(fault{op: faultSync, match: "next", err: syscall.ENOSPC, times: 1})
	if err := s.checkpoint(); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	if ffs.failed() != 1 {
		t.Fatalf("%d faults hit, want 1", ffs.failed())
	}
	if err := s.Health(); err != nil {
		t.Fatalf("Health after a failed spare: %v", err)
	}
	if !strings.Contains(logs.String(), "prepare the next log segment") || !strings.Contains(logs.String(), "no space left") {
		t.Errorf("the failed spare was not logged with its cause: %q", logs.String())
	}
	putEach(t, s, acked[10:20]...)
	if err := s.checkpoint(); err != nil {
		t.Fatalf("checkpoint without a spare: %v", err)
	}
	putEach(t, s, acked[20:]...)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	reopenWorks(t, path, acked)
}

// TestFaultOpen fails Open while it starts the log, after replaying what a
// crash left in it: Open fails with the cause, and the next Open finds
// everything.
func TestFaultOpen(t *testing.T) {
	tests := []struct {
		name  string
		fault fault
	}{
		{"segment write ENOSPC", fault{op: faultWrite, match: "next", err: syscall.ENOSPC, times: 1}},
		{"segment fsync EIO", fault{op: faultSync, match: "next", err: syscall.EIO, times: 1}},
		{"rename EIO", fault{op: faultRename, err: syscall.EIO, times: 1}},
		{"directory sync ENOSPC", fault{op: faultSyncDir, err: syscall.ENOSPC, times: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ffs, logs := &faultFS{}, &logBuffer{}
			s := openFaulty(t, filepath.Join(dir, "meta.db"), ffs, logs)
			defer s.Close()
			acked := keys("a", 20)
			putEach(t, s, acked...)
			img := crashImage(t, dir)

			ffs.inject(tt.fault)
			_, err := Open(img, WithLog(), withFS(ffs))
			if ffs.failed() == 0 {
				t.Fatal("the fault was never hit")
			}
			wantFault(t, "Open", err, tt.fault.err)
			reopenWorks(t, img, acked)
		})
	}
}
