package registry

import (
	"encoding/binary"
	"time"
)

// The metadata key layout. Every key starts with a one-byte table tag and a
// 0x00 separator; the parts after it are separated by 0x00, which no
// repository name, tag or digest contains, so a prefix scan of one
// repository never reaches another (even "a" and "a/b").
//
//	r 0 repo                          repository record (catalog order)
//	t 0 repo 0 tag                    tag record (tags list order)
//	m 0 repo 0 digest                 manifest record (hot part, binary)
//	x 0 repo 0 digest                 manifest detail (annotations, platform, references)
//	b 0 repo 0 digest                 manifest bytes, exactly as pushed
//	d 0 repo 0 digest 0 tag           tags of a manifest (reverse of t)
//	f 0 repo 0 subject 0 referrer     referrers index (value: descriptor JSON)
//	c 0 repo 0 child 0 parent         index children (which indexes hold a child)
//	u 0 time 0 repo 0 digest          untagged manifests by untagged-since time
//	l 0 repo 0 blob                   blob link: the repository may read the blob
//	L 0 blob 0 repo                   reverse of l, for mounts and collection
//	g 0 blob                          blob record: references, review time, state
//	q 0 time 0 blob                   garbage-collection review queue
//	s 0 upload                        upload session: which repository owns it
//
// time is 8 bytes big-endian Unix nanoseconds, so scans run in time order.
const (
	tRepo       = 'r'
	tTag        = 't'
	tManifest   = 'm'
	tDetail     = 'x'
	tBytes      = 'b'
	tDigestTags = 'd'
	tReferrer   = 'f'
	tChild      = 'c'
	tUntagged   = 'u'
	tLink       = 'l'
	tLinkRev    = 'L'
	tBlob       = 'g'
	tQueue      = 'q'
	tSession    = 's'
)

// key joins a table tag and parts with 0x00 separators.
func key(table byte, parts ...string) []byte {
	n := 1
	for _, p := range parts {
		n += 1 + len(p)
	}
	k := make([]byte, 0, n)
	k = append(k, table)
	for _, p := range parts {
		k = append(k, 0)
		k = append(k, p...)
	}
	return k
}

// prefix is key(table, parts...) followed by a separator: every key one
// level below.
func prefix(table byte, parts ...string) []byte {
	return append(key(table, parts...), 0)
}

// timeKey encodes t for ordered keys.
func timeKey(t time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UnixNano()))
	return string(b[:])
}

// lastPart returns what follows the last 0x00 in k.
func lastPart(k []byte) string {
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] == 0 {
			return string(k[i+1:])
		}
	}
	return string(k)
}

// splitKey returns the parts of k after its table tag.
func splitKey(k []byte) []string {
	var parts []string
	start := -1
	for i, c := range k {
		if c == 0 {
			if start >= 0 {
				parts = append(parts, string(k[start:i]))
			}
			start = i + 1
		}
	}
	if start >= 0 {
		parts = append(parts, string(k[start:]))
	}
	return parts
}
