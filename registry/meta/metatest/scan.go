package metatest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/regkit/regkit/registry/meta"
)

// keys returns the keys of the scan tests, in bytewise order: bytes 0x00
// and 0xff at every position, and keys that are prefixes of others.
func scanKeys() []string {
	return []string{
		"\x00", "\x00\x00", "\x00\xff",
		"a", "a\x00", "a\x00\x00", "a\x01", "ab", "abc",
		"b", "ba", "m",
		"\xff", "\xff\x00", "\xff\xff", "\xff\xff\xff",
	}
}

// loadScanKeys stores every scan key with the value "v:"+key.
func (s suite) loadScanKeys(t *testing.T) meta.Store {
	t.Helper()
	st := s.store(t)
	keys := scanKeys()
	pairs := make([]kv, 0, len(keys))
	// Insert in an order unlike the key order.
	for i := range keys {
		k := keys[(i*7)%len(keys)]
		pairs = append(pairs, kv{k, "v:" + k})
	}
	putAll(t, st, pairs...)
	return st
}

// inRange is the reference for Range membership.
func inRange(key string, r meta.Range) bool {
	k := []byte(key)
	return (len(r.Start) == 0 || bytes.Compare(k, r.Start) >= 0) &&
		(len(r.End) == 0 || bytes.Compare(k, r.End) < 0)
}

func b(s string) []byte { return []byte(s) }

func (s suite) testScan(t *testing.T) {
	st := s.loadScanKeys(t)
	keys := scanKeys()
	// Hand-checked expectations, ascending; each also runs reversed.
	tests := []struct {
		name string
		r    meta.Range
		want []string
	}{
		{"all", meta.Range{}, keys},
		{"empty bounds are open", meta.Range{Start: []byte{}, End: []byte{}}, keys},
		{"start", meta.Range{Start: b("a")}, keys[3:]},
		{"end", meta.Range{End: b("b")}, keys[:9]},
		{"start and end", meta.Range{Start: b("a"), End: b("b")}, keys[3:9]},
		{"bounds between keys", meta.Range{Start: b("aa"), End: b("bb")}, []string{"ab", "abc", "b", "ba"}},
		{"zero-byte bounds", meta.Range{Start: b("a\x00"), End: b("a\x01")}, []string{"a\x00", "a\x00\x00"}},
		{"end at first key", meta.Range{End: b("\x00")}, nil},
		{"end after first key", meta.Range{End: b("\x00\x00")}, []string{"\x00"}},
		{"start past last key", meta.Range{Start: b("\xff\xff\xff\x00")}, nil},
		{"start at last key", meta.Range{Start: b("\xff\xff\xff")}, []string{"\xff\xff\xff"}},
		{"start above ascii", meta.Range{Start: b("z")}, keys[12:]},
		{"start equals end", meta.Range{Start: b("a"), End: b("a")}, nil},
		{"start above end", meta.Range{Start: b("m"), End: b("b")}, nil},
		{"prefix", meta.Prefix(b("a")), keys[3:9]},
		{"prefix with zero byte", meta.Prefix(b("a\x00")), []string{"a\x00", "a\x00\x00"}},
		{"prefix zero byte", meta.Prefix(b("\x00")), keys[:3]},
		{"prefix 0xff", meta.Prefix(b("\xff")), keys[12:]},
		{"prefix 0xff 0xff", meta.Prefix(b("\xff\xff")), []string{"\xff\xff", "\xff\xff\xff"}},
		{"prefix of one key", meta.Prefix(b("m")), []string{"m"}},
		{"prefix without keys", meta.Prefix(b("c")), nil},
		{"empty prefix", meta.Prefix(nil), keys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := make([]kv, 0, len(tt.want))
			for _, k := range tt.want {
				want = append(want, kv{k, "v:" + k})
			}
			view(t, st, func(tx meta.Tx) error {
				got, err := scan(tx, tt.r)
				if err != nil {
					return err
				}
				wantPairs(t, "ascending", got, want)
				r := tt.r
				r.Reverse = true
				got, err = scan(tx, r)
				if err != nil {
					return err
				}
				wantPairs(t, "descending", got, reversed(want))
				return nil
			})
		})
	}
}

// testScanBounds checks every pair of bounds drawn from the keys and from
// points between them against the reference, in both directions.
func (s suite) testScanBounds(t *testing.T) {
	st := s.loadScanKeys(t)
	keys := scanKeys()
	bounds := [][]byte{nil}
	for _, k := range keys {
		bounds = append(bounds, b(k))
	}
	for _, k := range []string{"\x00\x01", "\x01", "a\x00\x01", "aa", "abd", "c", "\xfe", "\xff\x01", "\xff\xff\xff\x00"} {
		bounds = append(bounds, b(k))
	}
	view(t, st, func(tx meta.Tx) error {
		for _, start := range bounds {
			for _, end := range bounds {
				for _, rev := range []bool{false, true} {
					r := meta.Range{Start: start, End: end, Reverse: rev}
					var want []kv
					for _, k := range keys {
						if inRange(k, r) {
							want = append(want, kv{k, "v:" + k})
						}
					}
					if rev {
						want = reversed(want)
					}
					got, err := scan(tx, r)
					if err != nil {
						return err
					}
					wantPairs(t, fmt.Sprintf("Scan(%q, %q, reverse=%v)", start, end, rev), got, want)
				}
			}
		}
		return nil
	})
}

func (s suite) testScanEarlyStop(t *testing.T) {
	st := s.loadScanKeys(t)
	keys := scanKeys()
	for _, r := range []meta.Range{{}, {Reverse: true}, meta.Prefix(b("a")), {Start: b("a"), End: b("b"), Reverse: true}} {
		var all []string
		for _, k := range keys {
			if inRange(k, r) {
				all = append(all, k)
			}
		}
		if r.Reverse {
			for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
				all[i], all[j] = all[j], all[i]
			}
		}
		for n := 1; n <= len(all)+1; n++ {
			view(t, st, func(tx meta.Tx) error {
				var got []string
				err := tx.Scan(r, func(k, v []byte) bool {
					got = append(got, string(k))
					return len(got) < n
				})
				if err != nil {
					t.Fatalf("Scan stopping after %d: %v", n, err)
				}
				want := all[:min(n, len(all))]
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("Scan(%q, %q, reverse=%v) stopping after %d visited %q, want %q", r.Start, r.End, r.Reverse, n, got, want)
				}
				return nil
			})
		}
	}
}

func (s suite) testScanEmpty(t *testing.T) {
	st := s.store(t)
	check := func(what string) {
		t.Helper()
		for _, r := range []meta.Range{{}, {Reverse: true}, meta.Prefix(b("a")), {Start: b("a"), End: b("z"), Reverse: true}} {
			view(t, st, func(tx meta.Tx) error {
				return tx.Scan(r, func(k, v []byte) bool {
					t.Errorf("%s: Scan(%q, %q, reverse=%v) visited %q", what, r.Start, r.End, r.Reverse, k)
					return true
				})
			})
		}
	}
	check("new store")
	putAll(t, st, kv{"a", "1"}, kv{"b", "2"})
	update(t, st, func(tx meta.Tx) error { return apply(tx, []op{del("a"), del("b")}) })
	check("emptied store")
}

// randomKey returns a key of 1 to 12 bytes drawn mostly from 0x00, 0x01,
// 0xfe, 0xff and a few letters, so keys share prefixes and edge bytes.
func randomKey(rng *rand.Rand) string {
	const alphabet = "\x00\x01\xfe\xffabc"
	k := make([]byte, 1+rng.IntN(12))
	for i := range k {
		k[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(k)
}

// randomRange returns a range whose bounds are often stored keys.
func randomRange(rng *rand.Rand, keys []string) meta.Range {
	bound := func() []byte {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return b(randomKey(rng))
		default:
			if len(keys) == 0 {
				return nil
			}
			return b(keys[rng.IntN(len(keys))])
		}
	}
	return meta.Range{Start: bound(), End: bound(), Reverse: rng.IntN(2) == 0}
}

// checkRange compares a scan of r in tx with the model.
func checkRange(t *testing.T, tx meta.Tx, model map[string]string, r meta.Range) {
	t.Helper()
	var want []kv
	for _, p := range sorted(model) {
		if inRange(p.key, r) {
			want = append(want, p)
		}
	}
	if r.Reverse {
		want = reversed(want)
	}
	got, err := scan(tx, r)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	wantPairs(t, fmt.Sprintf("Scan(%q, %q, reverse=%v)", r.Start, r.End, r.Reverse), got, want)
}

// testManyKeys grows the store to thousands of keys and shrinks it back,
// checking order after each phase; trees restructure a lot on the way.
func (s suite) testManyKeys(t *testing.T) {
	st := s.store(t)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 4000
	if testing.Short() {
		n = 1500
	}
	model := map[string]string{}
	for len(model) < n {
		model[randomKey(rng)] = fmt.Sprint(len(model))
	}
	keys := make([]string, 0, n)
	for k := range model {
		keys = append(keys, k)
	}
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	const batch = 500
	write := func(keys []string, del bool) {
		for i := 0; i < len(keys); i += batch {
			update(t, st, func(tx meta.Tx) error {
				for _, k := range keys[i:min(i+batch, len(keys))] {
					if del {
						if err := tx.Delete(b(k)); err != nil {
							return err
						}
					} else if err := tx.Put(b(k), b(model[k])); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}
	check := func(phase string) {
		t.Helper()
		wantPairs(t, phase+": full scan", dump(t, st), sorted(model))
		view(t, st, func(tx meta.Tx) error {
			checkRange(t, tx, model, meta.Range{Reverse: true})
			sortedKeys := make([]string, 0, len(model))
			for _, p := range sorted(model) {
				sortedKeys = append(sortedKeys, p.key)
			}
			for range 40 {
				checkRange(t, tx, model, randomRange(rng, sortedKeys))
			}
			return nil
		})
	}
	write(keys, false)
	check("filled")
	drop := keys[:n*2/3]
	rng.Shuffle(len(drop), func(i, j int) { drop[i], drop[j] = drop[j], drop[i] })
	write(drop, true)
	for _, k := range drop {
		delete(model, k)
	}
	check("two thirds deleted")
	rest := keys[n*2/3:]
	write(rest, true)
	for _, k := range rest {
		delete(model, k)
	}
	check("emptied")
}

// testModel runs random transactions against the store and a map, rolling
// some back, and compares them after every transaction.
func (s suite) testModel(t *testing.T) {
	st := s.store(t)
	rng := rand.New(rand.NewPCG(3, 4))
	space := make([]string, 300)
	for i := range space {
		space[i] = randomKey(rng)
	}
	model := map[string]string{}
	txs := 60
	if testing.Short() {
		txs = 25
	}
	for i := range txs {
		local := maps.Clone(model)
		rollback := rng.IntN(4) == 0
		errRollback := fmt.Errorf("rollback %d", i)
		err := st.Update(t.Context(), func(tx meta.Tx) error {
			for j := range 1 + rng.IntN(40) {
				k := space[rng.IntN(len(space))]
				switch rng.IntN(5) {
				case 0, 1:
					v := fmt.Sprintf("%d.%d", i, j)
					if err := tx.Put(b(k), b(v)); err != nil {
						return err
					}
					local[k] = v
				case 2:
					if err := tx.Delete(b(k)); err != nil {
						return err
					}
					delete(local, k)
				case 3:
					v, err := tx.Get(b(k))
					if want, ok := local[k]; ok {
						if err != nil || string(v) != want {
							t.Fatalf("tx %d: Get(%q) = %q, %v; want %q", i, k, v, err, want)
						}
					} else {
						wantErr(t, fmt.Sprintf("tx %d: Get(%q)", i, k), err, meta.ErrNotFound)
					}
				default:
					checkRange(t, tx, local, randomRange(rng, space))
				}
			}
			if rollback {
				return errRollback
			}
			return nil
		})
		if rollback {
			if !errors.Is(err, errRollback) {
				t.Fatalf("tx %d: Update = %v, want the rollback error", i, err)
			}
		} else if err != nil {
			t.Fatalf("tx %d: %v", i, err)
		} else {
			model = local
		}
		wantPairs(t, fmt.Sprintf("after tx %d", i), dump(t, st), sorted(model))
	}
}
