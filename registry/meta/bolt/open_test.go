package bolt_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/bolt"
)

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, fn func(path string)) string {
		path := filepath.Join(dir, name)
		fn(path)
		return path
	}
	foreign := write("foreign.db", func(path string) {
		db, err := bbolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucket([]byte("someone-else"))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
	newer := write("newer.db", func(path string) {
		s := open(t, path)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		db, err := bbolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("info")).Put([]byte("format"), []byte("regkit-meta 2"))
		}); err != nil {
			t.Fatal(err)
		}
	})
	garbage := write("garbage.db", func(path string) {
		if err := os.WriteFile(path, make([]byte, 8192), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	locked := write("locked.db", func(path string) {
		s := open(t, path)
		t.Cleanup(func() { s.Close() })
	})
	tests := []struct {
		name string
		path string
		want error
	}{
		{"missing directory", filepath.Join(dir, "missing", "meta.db"), meta.ErrUnavailable},
		{"locked by an open store", locked, meta.ErrUnavailable},
		{"another program's file", foreign, meta.ErrInvalid},
		{"newer format", newer, errdef.ErrUnsupported},
		{"not a bbolt file", garbage, meta.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := bolt.Open(tt.path, bolt.WithTimeout(20*time.Millisecond))
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open: %v, want an error wrapping %q", err, tt.want)
			}
		})
	}
}

// TestDurable runs with the default options: fsync on every commit.
func TestDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s := open(t, path)
	for i := range 3 {
		if err := s.Update(t.Context(), func(tx meta.Tx) error {
			return tx.Put([]byte{'k', byte(i)}, []byte{byte(i)})
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s = open(t, path)
	defer s.Close()
	n := 0
	if err := s.View(t.Context(), func(tx meta.Tx) error {
		return tx.Scan(meta.Range{}, func(k, v []byte) bool { n++; return true })
	}); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("found %d keys after reopen, want 3", n)
	}
}

func TestFileMode(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		opts []bolt.Option
		want os.FileMode
	}{
		{"default", nil, 0o600},
		{"option", []bolt.Option{bolt.WithFileMode(0o640)}, 0o640},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".db")
			s := open(t, path, tt.opts...)
			defer s.Close()
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != tt.want {
				t.Fatalf("file mode %v, want %v", got, tt.want)
			}
		})
	}
}

// TestContextWhileWaiting checks that an Update whose context ends while it
// waits for the writer returns the context's error without running fn.
func TestContextWhileWaiting(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "meta.db"), bolt.WithNoSync())
	defer s.Close()
	holding := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(meta.Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan error, 1)
	go func() {
		waiting <- s.Update(ctx, func(meta.Tx) error {
			t.Error("fn ran after its context was canceled")
			return nil
		})
	}()
	time.Sleep(10 * time.Millisecond) // let the second Update queue for the writer
	cancel()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-waiting; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting Update = %v, want context.Canceled", err)
	}
}
