package registry

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestStateNamespace(t *testing.T) {
	r, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, tc := range []struct {
		ns string
		ok bool
	}{
		{"access", true},
		{"soft-delete", true},
		{"a.b_c-d", true},
		{"x", true},
		{strings.Repeat("a", MaxStateNamespace), true},
		{"", false},
		{strings.Repeat("a", MaxStateNamespace+1), false},
		{"Access", false},
		{"a..b", false},
		{"-a", false},
		{"a-", false},
		{"a/b", false},
		{"a\x00b", false},
		{"a b", false},
	} {
		_, err := r.State(tc.ns)
		if tc.ok && err != nil {
			t.Errorf("State(%q): %v", tc.ns, err)
		}
		if !tc.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("State(%q): %v, want ErrInvalid", tc.ns, err)
		}
	}
}

// TestState: keys of one namespace are invisible to another (even one that
// is a prefix of it), Scan filters by prefix in key order, writes in View
// are refused, a failed Update writes nothing, and state survives a reopen
// of the embedded backend.
func TestState(t *testing.T) {
	ctx := context.Background()
	backends(t, func(t *testing.T, newReg func(opts ...Option) *Registry) {
		r := newReg()
		a, _ := r.State("ext")
		b, _ := r.State("ext-b")
		err := a.Update(ctx, func(tx StateTx) error {
			return errors.Join(tx.Put("k/1", []byte("one")), tx.Put("k/2", []byte("two")), tx.Put("z", nil))
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Update(ctx, func(tx StateTx) error { return tx.Put("k/1", []byte("other")) }); err != nil {
			t.Fatal(err)
		}
		err = a.View(ctx, func(tx StateTx) error {
			v, err := tx.Get("k/1")
			if err != nil || string(v) != "one" {
				t.Errorf("ext k/1 = %q, %v", v, err)
			}
			if v, err := tx.Get("z"); err != nil || len(v) != 0 {
				t.Errorf("ext z = %q, %v", v, err)
			}
			if _, err := tx.Get("missing"); !errors.Is(err, ErrNotFound) {
				t.Errorf("missing: %v", err)
			}
			if _, err := tx.Get(""); !errors.Is(err, ErrInvalid) {
				t.Errorf("empty key: %v", err)
			}
			if err := tx.Put("k/3", nil); !errors.Is(err, ErrInvalid) {
				t.Errorf("Put in View: %v", err)
			}
			var keys []string
			if err := tx.Scan("k/", func(k string, v []byte) bool { keys = append(keys, k+"="+string(v)); return true }); err != nil {
				t.Error(err)
			}
			if strings.Join(keys, " ") != "k/1=one k/2=two" {
				t.Errorf("Scan(k/) = %v", keys)
			}
			keys = keys[:0]
			if err := tx.Scan("", func(k string, _ []byte) bool { keys = append(keys, k); return true }); err != nil {
				t.Error(err)
			}
			if strings.Join(keys, " ") != "k/1 k/2 z" {
				t.Errorf("Scan() = %v", keys)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A failed update leaves nothing behind.
		boom := errors.New("boom")
		if err := a.Update(ctx, func(tx StateTx) error { _ = tx.Put("k/9", []byte("x")); return boom }); !errors.Is(err, boom) {
			t.Fatalf("failed update: %v", err)
		}
		_ = b.View(ctx, func(tx StateTx) error {
			var keys []string
			_ = tx.Scan("", func(k string, v []byte) bool { keys = append(keys, k+"="+string(v)); return true })
			if strings.Join(keys, " ") != "k/1=other" {
				t.Errorf("ext-b sees %v", keys)
			}
			return nil
		})
		if err := a.Update(ctx, func(tx StateTx) error { return tx.Delete("k/2") }); err != nil {
			t.Fatal(err)
		}
		// The registry's own content never shows up in a namespace.
		pushImage(t, repoOf(t, r, "app"), "v1", 1)
		_ = a.View(ctx, func(tx StateTx) error {
			var keys []string
			_ = tx.Scan("", func(k string, _ []byte) bool { keys = append(keys, k); return true })
			if strings.Join(keys, " ") != "k/1 z" {
				t.Errorf("ext after delete and push: %v", keys)
			}
			if _, err := tx.Get("k/9"); !errors.Is(err, ErrNotFound) {
				t.Errorf("k/9 of the failed update: %v", err)
			}
			return nil
		})
	})
}

func TestStateReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := r.State("ext")
	if err := s.Update(ctx, func(tx StateTx) error { return tx.Put("k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// Closed: refused with ErrUnavailable.
	if err := s.View(ctx, func(StateTx) error { return nil }); !errors.Is(err, ErrUnavailable) {
		t.Errorf("View after Close: %v", err)
	}
	if err := s.Update(ctx, func(tx StateTx) error { return tx.Put("k", nil) }); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Update after Close: %v", err)
	}
	r, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, _ = r.State("ext")
	err = s.View(ctx, func(tx StateTx) error {
		v, err := tx.Get("k")
		if err != nil || string(v) != "v" {
			t.Errorf("after reopen: %q, %v", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Check (fsck) does not mind extension state.
	rep, err := r.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("check: %+v", rep)
	}
}
