package bolt

import (
	"bytes"

	bbolt "go.etcd.io/bbolt"

	"github.com/regkit/regkit/registry/meta"
)

// scanBucket walks r over bucket b with a cursor, calling fn until it returns
// false.
func scanBucket(b *bbolt.Bucket, r meta.Range, fn func(key, value []byte) bool) {
	c := b.Cursor()
	var k, v []byte
	if !r.Reverse {
		if len(r.Start) > 0 {
			k, v = c.Seek(r.Start)
		} else {
			k, v = c.First()
		}
		for ; k != nil; k, v = c.Next() {
			if len(r.End) > 0 && bytes.Compare(k, r.End) >= 0 {
				return
			}
			if !fn(k, v) {
				return
			}
		}
		return
	}
	if len(r.End) > 0 {
		// Seek finds the first key at or past End; the walk starts one before.
		if k, _ = c.Seek(r.End); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	} else {
		k, v = c.Last()
	}
	for ; k != nil; k, v = c.Prev() {
		if len(r.Start) > 0 && bytes.Compare(k, r.Start) < 0 {
			return
		}
		if !fn(k, v) {
			return
		}
	}
}
