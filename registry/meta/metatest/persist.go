package metatest

import (
	"errors"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry/meta"
)

// RunPersistent runs the conformance suite for a durable store, plus tests
// that reopen it. open must open the store kept in the directory dir,
// creating an empty one when dir holds none; opening the same dir again
// after Close must see everything committed before, including what was
// committed while Close ran. The suite closes every store it opens.
func RunPersistent(t *testing.T, open func(t *testing.T, dir string) meta.Store) {
	t.Helper()
	Run(t, func(t *testing.T) meta.Store { return open(t, t.TempDir()) })
	p := persistSuite{open: open}
	t.Run("Reopen", p.testReopen)
	t.Run("ReopenEmpty", p.testReopenEmpty)
	t.Run("CloseUnderWrites", p.testCloseUnderWrites)
}

// persistSuite holds the factory of a durable store.
type persistSuite struct {
	open func(t *testing.T, dir string) meta.Store
}

// reopen opens the store in dir; close closes it, and the test's cleanup
// closes it if the test ends first.
func (p persistSuite) reopen(t *testing.T, dir string) (st meta.Store, close func()) {
	t.Helper()
	st = p.open(t, dir)
	if st == nil {
		t.Fatal("open returned a nil Store")
	}
	closed := false
	close = func() {
		t.Helper()
		if !closed {
			closed = true
			if err := st.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	}
	t.Cleanup(close)
	return st, close
}

func (p persistSuite) testReopen(t *testing.T) {
	dir := t.TempDir()
	model := map[string]string{}
	write := func(st meta.Store, ops ...op) {
		t.Helper()
		update(t, st, func(tx meta.Tx) error { return apply(tx, ops) })
		for _, o := range ops {
			if o.del {
				delete(model, o.key)
			} else {
				model[o.key] = o.val
			}
		}
	}

	st, closeStore := p.reopen(t, dir)
	write(st, put("a", "1"), put("b", "2"), put("\x00", "zero"), put("\xff\xff", "high"), put("empty", ""))
	write(st, put("big", strings.Repeat("0123456789abcdef", 4096)), put("a", "1 again"))
	write(st, del("b"))
	errRollback := errors.New("rollback")
	if err := st.Update(t.Context(), func(tx meta.Tx) error {
		if err := apply(tx, []op{put("lost", "x"), del("a")}); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatalf("Update = %v, want the rollback error", err)
	}
	closeStore()

	st, closeStore = p.reopen(t, dir)
	wantPairs(t, "after the first reopen", dump(t, st), sorted(model))
	write(st, put("c", "3"), del("\x00"), put("big", "small now"))
	closeStore()

	st, closeStore = p.reopen(t, dir)
	wantPairs(t, "after the second reopen", dump(t, st), sorted(model))
	view(t, st, func(tx meta.Tx) error {
		v, err := tx.Get([]byte("empty"))
		if err != nil || len(v) != 0 {
			t.Errorf("Get(empty) = %q, %v after reopen", v, err)
		}
		return nil
	})
	closeStore()
}

func (p persistSuite) testReopenEmpty(t *testing.T) {
	dir := t.TempDir()
	_, closeStore := p.reopen(t, dir)
	closeStore()
	st, closeStore := p.reopen(t, dir)
	if got := dump(t, st); len(got) != 0 {
		t.Fatalf("new store reopened with %v", got)
	}
	putAll(t, st, kv{"a", "1"})
	closeStore()
	st, _ = p.reopen(t, dir)
	wantPairs(t, "after reopen", dump(t, st), []kv{{"a", "1"}})
}
