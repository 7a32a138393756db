package fs

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
)

// The state file holds two slots of slotSize bytes. Each checkpoint goes to
// slot seq%2, so the previous checkpoint survives a torn write. Slots are
// written as slotMagic; slotMagicV1 slots (no boot identity) are still read.
const (
	slotSize    = 512
	slotMagic   = "rku2"
	slotMagicV1 = "rku1"
	maxAlgName  = 32
)

// checkpoint is what the state file remembers about an upload.
type checkpoint struct {
	seq     uint64
	offset  int64            // bytes of data the hash state covers
	alg     digest.Algorithm // the upload's algorithm
	hash    []byte           // marshaled hash state; empty if not marshalable
	started time.Time
	// boot identifies the system boot the checkpoint was written in (see
	// bootID); zero if unknown. The bytes it covers were written, not
	// synced: only in the same boot is the page cache known to hold them.
	boot [16]byte
}

// encode lays c out as one slot:
//
//	magic[4] seq[8] offset[8] started[8] boot[16] alglen[1] alg hashlen[2] hash … crc32[4]
//
// with integers big-endian and the CRC (IEEE) over the first slotSize-4 bytes.
// A slotMagicV1 slot is the same without boot.
func (c checkpoint) encode() []byte {
	b := make([]byte, 0, slotSize)
	b = append(b, slotMagic...)
	b = binary.BigEndian.AppendUint64(b, c.seq)
	b = binary.BigEndian.AppendUint64(b, uint64(c.offset))
	b = binary.BigEndian.AppendUint64(b, uint64(c.started.UnixNano()))
	b = append(b, c.boot[:]...)
	alg := string(c.alg)
	if len(alg) > maxAlgName {
		alg = ""
	}
	b = append(b, byte(len(alg)))
	b = append(b, alg...)
	hs := c.hash
	if len(b)+2+len(hs)+4 > slotSize {
		hs = nil // cannot happen for sha256/sha512; the resume re-hashes
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(hs)))
	b = append(b, hs...)
	b = b[:slotSize-4]
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// decodeSlot parses one slot, reporting false for anything invalid.
func decodeSlot(b []byte) (checkpoint, bool) {
	if len(b) != slotSize {
		return checkpoint{}, false
	}
	v1 := bytes.Equal(b[:4], []byte(slotMagicV1))
	if !v1 && !bytes.Equal(b[:4], []byte(slotMagic)) {
		return checkpoint{}, false
	}
	if crc32.ChecksumIEEE(b[:slotSize-4]) != binary.BigEndian.Uint32(b[slotSize-4:]) {
		return checkpoint{}, false
	}
	var c checkpoint
	c.seq = binary.BigEndian.Uint64(b[4:])
	c.offset = int64(binary.BigEndian.Uint64(b[12:]))
	c.started = time.Unix(0, int64(binary.BigEndian.Uint64(b[20:])))
	p := 28
	if !v1 {
		p += copy(c.boot[:], b[p:])
	}
	n := int(b[p])
	p++
	if n > maxAlgName || p+n+2 > slotSize-4 {
		return checkpoint{}, false
	}
	c.alg = digest.Algorithm(b[p : p+n])
	p += n
	hn := int(binary.BigEndian.Uint16(b[p:]))
	p += 2
	if p+hn > slotSize-4 || c.offset < 0 {
		return checkpoint{}, false
	}
	c.hash = append([]byte(nil), b[p:p+hn]...)
	return c, true
}

// readCheckpoint returns the newest valid checkpoint in f, or false.
func readCheckpoint(f io.ReaderAt) (checkpoint, bool) {
	buf := make([]byte, 2*slotSize)
	n, _ := f.ReadAt(buf, 0)
	buf = buf[:n]
	var best checkpoint
	found := false
	for i := 0; i+slotSize <= len(buf); i += slotSize {
		if c, ok := decodeSlot(buf[i : i+slotSize]); ok && (!found || c.seq > best.seq) {
			best, found = c, true
		}
	}
	return best, found
}

// writeCheckpoint stores c in its slot.
func writeCheckpoint(f io.WriterAt, c checkpoint) error {
	_, err := f.WriteAt(c.encode(), int64(c.seq%2)*slotSize)
	return err
}
