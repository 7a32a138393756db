package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/regkit/regkit/registry/meta"
)

// appliedKey, in the info bucket, holds the sequence number of the last log
// segment whose records are all in kv (8 bytes, big-endian).
const appliedKey = "wal-applied"

// recoverLog applies every segment newer than the applied mark to kv in one
// transaction, removes all segments, and returns the newest sequence number
// seen (the new applied mark). Open runs it with or without WithLog.
//
// Nothing is replayed unless every segment belongs to this database (id),
// and the unapplied ones follow the applied mark without a gap: a segment
// of another database, or a file older than its log (a restored backup),
// fails with an error wrapping meta.ErrInvalid, and the segments stay
// where they are. Only the newest segment may end in a torn record (a crash
// during an append, never acknowledged); a torn record elsewhere is
// corruption (meta.ErrUnavailable).
func (s *Store) recoverLog(fsys fileSystem, path string, id dbID) (uint64, error) {
	seqs, err := segments(fsys, path)
	if err != nil {
		return 0, fmt.Errorf("list log segments: %w: %w", meta.ErrUnavailable, err)
	}
	var applied uint64
	if err := s.db.View(func(btx *bbolt.Tx) error {
		if v := btx.Bucket([]byte(infoBucket)).Get([]byte(appliedKey)); len(v) == 8 {
			applied = binary.BigEndian.Uint64(v)
		}
		return nil
	}); err != nil {
		return 0, sortErr(err)
	}
	// Read and check every segment before replaying any.
	var (
		replay [][]byte // the unapplied segments' bytes, oldest first
		last   = applied
	)
	for i, seq := range seqs {
		segPath := segmentPath(path, seq)
		data, err := fsys.ReadFile(segPath)
		if err != nil {
			return 0, fmt.Errorf("read log: %w: %w", meta.ErrUnavailable, err)
		}
		err = checkHeader(segPath, data, id, seq)
		if errors.Is(err, errNoHeader) && (seq <= applied || i == len(seqs)-1) {
			// Created but never flushed (possible only without fsync):
			// no record can be in it.
			data, err = nil, nil
		}
		if errors.Is(err, errNoHeader) {
			err = fmt.Errorf("%w, but it is not the newest: %w", err, meta.ErrUnavailable)
		}
		if err != nil {
			return 0, fmt.Errorf("log: %w", err)
		}
		if seq <= applied {
			continue
		}
		if seq != last+1 {
			return 0, fmt.Errorf("log: segment %d follows %d: a segment is missing, or the database file is older than its log (restored from a backup?); nothing is replayed: %w", seq, last, meta.ErrInvalid)
		}
		last = seq
		replay = append(replay, data)
	}
	if len(replay) > 0 {
		err := s.db.Update(func(btx *bbolt.Tx) error {
			kv := btx.Bucket([]byte(kvBucket))
			kv.FillPercent = checkpointFill
			for i, data := range replay {
				if data == nil {
					continue
				}
				seq := last - uint64(len(replay)-1-i)
				err := parseRecords(segmentPath(path, seq), data[segmentHeader:], func(p []byte) error {
					return decodeOps(p, func(kind byte, k, v []byte) error {
						if kind == opDelete {
							return kv.Delete(k)
						}
						return kv.Put(k, v) // v points into the segment's bytes, never changed
					})
				})
				if errors.Is(err, errTorn) && i == len(replay)-1 {
					err = nil // the unacknowledged tail of the last append
				}
				if err != nil {
					return err
				}
			}
			return btx.Bucket([]byte(infoBucket)).Put([]byte(appliedKey), binary.BigEndian.AppendUint64(nil, last))
		})
		if err != nil {
			return 0, fmt.Errorf("replay log: %w: %w", meta.ErrUnavailable, err)
		}
	}
	// Every segment is now at or below the applied mark: one left behind
	// by a failed removal is skipped by the next Open.
	for _, seq := range seqs {
		_ = fsys.Remove(segmentPath(path, seq))
	}
	_ = fsys.Remove(sparePath(path))
	return last, nil
}
