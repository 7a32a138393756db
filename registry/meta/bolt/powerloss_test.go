package bolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/bolt"
)

// sector is the unit a disk writes atomically; a power loss can keep any
// subset of the sectors of a write that was not yet synced.
const sector = 512

// TestPowerLoss opens crash images of a log whose last record was not yet
// synced when the power went: every prefix of the record reached the disk
// (cut at each byte near its header, then every few bytes), and every
// subset of its sectors reached it (a disk may write them in any order).
// Segments are zero-filled and synced before use, so an unwritten byte
// reads as zero. Each image must open without error and hold every
// earlier record, and the last one only if all of it was written; each is
// then written to and reopened, so a torn tail never shadows a later
// record.
func TestPowerLoss(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "meta.db")
	s := open(t, path, bolt.WithLog())
	defer s.Close()
	putKeys(t, s, 0, 60)
	// The last record: large enough to span several sectors.
	big := bytes.Repeat([]byte{'b'}, 300)
	if err := s.Update(context.Background(), func(tx meta.Tx) error {
		for i := range 7 {
			if err := tx.Put(fmt.Appendf(nil, "big%d", i), big); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	img := snapshotFiles(t, dir)
	segPath, seg := onlySegment(t, img)
	start, end := lastRecord(seg)
	if end-start < 4*sector {
		t.Fatalf("last record is %d bytes; want several sectors", end-start)
	}

	type variant struct {
		name     string
		lost     func(off int) bool // whether byte off of the segment was lost
		complete bool               // whether the last record survives whole
	}
	var variants []variant
	for cut := start; cut <= end; {
		c := cut
		variants = append(variants, variant{
			name:     fmt.Sprintf("prefix %d of %d", c-start, end-start),
			lost:     func(off int) bool { return off >= c },
			complete: c == end,
		})
		if cut-start < 24 || cut >= end-8 {
			cut++
		} else {
			cut = min(cut+37, end-8)
		}
	}
	first, last := start/sector, (end-1)/sector
	n := last - first + 1
	for mask := range 1 << n {
		variants = append(variants, variant{
			name:     fmt.Sprintf("sectors %0*b", n, mask),
			lost:     func(off int) bool { return mask&(1<<(off/sector-first)) == 0 },
			complete: mask == 1<<n-1,
		})
	}

	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			dbPath := snapshotFiles(t, filepath.Dir(img))
			cp := filepath.Dir(dbPath)
			torn := bytes.Clone(seg)
			for off := start; off < end; off++ {
				if v.lost(off) {
					torn[off] = 0
				}
			}
			if err := os.WriteFile(filepath.Join(cp, filepath.Base(segPath)), torn, 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := bolt.Open(dbPath, bolt.WithLog(), bolt.WithNoSync())
			if err != nil {
				t.Fatalf("Open after power loss: %v", err)
			}
			checkKeys(t, c, 60)
			checkBig(t, c, big, v.complete)
			// A write after recovery, then a crash image of that: the
			// write must be found and nothing else may change.
			if err := c.Update(context.Background(), func(tx meta.Tx) error {
				return tx.Put([]byte("after"), []byte("x"))
			}); err != nil {
				t.Fatal(err)
			}
			again := snapshotFiles(t, cp)
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			c, err = bolt.Open(again, bolt.WithLog(), bolt.WithNoSync())
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer c.Close()
			checkKeys(t, c, 60)
			checkBig(t, c, big, v.complete)
			if got, err := get(t, c, "after"); err != nil || got != "x" {
				t.Fatalf("the write after recovery: %q, %v", got, err)
			}
		})
	}
}

// checkBig checks the keys of TestPowerLoss's last record: all there with
// their value, or, when the record was lost, none.
func checkBig(t *testing.T, s meta.Store, want []byte, present bool) {
	t.Helper()
	for i := range 7 {
		key := fmt.Sprintf("big%d", i)
		v, err := get(t, s, key)
		switch {
		case !present && !errors.Is(err, meta.ErrNotFound):
			t.Fatalf("%s of a lost record: %d bytes, %v; want not found", key, len(v), err)
		case present && (err != nil || v != string(want)):
			t.Fatalf("%s: %d bytes, %v; want the record's value", key, len(v), err)
		}
	}
}

// segmentHeader is the size of a segment's header, before its records.
const segmentHeader = 48

// lastRecord returns where the last record of a segment starts and ends;
// the records follow the segment's header and end at the first zero length
// field.
func lastRecord(b []byte) (start, end int) {
	for off := segmentHeader; off+8 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off:]))
		if n == 0 {
			break
		}
		start, end = off, off+8+n
		off = end
	}
	return start, end
}
