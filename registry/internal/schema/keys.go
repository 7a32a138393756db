package schema

import (
	"encoding/binary"
	"time"
)

// The table tags (see the package documentation).
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
	tVersion    = 'v'
	tSetting    = 'S'
	tPull       = 'p'
	tRun        = 'R'
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

// pageStart returns where a page of table keys below parts begins: at the
// first key, or after the key whose last part is last.
func pageStart(table byte, parts []string, last string) []byte {
	if last == "" {
		return prefix(table, parts...)
	}
	k := key(table, parts...)
	k = append(k, 0)
	k = append(k, last...)
	return append(k, 0)
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

// splitKey returns the parts of k after its table tag. It is for keys whose
// parts are names and digests, never times.
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
