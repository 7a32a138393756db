package metatest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry/meta"
)

// op is one write: a Put, or a Delete when del is set.
type op struct {
	del      bool
	key, val string
}

func put(k, v string) op { return op{key: k, val: v} }
func del(k string) op    { return op{del: true, key: k} }

func apply(tx meta.Tx, ops []op) error {
	for _, o := range ops {
		var err error
		if o.del {
			err = tx.Delete([]byte(o.key))
		} else {
			err = tx.Put([]byte(o.key), []byte(o.val))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s suite) testPutGetDelete(t *testing.T) {
	tests := []struct {
		name string
		ops  []op
		want map[string]string
	}{
		{"put", []op{put("a", "1")}, map[string]string{"a": "1"}},
		{"overwrite", []op{put("a", "1"), put("a", "2")}, map[string]string{"a": "2"}},
		{"overwrite longer", []op{put("a", "1"), put("a", strings.Repeat("x", 300))}, map[string]string{"a": strings.Repeat("x", 300)}},
		{"overwrite shorter", []op{put("a", "long value"), put("a", "s")}, map[string]string{"a": "s"}},
		{"delete", []op{put("a", "1"), put("b", "2"), del("a")}, map[string]string{"b": "2"}},
		{"delete missing", []op{put("a", "1"), del("zz"), del("0")}, map[string]string{"a": "1"}},
		{"delete all", []op{put("a", "1"), put("b", "2"), del("b"), del("a")}, map[string]string{}},
		{"put after delete", []op{put("a", "1"), del("a"), put("a", "3")}, map[string]string{"a": "3"}},
		{"empty value", []op{put("a", "")}, map[string]string{"a": ""}},
		{"empty value overwritten", []op{put("a", ""), put("a", "v")}, map[string]string{"a": "v"}},
		{"several", []op{put("c", "3"), put("a", "1"), put("b", "2")}, map[string]string{"a": "1", "b": "2", "c": "3"}},
	}
	for _, tt := range tests {
		for _, oneTx := range []bool{true, false} {
			name := tt.name + "/one tx"
			if !oneTx {
				name = tt.name + "/tx per write"
			}
			t.Run(name, func(t *testing.T) {
				st := s.store(t)
				if oneTx {
					update(t, st, func(tx meta.Tx) error { return apply(tx, tt.ops) })
				} else {
					for _, o := range tt.ops {
						update(t, st, func(tx meta.Tx) error { return apply(tx, []op{o}) })
					}
				}
				view(t, st, func(tx meta.Tx) error {
					for k, want := range tt.want {
						v, err := tx.Get([]byte(k))
						if err != nil {
							t.Errorf("Get(%q): %v", k, err)
						} else if string(v) != want {
							t.Errorf("Get(%q) = %q, want %q", k, v, want)
						}
					}
					for _, o := range tt.ops {
						if _, ok := tt.want[o.key]; !ok {
							_, err := tx.Get([]byte(o.key))
							wantErr(t, "Get of deleted key "+o.key, err, meta.ErrNotFound)
						}
					}
					return nil
				})
				wantPairs(t, "scan", dump(t, st), sorted(tt.want))
			})
		}
	}
}

func (s suite) testMissingKey(t *testing.T) {
	st := s.store(t)
	check := func(tx meta.Tx) error {
		for _, k := range []string{"missing", "a\x00", "\xff"} {
			v, err := tx.Get([]byte(k))
			wantErr(t, "Get("+k+")", err, meta.ErrNotFound)
			if v != nil {
				t.Errorf("Get(%q) returned %q with its error", k, v)
			}
		}
		return nil
	}
	view(t, st, check)
	update(t, st, check)
	putAll(t, st, kv{"a", "1"})
	view(t, st, check)
	update(t, st, func(tx meta.Tx) error {
		if err := tx.Delete([]byte("missing")); err != nil {
			t.Errorf("Delete of a missing key: %v", err)
		}
		return check(tx)
	})
}

func (s suite) testInvalidKeys(t *testing.T) {
	st := s.store(t)
	long := bytes.Repeat([]byte{'k'}, meta.MaxKeySize+1)
	keys := []struct {
		name string
		key  []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"too long", long},
	}
	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			err := st.Update(t.Context(), func(tx meta.Tx) error {
				_, err := tx.Get(k.key)
				wantErr(t, "Get", err, meta.ErrInvalid)
				wantErr(t, "Put", tx.Put(k.key, []byte("v")), meta.ErrInvalid)
				wantErr(t, "Delete", tx.Delete(k.key), meta.ErrInvalid)
				return nil
			})
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			view(t, st, func(tx meta.Tx) error {
				_, err := tx.Get(k.key)
				wantErr(t, "Get in View", err, meta.ErrInvalid)
				return nil
			})
		})
	}
	if got := dump(t, st); len(got) != 0 {
		t.Fatalf("invalid writes stored %v", got)
	}
	// The longest valid key works, and the one-byte shortest too.
	maxKey := string(long[:meta.MaxKeySize])
	putAll(t, st, kv{maxKey, "max"}, kv{"k", "min"})
	wantPairs(t, "scan", dump(t, st), []kv{{"k", "min"}, {maxKey, "max"}})
}

func (s suite) testValues(t *testing.T) {
	st := s.store(t)
	big := make([]byte, 256<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	pairs := []kv{
		{"binary", "\x00\xff\x00\x01"},
		{"big", string(big)},
		{"empty", ""},
		{"text", "hello"},
	}
	putAll(t, st, pairs...)
	view(t, st, func(tx meta.Tx) error {
		for _, p := range pairs {
			v, err := tx.Get([]byte(p.key))
			if err != nil {
				t.Fatalf("Get(%q): %v", p.key, err)
			}
			if string(v) != p.val {
				t.Errorf("Get(%q): %d bytes, not the %d stored", p.key, len(v), len(p.val))
			}
		}
		return nil
	})
	got := dump(t, st)
	if len(got) != len(pairs) {
		t.Fatalf("scan found %d pairs, want %d", len(got), len(pairs))
	}
	for i, p := range sorted(map[string]string{"binary": pairs[0].val, "big": pairs[1].val, "empty": "", "text": "hello"}) {
		if got[i] != p {
			t.Errorf("scan pair %d: key %q with %d bytes, want key %q with %d", i, got[i].key, len(got[i].val), p.key, len(p.val))
		}
	}
}

func (s suite) testWritesInView(t *testing.T) {
	st := s.store(t)
	putAll(t, st, kv{"a", "1"})
	view(t, st, func(tx meta.Tx) error {
		wantErr(t, "Put in View", tx.Put([]byte("b"), []byte("2")), meta.ErrInvalid)
		wantErr(t, "overwrite in View", tx.Put([]byte("a"), []byte("9")), meta.ErrInvalid)
		wantErr(t, "Delete in View", tx.Delete([]byte("a")), meta.ErrInvalid)
		v, err := tx.Get([]byte("a"))
		if err != nil || string(v) != "1" {
			t.Errorf("Get after refused writes = %q, %v; want 1", v, err)
		}
		return nil
	})
	wantPairs(t, "after View", dump(t, st), []kv{{"a", "1"}})
}

func (s suite) testRollback(t *testing.T) {
	st := s.store(t)
	initial := []kv{{"a", "1"}, {"b", "2"}, {"c", "3"}}
	putAll(t, st, initial...)
	errBoom := errors.New("boom")
	err := st.Update(t.Context(), func(tx meta.Tx) error {
		if err := apply(tx, []op{put("a", "changed"), del("b"), put("d", "new"), put("0", "new")}); err != nil {
			return err
		}
		return errBoom
	})
	if err != errBoom && !errors.Is(err, errBoom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	wantPairs(t, "after rollback", dump(t, st), initial)

	// A View returns fn's error too.
	if err := st.View(t.Context(), func(meta.Tx) error { return errBoom }); !errors.Is(err, errBoom) {
		t.Fatalf("View returned %v, want fn's error", err)
	}
	// The store still takes writes.
	putAll(t, st, kv{"e", "5"})
	wantPairs(t, "after a later commit", dump(t, st), append(initial, kv{"e", "5"}))
}

func (s suite) testRollbackOnPanic(t *testing.T) {
	st := s.store(t)
	putAll(t, st, kv{"a", "1"})
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the panic of fn", r)
			}
		}()
		_ = st.Update(t.Context(), func(tx meta.Tx) error {
			if err := apply(tx, []op{put("a", "changed"), put("b", "2")}); err != nil {
				t.Error(err)
			}
			panic("boom")
		})
	}()
	wantPairs(t, "after panic", dump(t, st), []kv{{"a", "1"}})
	// The writer slot was released.
	putAll(t, st, kv{"c", "3"})
	wantPairs(t, "after a later commit", dump(t, st), []kv{{"a", "1"}, {"c", "3"}})
}

func (s suite) testReadYourWrites(t *testing.T) {
	st := s.store(t)
	putAll(t, st, kv{"a", "1"}, kv{"b", "2"}, kv{"c", "3"}, kv{"d", "4"}, kv{"e", "5"})
	want := []kv{{"a", "1"}, {"a0", "new"}, {"c", "changed"}, {"d", "4"}, {"e", "5"}, {"f", "6"}}
	update(t, st, func(tx meta.Tx) error {
		if err := apply(tx, []op{put("c", "changed"), del("b"), put("f", "6"), put("a0", "new"), put("g", "7"), del("g")}); err != nil {
			return err
		}
		for _, k := range []string{"b", "g"} {
			_, err := tx.Get([]byte(k))
			wantErr(t, "Get of key deleted in the tx", err, meta.ErrNotFound)
		}
		for _, p := range want {
			v, err := tx.Get([]byte(p.key))
			if err != nil || string(v) != p.val {
				t.Errorf("Get(%q) in tx = %q, %v; want %q", p.key, v, err, p.val)
			}
		}
		got, err := scan(tx, meta.Range{})
		if err != nil {
			return err
		}
		wantPairs(t, "forward scan in tx", got, want)
		got, err = scan(tx, meta.Range{Reverse: true})
		if err != nil {
			return err
		}
		wantPairs(t, "reverse scan in tx", got, reversed(want))
		got, err = scan(tx, meta.Prefix([]byte("a")))
		if err != nil {
			return err
		}
		wantPairs(t, "prefix scan in tx", got, want[:2])
		return nil
	})
	wantPairs(t, "after commit", dump(t, st), want)
}

func (s suite) testCopying(t *testing.T) {
	st := s.store(t)
	key := []byte("key-1")
	val := []byte("value-1")
	update(t, st, func(tx meta.Tx) error {
		if err := tx.Put(key, val); err != nil {
			return err
		}
		// The caller reuses its buffers before the transaction commits.
		copy(key, "key-2")
		copy(val, "value-2")
		if err := tx.Put(key, val); err != nil {
			return err
		}
		copy(key, "XXXXX")
		copy(val, "XXXXXXX")
		got, err := scan(tx, meta.Range{})
		if err != nil {
			return err
		}
		wantPairs(t, "in tx", got, []kv{{"key-1", "value-1"}, {"key-2", "value-2"}})
		return nil
	})
	wantPairs(t, "after commit", dump(t, st), []kv{{"key-1", "value-1"}, {"key-2", "value-2"}})
}

func (s suite) testTxAfterReturn(t *testing.T) {
	st := s.store(t)
	putAll(t, st, kv{"a", "1"})
	var kept meta.Tx
	view(t, st, func(tx meta.Tx) error { kept = tx; return nil })
	checkEnded(t, "View", kept)
	update(t, st, func(tx meta.Tx) error { kept = tx; return tx.Put([]byte("b"), []byte("2")) })
	checkEnded(t, "Update", kept)
	_ = st.Update(t.Context(), func(tx meta.Tx) error { kept = tx; return errors.New("rolled back") })
	checkEnded(t, "rolled back Update", kept)
	wantPairs(t, "store", dump(t, st), []kv{{"a", "1"}, {"b", "2"}})
}

// checkEnded checks that every method of a finished transaction fails.
func checkEnded(t *testing.T, what string, tx meta.Tx) {
	t.Helper()
	_, err := tx.Get([]byte("a"))
	wantErr(t, what+": Get after return", err, meta.ErrInvalid)
	wantErr(t, what+": Put after return", tx.Put([]byte("x"), []byte("y")), meta.ErrInvalid)
	wantErr(t, what+": Delete after return", tx.Delete([]byte("a")), meta.ErrInvalid)
	err = tx.Scan(meta.Range{}, func(k, v []byte) bool {
		t.Errorf("%s: Scan after return called fn", what)
		return true
	})
	wantErr(t, what+": Scan after return", err, meta.ErrInvalid)
}

func (s suite) testWriteInScan(t *testing.T) {
	st := s.store(t)
	initial := []kv{{"a", "1"}, {"b", "2"}, {"c", "3"}}
	putAll(t, st, initial...)
	update(t, st, func(tx meta.Tx) error {
		var seen []string
		err := tx.Scan(meta.Range{}, func(k, v []byte) bool {
			seen = append(seen, string(k))
			wantErr(t, "Put inside Scan", tx.Put([]byte("b"), []byte("changed")), meta.ErrInvalid)
			wantErr(t, "Delete inside Scan", tx.Delete([]byte("c")), meta.ErrInvalid)
			wantErr(t, "Put of a new key inside Scan", tx.Put([]byte("bb"), nil), meta.ErrInvalid)
			return true
		})
		if err != nil {
			return err
		}
		if strings.Join(seen, ",") != "a,b,c" {
			t.Errorf("Scan visited %v, want a,b,c", seen)
		}
		got, err := scan(tx, meta.Range{})
		if err != nil {
			return err
		}
		wantPairs(t, "after refused writes", got, initial)
		// Writing after Scan returns works.
		return tx.Delete([]byte("a"))
	})
	wantPairs(t, "after commit", dump(t, st), initial[1:])
}
