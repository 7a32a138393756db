package bolt

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// record frames payload as one log record with a matching checksum.
func record(payload []byte) []byte {
	rec := append(make([]byte, recordHeader), payload...)
	frameRecord(rec)
	return rec
}

// FuzzReadSegment: recovery (parseRecords, after checkHeader) parses whatever a crash left in a segment. Any
// bytes must read without a panic, as records followed by the end or by
// errTorn; and a payload framed with a good checksum must either decode
// into operations that encode back to it, or be refused.
func FuzzReadSegment(f *testing.F) {
	p := appendOp(appendOp(nil, opPut, []byte("k1"), []byte("v1")), opDelete, []byte("k0"), nil)
	f.Add(record(p), p)
	f.Add(append(encodeHeader(dbID{1}, 7), record(p)...), p)
	f.Add(append(record(p), 200, 0, 0, 0, 1, 2), []byte{})
	f.Add(make([]byte, 64), []byte{opPut, 0, 0})
	f.Add([]byte{3, 0, 0}, []byte{opDelete, 200, 1})
	f.Fuzz(func(t *testing.T, seg, payload []byte) {
		// Any bytes as a segment's start: a header error or none, never a
		// panic. The header of segment 7 of database 1 is accepted, and an
		// accepted header names them.
		herr := checkHeader("segment", seg, dbID{1}, 7)
		good := encodeHeader(dbID{1}, 7)
		if len(seg) >= segmentHeader && bytes.Equal(seg[:segmentHeader], good) && herr != nil {
			t.Fatalf("a good header refused: %v", herr)
		}
		if herr == nil && (len(seg) < segmentHeader || !bytes.Equal(seg[:12], good[:12]) || !bytes.Equal(seg[16:40], good[16:40])) {
			t.Fatalf("header %x accepted", seg[:min(len(seg), segmentHeader)])
		}
		framed := append(record(payload), seg...)
		for i, data := range [][]byte{seg, framed} {
			var got [][]byte
			err := parseRecords("segment", data, func(p []byte) error {
				got = append(got, bytes.Clone(p))
				return nil
			})
			if err != nil && !errors.Is(err, errTorn) {
				t.Fatalf("parseRecords: %v", err)
			}
			// A framed payload is read back first (an empty one is the end
			// marker: nothing is read).
			if i == 1 && len(payload) > 0 && (len(got) == 0 || !bytes.Equal(got[0], payload)) {
				t.Fatalf("a framed payload of %d bytes read as %d records", len(payload), len(got))
			}
		}
		ops, err := opsOf(payload)
		if err != nil {
			return
		}
		var again []byte
		for _, op := range ops {
			again = appendOp(again, op[0][0], op[1], op[2])
		}
		if back, err := opsOf(again); err != nil || !reflect.DeepEqual(back, ops) {
			t.Fatalf("ops %q encode to %x, which decodes to %q, %v", ops, again, back, err)
		}
	})
}

// opsOf decodes a payload into its operations: kind, key, value.
func opsOf(payload []byte) ([][3][]byte, error) {
	var ops [][3][]byte
	err := decodeOps(payload, func(kind byte, key, value []byte) error {
		ops = append(ops, [3][]byte{{kind}, bytes.Clone(key), bytes.Clone(value)})
		return nil
	})
	return ops, err
}
