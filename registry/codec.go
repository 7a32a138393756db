package registry

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/tag"
)

// Records on the hot paths (repositories, tags, manifests, links, blobs)
// are stored in a compact binary form: a version byte, then the fields in
// order as varints and length-prefixed strings. Decoding one costs a few
// hundred nanoseconds, where encoding/json cost microseconds; resolving a
// tag and reading a manifest decodes three. Cold data (a manifest's
// annotations, platform and references) stays JSON under its own key.

const codecVersion = 1

// binaryRecord is a record with a binary encoding.
type binaryRecord interface {
	marshal(e *encoder)
	unmarshal(d *decoder)
}

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) int(v int)        { e.varint(int64(v)) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
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

var errCorrupt = errors.New("truncated or malformed record")

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

func (d *decoder) int() int { return int(d.varint()) }

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

func encodeRecord(r binaryRecord) []byte {
	e := encoder{b: make([]byte, 1, 96)}
	e.b[0] = codecVersion
	r.marshal(&e)
	return e.b
}

func decodeRecord(b []byte, r binaryRecord) error {
	if len(b) == 0 || b[0] != codecVersion {
		return errCorrupt
	}
	d := decoder{b: b[1:]}
	r.unmarshal(&d)
	return d.err
}

func (r *repoRecord) marshal(e *encoder) {
	e.time(r.CreatedAt)
	e.time(r.UpdatedAt)
	e.attrs(r.Attributes)
	e.int(r.ManifestCount)
	e.int(r.TagCount)
}

func (r *repoRecord) unmarshal(d *decoder) {
	r.CreatedAt, r.UpdatedAt, r.Attributes = d.time(), d.time(), d.attrs()
	r.ManifestCount, r.TagCount = d.int(), d.int()
}

func (r *tagRecord) marshal(e *encoder) {
	e.str(r.Digest.String())
	e.time(r.CreatedAt)
	e.time(r.UpdatedAt)
	e.attrs(r.Attributes)
}

func (r *tagRecord) unmarshal(d *decoder) {
	r.Digest = digest.Digest(d.str())
	r.CreatedAt, r.UpdatedAt, r.Attributes = d.time(), d.time(), d.attrs()
}

func (r *manifestRecord) marshal(e *encoder) {
	e.str(r.MediaType)
	e.varint(r.Size)
	e.str(r.ArtifactType)
	e.str(r.ConfigMediaType)
	e.str(r.Subject.String())
	e.time(r.CreatedAt)
	e.time(r.UpdatedAt)
	e.attrs(r.Attributes)
	e.int(r.Tags)
	e.time(r.UntaggedSince)
}

func (r *manifestRecord) unmarshal(d *decoder) {
	r.MediaType, r.Size = d.str(), d.varint()
	r.ArtifactType, r.ConfigMediaType = d.str(), d.str()
	r.Subject = digest.Digest(d.str())
	r.CreatedAt, r.UpdatedAt, r.Attributes = d.time(), d.time(), d.attrs()
	r.Tags, r.UntaggedSince = d.int(), d.time()
}

func (r *linkRecord) marshal(e *encoder) { e.time(r.CreatedAt); e.int(r.Refs) }

func (r *linkRecord) unmarshal(d *decoder) { r.CreatedAt, r.Refs = d.time(), d.int() }

func (r *blobRecord) marshal(e *encoder) {
	e.int(r.Refs)
	e.time(r.ReviewAfter)
	if r.Deleting {
		e.uvarint(1)
	} else {
		e.uvarint(0)
	}
}

func (r *blobRecord) unmarshal(d *decoder) {
	r.Refs, r.ReviewAfter, r.Deleting = d.int(), d.time(), d.uvarint() == 1
}
