package memory

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkTree verifies the B-tree invariants of the tree rooted at n and
// returns its keys in order.
func checkTree(t *testing.T, n *node) [][]byte {
	t.Helper()
	if n == nil {
		return nil
	}
	var keys [][]byte
	leafDepth := -1
	var walk func(n *node, depth int, root bool)
	walk = func(n *node, depth int, root bool) {
		if len(n.items) > maxItems || (!root && len(n.items) < minItems) || len(n.items) == 0 {
			t.Fatalf("node at depth %d has %d items", depth, len(n.items))
		}
		if n.leaf() {
			if leafDepth == -1 {
				leafDepth = depth
			} else if depth != leafDepth {
				t.Fatalf("leaves at depths %d and %d", leafDepth, depth)
			}
			for _, it := range n.items {
				keys = append(keys, it.key)
			}
			return
		}
		if len(n.children) != len(n.items)+1 {
			t.Fatalf("node with %d items has %d children", len(n.items), len(n.children))
		}
		for i, c := range n.children {
			walk(c, depth+1, false)
			if i < len(n.items) {
				keys = append(keys, n.items[i].key)
			}
		}
	}
	walk(n, 0, true)
	for i := 1; i < len(keys); i++ {
		if bytes.Compare(keys[i-1], keys[i]) >= 0 {
			t.Fatalf("keys out of order: %q before %q", keys[i-1], keys[i])
		}
	}
	return keys
}

// contents returns the pairs of the tree rooted at n as one string.
func contents(n *node) string {
	var buf bytes.Buffer
	if n != nil {
		ascend(n, nil, nil, func(k, v []byte) bool {
			fmt.Fprintf(&buf, "%q=%q ", k, v)
			return true
		})
	}
	return buf.String()
}

// TestTreeInvariants grows the tree past three levels and shrinks it to
// nothing in random transactions, checking the invariants, the contents and
// that every earlier snapshot is unchanged.
func TestTreeInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 20000
	if testing.Short() {
		n = 5000
	}
	perm := rng.Perm(n)
	model := map[string]string{}
	type snapshot struct {
		root *node
		want string
	}
	var snaps []snapshot
	var root *node
	gen := uint64(0)
	tx := func(ops func(tr *tree)) {
		gen++
		tr := tree{root: root, gen: gen}
		ops(&tr)
		root = tr.root
		keys := checkTree(t, root)
		if len(keys) != len(model) {
			t.Fatalf("tree holds %d keys, model %d", len(keys), len(model))
		}
		if rng.IntN(8) == 0 {
			snaps = append(snaps, snapshot{root, contents(root)})
		}
	}
	// Grow in transactions of random size.
	for i := 0; i < n; {
		size := 1 + rng.IntN(400)
		tx(func(tr *tree) {
			for ; size > 0 && i < n; size, i = size-1, i+1 {
				k := fmt.Sprintf("k%07d", perm[i])
				v := fmt.Sprint(i)
				tr.put(item{[]byte(k), []byte(v)})
				model[k] = v
			}
		})
	}
	// Overwrite some, then delete everything in random order, with a few
	// missing keys mixed in.
	tx(func(tr *tree) {
		for i := 0; i < n; i += 3 {
			k := fmt.Sprintf("k%07d", i)
			tr.put(item{[]byte(k), []byte("over")})
			model[k] = "over"
		}
	})
	perm = rng.Perm(n)
	for i := 0; i < n; {
		size := 1 + rng.IntN(400)
		tx(func(tr *tree) {
			for ; size > 0 && i < n; size, i = size-1, i+1 {
				k := fmt.Sprintf("k%07d", perm[i])
				if !tr.delete([]byte(k)) {
					t.Fatalf("delete(%q) found nothing", k)
				}
				delete(model, k)
				if tr.delete([]byte(k + "x")) {
					t.Fatalf("delete of a missing key reported a key")
				}
			}
		})
	}
	if root != nil {
		t.Fatalf("emptied tree has a root with %d items", len(root.items))
	}
	for i, s := range snaps {
		if got := contents(s.root); got != s.want {
			t.Fatalf("snapshot %d changed after later transactions", i)
		}
	}
}

// TestTreeDescend checks descend against ascend on a tree several levels
// deep, for bounds on and between keys.
func TestTreeDescend(t *testing.T) {
	tr := tree{gen: 1}
	var keys []string
	for i := 0; i < 3000; i += 2 {
		k := fmt.Sprintf("%05d", i)
		keys = append(keys, k)
		tr.put(item{[]byte(k), nil})
	}
	for _, start := range []string{"", "00000", "00001", "01000", "01001", "02998", "03000"} {
		for _, end := range []string{"", "00000", "00001", "00500", "00501", "02998", "02999", "09999"} {
			var up, down []string
			ascend(tr.root, []byte(start), []byte(end), func(k, _ []byte) bool { up = append(up, string(k)); return true })
			descend(tr.root, []byte(start), []byte(end), func(k, _ []byte) bool { down = append(down, string(k)); return true })
			var want []string
			for _, k := range keys {
				if (start == "" || k >= start) && (end == "" || k < end) {
					want = append(want, k)
				}
			}
			slices.Reverse(down)
			if !slices.Equal(up, want) || !slices.Equal(down, want) {
				t.Fatalf("[%q, %q): ascend %d keys, descend %d, want %d", start, end, len(up), len(down), len(want))
			}
		}
	}
}

// TestCopyOnce checks that a transaction copies a node at most once: a
// second write on the same path allocates nothing.
func TestCopyOnce(t *testing.T) {
	tr := tree{gen: 1}
	for i := range 5000 {
		tr.put(item{[]byte(fmt.Sprintf("%05d", i)), nil})
	}
	tr.gen = 2
	it := item{[]byte("02500"), []byte("v")}
	tr.put(it)
	if allocs := testing.AllocsPerRun(100, func() { tr.put(it) }); allocs != 0 {
		t.Fatalf("rewriting a key in the same transaction allocated %v times", allocs)
	}
}
