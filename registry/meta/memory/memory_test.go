package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/memory"
	"github.com/regkit/regkit/registry/meta/metatest"
)

func TestConformance(t *testing.T) {
	metatest.Run(t, func(*testing.T) meta.Store { return memory.New() })
}

func BenchmarkStore(b *testing.B) {
	metatest.Benchmark(b, func(*testing.B) meta.Store { return memory.New() })
}

// TestReadsDuringUpdate checks that a View neither waits for a running
// Update nor sees its uncommitted writes, and that a queued Update gives up
// when its context ends, before the running one finishes.
func TestReadsDuringUpdate(t *testing.T) {
	s := memory.New()
	defer s.Close()
	ctx := context.Background()
	if err := s.Update(ctx, func(tx meta.Tx) error { return tx.Put([]byte("k"), []byte("old")) }); err != nil {
		t.Fatal(err)
	}
	holding := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, func(tx meta.Tx) error {
			if err := tx.Put([]byte("k"), []byte("new")); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding

	read := func() string {
		var got string
		if err := s.View(ctx, func(tx meta.Tx) error {
			v, err := tx.Get([]byte("k"))
			got = string(v)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := read(); got != "old" {
		t.Fatalf("View during Update read %q, want old", got)
	}

	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	err := s.Update(waitCtx, func(meta.Tx) error {
		t.Error("queued Update ran while another held the writer")
		return nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued Update = %v, want context.DeadlineExceeded", err)
	}

	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "new" {
		t.Fatalf("View after commit read %q, want new", got)
	}
}
