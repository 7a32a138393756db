package schema

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/regkit/regkit/tag"
)

// The binary encoding of the hot records: a version byte, then the fields
// in order as varints and length-prefixed strings. Decoding one costs a few
// hundred nanoseconds, where encoding/json cost microseconds; resolving a
// tag and reading a manifest decodes three.

// codecVersion is the first byte of every binary record.
const codecVersion = 1

// binaryRecord is a record with a binary encoding.
type binaryRecord interface {
	marshal(e *encoder)
	unmarshal(d *decoder)
}

// errCorrupt is the cause of every binary record that does not decode.
var errCorrupt = errors.New("truncated or malformed record")

// encoder appends fields to b.
type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) int(v int)        { e.varint(int64(v)) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) bool(v bool) {
	if v {
		e.uvarint(1)
	} else {
		e.uvarint(0)
	}
}

func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.varint(0)
		return
	}
	e.varint(t.UnixNano())
}

func (e *encoder) attrs(a tag.Attributes) {
	var bits byte
	for i, on := range []bool{a.DeleteEnabled, a.WriteEnabled, a.ReadEnabled, a.ListEnabled} {
		if on {
			bits |= 1 << i
		}
	}
	e.b = append(e.b, bits)
}

// decoder reads fields from b; the first failure empties b and sets err, so
// the fields after it read as zero.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int   { return int(d.varint()) }
func (d *decoder) bool() bool { return d.uvarint() == 1 }

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) time() time.Time {
	n := d.varint()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func (d *decoder) attrs() tag.Attributes {
	if len(d.b) == 0 {
		d.fail()
		return tag.Attributes{}
	}
	bits := d.b[0]
	d.b = d.b[1:]
	return tag.Attributes{DeleteEnabled: bits&1 != 0, WriteEnabled: bits&2 != 0, ReadEnabled: bits&4 != 0, ListEnabled: bits&8 != 0}
}

// encodeRecord returns r's binary encoding.
func encodeRecord(r binaryRecord) []byte {
	e := encoder{b: make([]byte, 1, 96)}
	e.b[0] = codecVersion
	r.marshal(&e)
	return e.b
}

// decodeRecord fills r from b, or returns errCorrupt.
func decodeRecord(b []byte, r binaryRecord) error {
	if len(b) == 0 || b[0] != codecVersion {
		return errCorrupt
	}
	d := decoder{b: b[1:]}
	r.unmarshal(&d)
	return d.err
}
