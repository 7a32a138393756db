package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The write-ahead log of [WithLog]: numbered segment files next to the
// database file, "<db>.wal.<seq>" with seq in 16 hex digits. A segment is a
// sequence of records, each one committed Update:
//
//	length  uint32 little-endian   bytes of payload
//	crc     uint32 little-endian   CRC-32C of payload
//	payload ops, each: kind byte (opPut or opDelete), uvarint key length,
//	        key, and for opPut a uvarint value length and the value
//
// A record is written with one pwrite and made durable with one fdatasync
// before its Update returns. Segments are created zero-filled to their
// expected size and synced, ahead of need ("<db>.wal.next", renamed into
// place at rotation), so an append overwrites allocated blocks and its
// fdatasync flushes data only, with no file-system journal commit for a
// changed size. A zero length ends a segment's records. Only the newest segment is ever appended to,
// and never again after the process that wrote it stops: recovery always
// starts a new one, so a torn record can only be the tail of a segment.

const (
	opDelete byte = 0
	opPut    byte = 1

	walInfix     = ".wal."
	recordHeader = 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segmentPath names segment seq of the database at dbPath.
func segmentPath(dbPath string, seq uint64) string {
	return fmt.Sprintf("%s%s%016x", dbPath, walInfix, seq)
}

// segments lists the sequence numbers of the segments of dbPath, ascending.
func segments(dbPath string) ([]uint64, error) {
	dir, base := filepath.Split(dbPath)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	prefix := base + walInfix
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || len(name) != len(prefix)+16 {
			continue
		}
		seq, err := strconv.ParseUint(name[len(prefix):], 16, 64)
		if err != nil {
			continue
		}
		seqs = append(seqs, seq)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs, nil
}

// segment is the open segment records are appended to.
type segment struct {
	seq  uint64
	f    *os.File
	size int64 // bytes of records written
	sync bool  // fdatasync after each append
}

// sparePath names the zero-filled file the next rotation renames into place.
func sparePath(dbPath string) string { return dbPath + walInfix + "next" }

// prepareSpare creates the spare segment file, zero-filled to size bytes and
// synced, replacing any earlier one.
func prepareSpare(dbPath string, size int64, sync bool) (*os.File, error) {
	path := sparePath(dbPath)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	zeros := make([]byte, min(size, 1<<20))
	for off := int64(0); off < size; off += int64(len(zeros)) {
		if _, err := f.WriteAt(zeros[:min(int64(len(zeros)), size-off)], off); err != nil {
			f.Close()
			return nil, err
		}
	}
	if sync {
		if err := datasync(f); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// openSegment makes the spare file f (or a new empty file, if f is nil)
// segment seq, durably named.
func openSegment(dbPath string, seq uint64, f *os.File, sync bool) (*segment, error) {
	path := segmentPath(dbPath, seq)
	var err error
	if f == nil {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	} else if err = os.Rename(sparePath(dbPath), path); err != nil {
		f.Close()
	}
	if err != nil {
		return nil, err
	}
	if sync {
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			os.Remove(path)
			return nil, err
		}
	}
	return &segment{seq: seq, f: f, sync: sync}, nil
}

// appendRecord writes rec as one record and, unless the segment is
// unsynced, waits until it is on disk. rec is the record's header space
// (recordHeader bytes, filled in here) followed by its payload, so the
// payload built by a transaction is written without a copy.
func (s *segment) appendRecord(rec []byte) error {
	frameRecord(rec)
	n, err := s.f.WriteAt(rec, s.size)
	s.size += int64(n)
	if err != nil {
		return err
	}
	if s.sync {
		return datasync(s.f)
	}
	return nil
}

// frameRecord fills in the header of rec (recordHeader bytes, then the
// payload): the payload's length and checksum.
func frameRecord(rec []byte) {
	payload := rec[recordHeader:]
	binary.LittleEndian.PutUint32(rec[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(payload, castagnoli))
}

func (s *segment) close() error { return s.f.Close() }

// errTorn reports a record cut short or failing its checksum.
var errTorn = errors.New("torn or corrupt record")

// readSegment calls fn with the payload of each record of the segment at
// path, in order. It stops at the first record that is cut short or fails
// its checksum and returns errTorn, wrapped, with the count of good records
// before it.
func readSegment(path string, fn func(payload []byte) error) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return parseRecords(filepath.Base(path), data, fn)
}

// parseRecords is readSegment on the bytes of a segment; name is the
// segment's file name, for errors.
func parseRecords(name string, data []byte, fn func(payload []byte) error) error {
	for off := 0; off < len(data); {
		if len(data)-off < recordHeader {
			return fmt.Errorf("%s at offset %d: %w", name, off, errTorn)
		}
		n := int(binary.LittleEndian.Uint32(data[off:]))
		if n == 0 {
			return nil // the zero-filled rest of the segment
		}
		sum := binary.LittleEndian.Uint32(data[off+4:])
		end := off + recordHeader + n
		if end > len(data) || crc32.Checksum(data[off+recordHeader:end], castagnoli) != sum {
			return fmt.Errorf("%s at offset %d: %w", name, off, errTorn)
		}
		if err := fn(data[off+recordHeader : end]); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// appendOp adds one operation to a record payload.
func appendOp(b []byte, kind byte, key, value []byte) []byte {
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	if kind == opPut {
		b = binary.AppendUvarint(b, uint64(len(value)))
		b = append(b, value...)
	}
	return b
}

// decodeOps calls fn for each operation of a payload. A payload that does not
// parse is corrupt even though its checksum matched: a bug, or another
// program's file.
func decodeOps(p []byte, fn func(kind byte, key, value []byte) error) error {
	for len(p) > 0 {
		kind := p[0]
		p = p[1:]
		if kind != opPut && kind != opDelete {
			return fmt.Errorf("unknown operation %d: %w", kind, io.ErrUnexpectedEOF)
		}
		key, rest, ok := cutUvarintBytes(p)
		if !ok {
			return fmt.Errorf("bad key: %w", io.ErrUnexpectedEOF)
		}
		p = rest
		var value []byte
		if kind == opPut {
			if value, p, ok = cutUvarintBytes(p); !ok {
				return fmt.Errorf("bad value: %w", io.ErrUnexpectedEOF)
			}
		}
		if err := fn(kind, key, value); err != nil {
			return err
		}
	}
	return nil
}

// cutUvarintBytes splits a uvarint-length-prefixed byte string off p.
func cutUvarintBytes(p []byte) (b, rest []byte, ok bool) {
	n, w := binary.Uvarint(p)
	if w <= 0 || n > uint64(len(p)-w) {
		return nil, nil, false
	}
	return p[w : w+int(n)], p[w+int(n):], true
}
