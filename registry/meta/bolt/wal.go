package bolt

import (
	"bytes"
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

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/meta"
)

// The write-ahead log of [WithLog]: numbered segment files next to the
// database file, "<db>.wal.<seq>" with seq in 16 hex digits. A segment
// starts with a header of segmentHeader bytes that names the database it
// belongs to:
//
//	magic    8 bytes               "RKMETAWL"
//	version  uint32 little-endian  segmentVersion
//	reserved uint32                zero
//	db id    16 bytes              the database's identity (info bucket, idKey)
//	seq      uint64 little-endian  the segment's sequence number, as in its name
//	crc      uint32 little-endian  CRC-32C of the 40 bytes above
//	reserved uint32                zero
//
// followed by a sequence of records, each one committed Update:
//
//	length  uint32 little-endian   bytes of payload
//	crc     uint32 little-endian   CRC-32C of payload
//	payload ops, each: kind byte (opPut or opDelete), uvarint key length,
//	        key, and for opPut a uvarint value length and the value
//
// A record is written with one pwrite and made durable with one fdatasync
// before its Update returns. Segments are created with their header,
// zero-filled to their expected size and synced, ahead of need
// ("<db>.wal.next", renamed into place at rotation), so an append
// overwrites allocated blocks and its fdatasync flushes data only, with no
// file-system journal commit for a changed size. A zero length ends a
// segment's records. Only the newest segment is ever appended to, and never
// again after the process that wrote it stops: recovery always starts a new
// one, so a torn record can only be the tail of a segment.
//
// Segments without a header (an earlier format, never released) are
// refused by Open (errdef.ErrUnsupported) rather than guessed at.

const (
	opDelete byte = 0
	opPut    byte = 1

	walInfix     = ".wal."
	recordHeader = 8

	segmentMagic   = "RKMETAWL"
	segmentVersion = 1
	segmentHeader  = 48
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// dbID is a database's identity: random bytes stored in its file when it is
// created, and in the header of each of its log segments.
type dbID [16]byte

// segmentPath names segment seq of the database at dbPath.
func segmentPath(dbPath string, seq uint64) string {
	return fmt.Sprintf("%s%s%016x", dbPath, walInfix, seq)
}

// segments lists the sequence numbers of the segments of dbPath, ascending.
func segments(fsys fileSystem, dbPath string) ([]uint64, error) {
	dir, base := filepath.Split(dbPath)
	if dir == "" {
		dir = "."
	}
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	prefix := base + walInfix
	for _, name := range names {
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

// encodeHeader returns the header of segment seq of database id.
func encodeHeader(id dbID, seq uint64) []byte {
	h := make([]byte, segmentHeader)
	copy(h, segmentMagic)
	binary.LittleEndian.PutUint32(h[8:], segmentVersion)
	copy(h[16:32], id[:])
	binary.LittleEndian.PutUint64(h[32:], seq)
	binary.LittleEndian.PutUint32(h[40:], crc32.Checksum(h[:40], castagnoli))
	return h
}

// errNoHeader reports a segment whose header is all zeros or missing: a
// file created without a flush, which no record can be in either.
var errNoHeader = errors.New("segment has no header")

// checkHeader checks that data, a segment's bytes, starts with the header
// of segment seq of database id. It returns errNoHeader, wrapped, when the
// whole segment is zeros; otherwise an error wrapping the class: corrupt
// (meta.ErrUnavailable), of an older or newer format
// (errdef.ErrUnsupported), or of another database or sequence number
// (meta.ErrInvalid).
func checkHeader(name string, data []byte, id dbID, seq uint64) error {
	if len(bytes.Trim(data, "\x00")) == 0 {
		return fmt.Errorf("%s: %w", name, errNoHeader)
	}
	if len(data) < segmentHeader {
		if bytes.HasPrefix(data, []byte(segmentMagic)) {
			return fmt.Errorf("%s: header cut short: %w", name, meta.ErrUnavailable)
		}
		return fmt.Errorf("%s: not a log segment of this format (no header; segments of regkit before session 6 are not read): %w", name, errdef.ErrUnsupported)
	}
	h := data[:segmentHeader]
	switch {
	case string(h[:8]) != segmentMagic:
		return fmt.Errorf("%s: not a log segment of this format (no header; segments of regkit before session 6 are not read): %w", name, errdef.ErrUnsupported)
	case binary.LittleEndian.Uint32(h[40:]) != crc32.Checksum(h[:40], castagnoli):
		return fmt.Errorf("%s: header fails its checksum: %w", name, meta.ErrUnavailable)
	case binary.LittleEndian.Uint32(h[8:]) != segmentVersion:
		return fmt.Errorf("%s: segment format version %d, want %d: %w", name, binary.LittleEndian.Uint32(h[8:]), segmentVersion, errdef.ErrUnsupported)
	case !bytes.Equal(h[16:32], id[:]):
		return fmt.Errorf("%s: segment of another database (id %x, this database is %x): the database file was replaced or recreated beside an old log; the segment is not replayed: move it away to open the file: %w", name, h[16:32], id[:], meta.ErrInvalid)
	case binary.LittleEndian.Uint64(h[32:]) != seq:
		return fmt.Errorf("%s: header says segment %d: %w", name, binary.LittleEndian.Uint64(h[32:]), meta.ErrInvalid)
	}
	return nil
}

// segment is the open segment records are appended to.
type segment struct {
	seq  uint64
	f    file
	size int64 // bytes written: the header and the records
	sync bool  // fdatasync after each append
}

// records returns the bytes of records in the segment.
func (s *segment) records() int64 { return s.size - segmentHeader }

// sparePath names the zero-filled file the next rotation renames into place.
func sparePath(dbPath string) string { return dbPath + walInfix + "next" }

// spare is a prepared segment file, not yet named as a segment.
type spare struct {
	seq uint64
	f   file
}

// prepareSpare creates the spare file for segment seq: its header, zeros up
// to size bytes, synced; it replaces any earlier spare.
func prepareSpare(fsys fileSystem, dbPath string, size int64, sync bool, id dbID, seq uint64) (*spare, error) {
	f, err := fsys.OpenFile(sparePath(dbPath), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	size = max(size, segmentHeader)
	buf := make([]byte, min(size, 1<<20))
	copy(buf, encodeHeader(id, seq))
	for off := int64(0); off < size; off += int64(len(buf)) {
		if _, err := f.WriteAt(buf[:min(int64(len(buf)), size-off)], off); err != nil {
			f.Close()
			return nil, err
		}
		if off == 0 {
			clear(buf[:segmentHeader])
		}
	}
	if sync {
		if err := f.Datasync(); err != nil {
			f.Close()
			return nil, err
		}
	}
	return &spare{seq: seq, f: f}, nil
}

// openSegment names the spare sp as its segment, durably.
func openSegment(fsys fileSystem, dbPath string, sp *spare, sync bool) (*segment, error) {
	path := segmentPath(dbPath, sp.seq)
	if err := fsys.Rename(sparePath(dbPath), path); err != nil {
		sp.f.Close()
		return nil, err
	}
	if sync {
		if err := fsys.SyncDir(filepath.Dir(path)); err != nil {
			sp.f.Close()
			return nil, err
		}
	}
	return &segment{seq: sp.seq, f: sp.f, size: segmentHeader, sync: sync}, nil
}

// appendRecord writes rec as one record and, unless the segment is
// unsynced, waits until it is on disk. rec is the record's header space
// (recordHeader bytes, filled in here) followed by its payload, so the
// payload built by a transaction is written without a copy.
//
// If the write or the flush fails, the record may be on disk, whole: it
// tries to erase it (zeros over its header, flushed), so that recovery
// cannot commit an Update that failed, and reports whether that worked.
func (s *segment) appendRecord(rec []byte) (erased bool, err error) {
	frameRecord(rec)
	if _, err = s.f.WriteAt(rec, s.size); err == nil && s.sync {
		err = s.f.Datasync()
	}
	if err == nil {
		s.size += int64(len(rec))
		return false, nil
	}
	_, eraseErr := s.f.WriteAt(make([]byte, recordHeader), s.size)
	if eraseErr == nil && s.sync {
		eraseErr = s.f.Datasync()
	}
	return eraseErr == nil, err
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

// parseRecords calls fn with each record of data, the bytes of a segment
// after its header; name is the segment's file name, for errors.
func parseRecords(name string, data []byte, fn func(payload []byte) error) error {
	for off := 0; off < len(data); {
		if len(data)-off < recordHeader {
			return fmt.Errorf("%s at offset %d: %w", name, segmentHeader+off, errTorn)
		}
		n := int(binary.LittleEndian.Uint32(data[off:]))
		if n == 0 {
			return nil // the zero-filled rest of the segment
		}
		sum := binary.LittleEndian.Uint32(data[off+4:])
		end := off + recordHeader + n
		if end > len(data) || end < off || crc32.Checksum(data[off+recordHeader:end], castagnoli) != sum {
			return fmt.Errorf("%s at offset %d: %w", name, segmentHeader+off, errTorn)
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
