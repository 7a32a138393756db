package fs

import (
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"reflect"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// FuzzDecodeSlot: a state-file slot is read back after crashes and power
// losses, so any bytes must decode without a panic, and whatever decodes
// (also once its CRC is made to match) must encode to a slot that decodes
// to the same checkpoint.
func FuzzDecodeSlot(f *testing.F) {
	h := sha256.New()
	h.Write([]byte("hello"))
	c := checkpoint{seq: 3, offset: 5, alg: digest.SHA256, hash: blob.MarshalHashState(h),
		started: time.Unix(0, 1700000000123456789), boot: [16]byte{9, 8, 7}}
	good := c.encode()
	f.Add(good)
	f.Add(encodeV1(c))
	f.Add(make([]byte, slotSize))
	f.Add(good[:100])
	torn := append([]byte(nil), good...)
	torn[200] ^= 1
	f.Add(torn)
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeSlot(b) // must not panic
		if len(b) != slotSize {
			return
		}
		// Past the checksum: the same bytes with a CRC that matches, so the
		// fields themselves are explored.
		b = binary.BigEndian.AppendUint32(b[:slotSize-4:slotSize-4], crc32.ChecksumIEEE(b[:slotSize-4]))
		c, ok := decodeSlot(b)
		if !ok {
			return
		}
		again, ok := decodeSlot(c.encode())
		if !ok {
			t.Fatalf("checkpoint %+v does not survive encode", c)
		}
		if len(again.hash) == 0 && len(c.hash) > slotSize/2 {
			c.hash = nil // too long for the slot once a boot is added: dropped
		}
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip: %+v, want %+v", again, c)
		}
	})
}
