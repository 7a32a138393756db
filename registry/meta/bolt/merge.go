package bolt

import (
	"bytes"
	"iter"

	"github.com/regkit/regkit/registry/meta"
)

// Scan merges the layers' entries in r over kv's, in order, lazily: each
// layer is walked by a cursor that moves only as far as kv's walk and fn
// need, so a scan that stops early (a page of tags) costs what it returns,
// not the layers' whole part of r. A layer with nothing in r costs one
// lookup and no cursor.
func (t *ltx) Scan(r meta.Range, fn func(key, value []byte) bool) (err error) {
	if err := checkScan(t.done, fn); err != nil {
		return err
	}
	t.scanning++
	defer func() { t.scanning-- }()
	d := newLayers(r, t.a, t.f)
	defer func() { // also when fn panics: the cursors' coroutines end
		if cerr := d.close(); err == nil {
			err = cerr
		}
	}()
	emit := func() bool { return d.v[0] == opDelete || fn(d.k, d.v[1:]) }
	stopped := false
	scanBucket(t.b, r, func(k, v []byte) bool {
		for ; d.ok && before(r, d.k, k); d.next() {
			if !emit() {
				stopped = true
				return false
			}
		}
		if d.ok && bytes.Equal(d.k, k) {
			stopped = !emit()
			d.next()
			return !stopped
		}
		stopped = !fn(k, v)
		return !stopped
	})
	for ; !stopped && d.ok; d.next() {
		stopped = !emit()
	}
	return nil
}

// cursor walks one layer's entries in a range, pulled one at a time.
type cursor struct {
	k, v []byte
	ok   bool
	pull func() ([]byte, []byte, bool)
	stop func()
	err  error
}

// newCursor returns a cursor at the first entry of tx in r, or nil when tx
// is nil or has none there.
func newCursor(tx meta.Tx, r meta.Range) *cursor {
	if tx == nil {
		return nil
	}
	found := false
	if err := tx.Scan(r, func(_, _ []byte) bool { found = true; return false }); err != nil {
		return &cursor{err: err}
	}
	if !found {
		return nil
	}
	c := &cursor{}
	c.pull, c.stop = iter.Pull2(iter.Seq2[[]byte, []byte](func(yield func(k, v []byte) bool) {
		c.err = tx.Scan(r, yield)
	}))
	c.next()
	return c
}

func (c *cursor) next() { c.k, c.v, c.ok = c.pull() }

func (c *cursor) close() error {
	if c.stop != nil {
		c.stop()
	}
	return c.err
}

// layers merges the active and flushing layers' cursors: k and v are the
// current entry (ok false at the end), the active layer winning on equal
// keys.
type layers struct {
	r    meta.Range
	a, f *cursor
	k, v []byte
	ok   bool
}

func newLayers(r meta.Range, active, flushing meta.Tx) *layers {
	d := &layers{r: r, a: newCursor(active, r), f: newCursor(flushing, r)}
	d.pick()
	return d
}

// pick sets the current entry to the first of the two cursors.
func (d *layers) pick() {
	a, f := d.a != nil && d.a.ok, d.f != nil && d.f.ok
	switch {
	case a && (!f || !before(d.r, d.f.k, d.a.k)):
		d.k, d.v, d.ok = d.a.k, d.a.v, true
	case f:
		d.k, d.v, d.ok = d.f.k, d.f.v, true
	default:
		d.k, d.v, d.ok = nil, nil, false
	}
}

// next moves past the current entry in every cursor that holds it.
func (d *layers) next() {
	if !d.ok {
		return
	}
	k := d.k
	if d.a != nil && d.a.ok && bytes.Equal(d.a.k, k) {
		d.a.next()
	}
	if d.f != nil && d.f.ok && bytes.Equal(d.f.k, k) {
		d.f.next()
	}
	d.pick()
}

// close stops both cursors and returns the first error of their scans.
func (d *layers) close() error {
	var err error
	for _, c := range []*cursor{d.a, d.f} {
		if c == nil {
			continue
		}
		if cerr := c.close(); err == nil {
			err = cerr
		}
	}
	return err
}

// before reports whether x comes before y in r's scan order.
func before(r meta.Range, x, y []byte) bool {
	if r.Reverse {
		return bytes.Compare(x, y) > 0
	}
	return bytes.Compare(x, y) < 0
}
