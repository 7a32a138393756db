package metatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/regkit/regkit/registry/meta"
)

// Run runs the conformance suite. open must return a new, empty store each
// time it is called; the suite closes every store it opens, so open must not
// register its own Close. open may use t (t.TempDir, t.Fatal).
func Run(t *testing.T, open func(t *testing.T) meta.Store) {
	t.Helper()
	s := suite{open: open}
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"PutGetDelete", s.testPutGetDelete},
		{"MissingKey", s.testMissingKey},
		{"InvalidKeys", s.testInvalidKeys},
		{"Values", s.testValues},
		{"WritesInView", s.testWritesInView},
		{"Rollback", s.testRollback},
		{"RollbackOnPanic", s.testRollbackOnPanic},
		{"ReadYourWrites", s.testReadYourWrites},
		{"Copying", s.testCopying},
		{"TxAfterReturn", s.testTxAfterReturn},
		{"WriteInScan", s.testWriteInScan},
		{"Scan", s.testScan},
		{"ScanBounds", s.testScanBounds},
		{"ScanEarlyStop", s.testScanEarlyStop},
		{"ScanEmpty", s.testScanEmpty},
		{"ManyKeys", s.testManyKeys},
		{"Model", s.testModel},
		{"Snapshot", s.testSnapshot},
		{"Counter", s.testCounter},
		{"Closed", s.testClosed},
		{"Context", s.testContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.fn)
	}
}

// suite holds the store factory for the tests.
type suite struct {
	open func(t *testing.T) meta.Store
}

// store opens a fresh store that is closed when the test ends.
func (s suite) store(t *testing.T) meta.Store {
	t.Helper()
	st := s.open(t)
	if st == nil {
		t.Fatal("open returned a nil Store")
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// kv is a copied key and value.
type kv struct {
	key, val string
}

func (p kv) String() string { return fmt.Sprintf("%q=%q", p.key, p.val) }

// update runs fn in an Update and fails the test on error.
func update(t *testing.T, st meta.Store, fn func(meta.Tx) error) {
	t.Helper()
	if err := st.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a View and fails the test on error.
func view(t *testing.T, st meta.Store, fn func(meta.Tx) error) {
	t.Helper()
	if err := st.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// putAll stores pairs in one Update.
func putAll(t *testing.T, st meta.Store, pairs ...kv) {
	t.Helper()
	update(t, st, func(tx meta.Tx) error {
		for _, p := range pairs {
			if err := tx.Put([]byte(p.key), []byte(p.val)); err != nil {
				return err
			}
		}
		return nil
	})
}

// scan copies the pairs of r out of tx.
func scan(tx meta.Tx, r meta.Range) ([]kv, error) {
	var got []kv
	err := tx.Scan(r, func(k, v []byte) bool {
		got = append(got, kv{string(k), string(v)})
		return true
	})
	return got, err
}

// dump returns every pair of the store, in key order.
func dump(t *testing.T, st meta.Store) []kv {
	t.Helper()
	var got []kv
	view(t, st, func(tx meta.Tx) error {
		var err error
		got, err = scan(tx, meta.Range{})
		return err
	})
	return got
}

// sorted returns the pairs of m in key order.
func sorted(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	slices.SortFunc(out, func(a, b kv) int { return bytes.Compare([]byte(a.key), []byte(b.key)) })
	return out
}

// reversed returns a reversed copy of s.
func reversed(s []kv) []kv {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// wantPairs fails the test unless got equals want.
func wantPairs(t *testing.T, what string, got, want []kv) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got  %v\n want %v", what, got, want)
	}
}

// wantErr fails the test unless err wraps class.
func wantErr(t *testing.T, what string, err, class error) {
	t.Helper()
	if !errors.Is(err, class) {
		t.Fatalf("%s: error %v, want one wrapping %q", what, err, class)
	}
}
