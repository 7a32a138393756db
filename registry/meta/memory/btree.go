package memory

import "bytes"

// The B-tree's shape. A node holds at most maxItems items; every node but the
// root holds at least minItems. An odd maxItems lets a full node split into
// two halves of minItems around a middle item. 31 items keep a node's item
// array (31 × 48 bytes) a few cache lines long, so copying one on write stays
// cheap while 100k keys sit only four levels deep.
const (
	maxItems = 31
	minItems = maxItems / 2
)

// item is one key and its value. Both slices are owned by the tree and never
// changed after insertion: a Put replaces the whole item.
type item struct {
	key, val []byte
}

// node is a B-tree node. Nodes reachable from a published root are shared by
// every snapshot that holds that root and are never changed. A write
// transaction copies a node before changing it (path copying) and tags the
// copy with its generation; a node carrying the running transaction's gen is
// private to it and is changed in place, so a transaction copies each node at
// most once however many keys it writes.
type node struct {
	gen      uint64
	items    []item
	children []*node // nil in a leaf, else len(items)+1 subtrees
}

func (n *node) leaf() bool { return n.children == nil }

// search returns the index of the first item whose key is >= key and
// whether that item's key equals key.
func (n *node) search(key []byte) (int, bool) {
	lo, hi := 0, len(n.items)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(n.items[m].key, key); {
		case c < 0:
			lo = m + 1
		case c > 0:
			hi = m
		default:
			return m, true
		}
	}
	return lo, false
}

// clone returns a private copy of n for generation gen, with room to grow to
// a full node without reallocating.
func (n *node) clone(gen uint64) *node {
	c := &node{gen: gen, items: make([]item, len(n.items), maxItems)}
	copy(c.items, n.items)
	if n.children != nil {
		c.children = make([]*node, len(n.children), maxItems+1)
		copy(c.children, n.children)
	}
	return c
}

// get returns the value under key in the tree rooted at n.
func get(n *node, key []byte) ([]byte, bool) {
	for n != nil {
		i, found := n.search(key)
		if found {
			return n.items[i].val, true
		}
		if n.leaf() {
			break
		}
		n = n.children[i]
	}
	return nil, false
}

// tree is a root under construction by one write transaction (gen > 0), or a
// snapshot read by a read-only one (gen 0, never written).
type tree struct {
	root *node
	gen  uint64
}

// own returns n if the transaction already owns it, else a private copy.
func (t *tree) own(n *node) *node {
	if n.gen == t.gen {
		return n
	}
	return n.clone(t.gen)
}

// ownChild makes child i of the private node n private and returns it.
func (t *tree) ownChild(n *node, i int) *node {
	c := n.children[i]
	if c.gen != t.gen {
		c = c.clone(t.gen)
		n.children[i] = c
	}
	return c
}

// put stores it, replacing any item with the same key.
func (t *tree) put(it item) {
	if t.root == nil {
		r := &node{gen: t.gen, items: make([]item, 1, maxItems)}
		r.items[0] = it
		t.root = r
		return
	}
	r := t.own(t.root)
	if len(r.items) == maxItems {
		mid, right := t.split(r)
		top := &node{gen: t.gen, items: make([]item, 1, maxItems), children: make([]*node, 2, maxItems+1)}
		top.items[0] = mid
		top.children[0], top.children[1] = r, right
		r = top
	}
	t.root = r
	t.insert(r, it)
}

// split moves the upper half of the full, private node n into a new node and
// returns the middle item, which no longer belongs to either half.
func (t *tree) split(n *node) (item, *node) {
	const i = maxItems / 2
	mid := n.items[i]
	right := &node{gen: t.gen, items: make([]item, len(n.items)-i-1, maxItems)}
	copy(right.items, n.items[i+1:])
	clear(n.items[i:])
	n.items = n.items[:i]
	if !n.leaf() {
		right.children = make([]*node, len(n.children)-i-1, maxItems+1)
		copy(right.children, n.children[i+1:])
		clear(n.children[i+1:])
		n.children = n.children[:i+1]
	}
	return mid, right
}

// insert puts it into the subtree of the private, non-full node n. Full
// nodes on the way down are split first, so a split never climbs back up.
func (t *tree) insert(n *node, it item) {
	for {
		i, found := n.search(it.key)
		if found {
			n.items[i] = it
			return
		}
		if n.leaf() {
			n.items = insertAt(n.items, i, it)
			return
		}
		c := t.ownChild(n, i)
		if len(c.items) == maxItems {
			mid, right := t.split(c)
			n.items = insertAt(n.items, i, mid)
			n.children = insertAt(n.children, i+1, right)
			switch cmp := bytes.Compare(it.key, mid.key); {
			case cmp == 0:
				n.items[i] = it
				return
			case cmp > 0:
				c = right
			}
		}
		n = c
	}
}

// delete removes key and reports whether it was there. A missing key costs a
// lookup and copies nothing.
func (t *tree) delete(key []byte) bool {
	if _, ok := get(t.root, key); !ok {
		return false
	}
	r := t.own(t.root)
	t.remove(r, key)
	if len(r.items) == 0 {
		if r.leaf() {
			r = nil
		} else {
			r = r.children[0]
		}
	}
	t.root = r
	return true
}

// remove deletes key, which is present, from the subtree of the private node
// n. Before descending it makes sure the child has more than minItems items,
// so removing one never leaves a node too small.
func (t *tree) remove(n *node, key []byte) {
	for {
		i, found := n.search(key)
		if n.leaf() {
			if found {
				n.items = removeAt(n.items, i)
			}
			return
		}
		if len(n.children[i].items) <= minItems {
			t.grow(n, i)
			continue // n changed shape: search again
		}
		c := t.ownChild(n, i)
		if found {
			// Replace the item by its predecessor, the largest key of the
			// subtree on its left.
			n.items[i] = t.removeMax(c)
			return
		}
		n = c
	}
}

// removeMax removes and returns the largest item of the subtree of the
// private node n, which has more than minItems items.
func (t *tree) removeMax(n *node) item {
	for {
		if n.leaf() {
			last := len(n.items) - 1
			it := n.items[last]
			n.items[last] = item{}
			n.items = n.items[:last]
			return it
		}
		i := len(n.items)
		if len(n.children[i].items) <= minItems {
			t.grow(n, i)
			continue
		}
		n = t.ownChild(n, i)
	}
}

// grow gives child i of the private node n, which holds minItems items, one
// more: it borrows an item through n from a sibling that can spare one, or
// else merges the child with a sibling and the item between them.
func (t *tree) grow(n *node, i int) {
	if i > 0 && len(n.children[i-1].items) > minItems {
		left := t.ownChild(n, i-1)
		c := t.ownChild(n, i)
		last := len(left.items) - 1
		c.items = insertAt(c.items, 0, n.items[i-1])
		n.items[i-1] = left.items[last]
		left.items[last] = item{}
		left.items = left.items[:last]
		if !left.leaf() {
			c.children = insertAt(c.children, 0, left.children[last+1])
			left.children[last+1] = nil
			left.children = left.children[:last+1]
		}
		return
	}
	if i < len(n.items) && len(n.children[i+1].items) > minItems {
		right := t.ownChild(n, i+1)
		c := t.ownChild(n, i)
		c.items = append(c.items, n.items[i])
		n.items[i] = right.items[0]
		right.items = removeAt(right.items, 0)
		if !right.leaf() {
			c.children = append(c.children, right.children[0])
			right.children = removeAt(right.children, 0)
		}
		return
	}
	if i == len(n.items) {
		i--
	}
	c := t.ownChild(n, i)
	right := n.children[i+1] // only read: its items move into c
	c.items = append(c.items, n.items[i])
	c.items = append(c.items, right.items...)
	if !c.leaf() {
		c.children = append(c.children, right.children...)
	}
	n.items = removeAt(n.items, i)
	n.children = removeAt(n.children, i+1)
}

// ascend calls fn for the items of n's subtree with start <= key < end in
// ascending order; empty bounds are open. It returns false once fn asked to
// stop or the range ended.
func ascend(n *node, start, end []byte, fn func(key, value []byte) bool) bool {
	i := 0
	if len(start) > 0 {
		var found bool
		i, found = n.search(start)
		// When items[i] is start itself, children[i] holds only smaller keys.
		if !n.leaf() && !found && !ascend(n.children[i], start, end, fn) {
			return false
		}
	} else if !n.leaf() && !ascend(n.children[0], nil, end, fn) {
		return false
	}
	for ; i < len(n.items); i++ {
		it := &n.items[i]
		if len(end) > 0 && bytes.Compare(it.key, end) >= 0 {
			return false
		}
		if !fn(it.key, it.val) {
			return false
		}
		if !n.leaf() && !ascend(n.children[i+1], nil, end, fn) {
			return false
		}
	}
	return true
}

// descend is ascend in descending order: from the last key below end down
// to start.
func descend(n *node, start, end []byte, fn func(key, value []byte) bool) bool {
	i := len(n.items)
	if len(end) > 0 {
		i, _ = n.search(end) // items[:i] are below end
	}
	if !n.leaf() && !descend(n.children[i], start, end, fn) {
		return false
	}
	for i--; i >= 0; i-- {
		it := &n.items[i]
		if len(start) > 0 && bytes.Compare(it.key, start) < 0 {
			return false
		}
		if !fn(it.key, it.val) {
			return false
		}
		if !n.leaf() && !descend(n.children[i], start, nil, fn) {
			return false
		}
	}
	return true
}

// insertAt inserts v at index i of s, shifting the tail right.
func insertAt[T any](s []T, i int, v T) []T {
	var zero T
	s = append(s, zero)
	copy(s[i+1:], s[i:])
	s[i] = v
	return s
}

// removeAt removes index i of s, shifting the tail left and clearing the
// freed slot so the garbage collector can reclaim what it referenced.
func removeAt[T any](s []T, i int) []T {
	copy(s[i:], s[i+1:])
	var zero T
	s[len(s)-1] = zero
	return s[:len(s)-1]
}
