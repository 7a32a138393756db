package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/memory"
)

// appliedKey, in the info bucket, holds the sequence number of the last log
// segment whose records are all in kv (8 bytes, big-endian).
const appliedKey = "wal-applied"

// defaultCheckpointBytes is the segment size at which a checkpoint starts.
const defaultCheckpointBytes = 4 << 20

// checkpointFill is how full bbolt packs the pages a checkpoint splits
// (bbolt's FillPercent; its default is 0.5). A checkpoint rewrites every
// leaf its batch touches anyway, and fuller pages mean fewer of them to
// rewrite, map and cache: after 40k manifest PUTs the database was 18%
// smaller (92 MB against 113 MB). PUT rates did not change measurably
// (docs/PERFORMANCE.md, session 4).
const checkpointFill = 0.9

// segmentBytes is the size segments are zero-filled to: the checkpoint
// threshold and room for the Updates that land while the checkpoint starts.
func segmentBytes(threshold int64) int64 { return min(threshold+threshold/4, 64<<20) }

// logState is the write-ahead log of [WithLog] and the in-memory layers that
// hold what the log has and kv does not have yet.
//
// Layers are memory.Stores whose values are a kind byte (opPut or opDelete)
// followed, for opPut, by the value: a delete is a tombstone that hides the
// key in the layers below. Reads look in active, then flushing, then kv.
type logState struct {
	path      string
	sync      bool
	threshold int64

	// mu is held by the one running Update and by rotation.
	mu     sync.Mutex
	seg    *segment
	spare  *os.File // the next segment, zero-filled; nil until prepared
	failed error    // sticky: the log or a checkpoint failed; writes refused

	// layersMu guards swapping the layers against opening snapshots.
	layersMu sync.RWMutex
	active   *memory.Store
	flushing *memory.Store // being applied to kv; nil when none

	kick chan struct{} // wakes the checkpointer
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the checkpointer returned
}

// startLog recovers what the log holds into kv and starts a new segment and
// the checkpointer.
func (s *Store) startLog(path string, c config) error {
	last, err := s.recoverLog(path)
	if err != nil {
		return err
	}
	threshold := c.checkpointBytes
	if threshold <= 0 {
		threshold = defaultCheckpointBytes
	}
	spare, err := prepareSpare(path, segmentBytes(threshold), !c.noSync)
	if err != nil {
		return fmt.Errorf("meta/bolt: create log segment: %v: %w", err, meta.ErrUnavailable)
	}
	seg, err := openSegment(path, last+1, spare, !c.noSync)
	if err != nil {
		return fmt.Errorf("meta/bolt: create log segment: %v: %w", err, meta.ErrUnavailable)
	}
	s.log = &logState{
		path: path, sync: !c.noSync, threshold: threshold, seg: seg,
		active: memory.New(),
		kick:   make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go s.checkpointer()
	return nil
}

// recoverLog applies every segment newer than the applied mark to kv in one
// transaction, removes all segments, and returns the newest sequence number
// seen. Only the newest segment may end in a torn record (a crash during an
// append, never acknowledged); a torn record elsewhere is corruption.
func (s *Store) recoverLog(path string) (uint64, error) {
	seqs, err := segments(path)
	if err != nil {
		return 0, fmt.Errorf("meta/bolt: list log segments: %v: %w", err, meta.ErrUnavailable)
	}
	var applied uint64
	err = s.db.Update(func(btx *bbolt.Tx) error {
		info, kv := btx.Bucket([]byte(infoBucket)), btx.Bucket([]byte(kvBucket))
		kv.FillPercent = checkpointFill
		if v := info.Get([]byte(appliedKey)); len(v) == 8 {
			applied = binary.BigEndian.Uint64(v)
		}
		last := applied
		for i, seq := range seqs {
			if seq <= applied {
				continue
			}
			err := readSegment(segmentPath(path, seq), func(p []byte) error {
				return decodeOps(p, func(kind byte, k, v []byte) error {
					if kind == opDelete {
						return kv.Delete(k)
					}
					return kv.Put(k, v) // v points into the segment's bytes, never changed
				})
			})
			if errors.Is(err, errTorn) && i == len(seqs)-1 {
				err = nil // the unacknowledged tail of the last append
			}
			if err != nil {
				return fmt.Errorf("replay log: %w", err)
			}
			last = seq
		}
		if last == applied {
			return nil
		}
		applied = last
		return info.Put([]byte(appliedKey), binary.BigEndian.AppendUint64(nil, last))
	})
	if err != nil {
		return 0, fmt.Errorf("meta/bolt: %v: %w", err, meta.ErrUnavailable)
	}
	for _, seq := range seqs {
		_ = os.Remove(segmentPath(path, seq))
	}
	_ = os.Remove(sparePath(path))
	return applied, nil
}

// layers returns the current layers and a bbolt read transaction opened
// while no swap can happen, so kv never holds changes newer than active.
// The caller must roll the transaction back.
func (l *logState) layers(db *bbolt.DB) (active, flushing *memory.Store, btx *bbolt.Tx, err error) {
	l.layersMu.RLock()
	defer l.layersMu.RUnlock()
	btx, err = db.Begin(false)
	return l.active, l.flushing, btx, err
}

// logRun runs fn over the layers and kv; for an Update it appends the
// transaction's changes to the log before they become visible.
func (s *Store) logRun(ctx context.Context, writable bool, fn func(meta.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("meta/bolt: %w", err)
	}
	l := s.log
	if writable {
		l.mu.Lock()
		defer l.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("meta/bolt: %w", err)
		}
		if l.failed != nil {
			return l.failed
		}
	}
	active, flushing, btx, err := l.layers(s.db)
	if err != nil {
		return sortErr(err)
	}
	defer btx.Rollback()
	t := &ltx{b: btx.Bucket([]byte(kvBucket)), writable: writable}
	if writable {
		t.ops = make([]byte, recordHeader, 4096)
	}
	defer t.end()
	var fnErr error
	run := func(a meta.Tx) error {
		t.a = a
		if fnErr = fn(t); fnErr != nil {
			return fnErr
		}
		if !writable || len(t.ops) <= recordHeader {
			return nil
		}
		if err := l.seg.appendRecord(t.ops); err != nil {
			l.failed = fmt.Errorf("meta/bolt: write-ahead log failed, store is read-only until reopened: %v: %w", err, meta.ErrUnavailable)
			return l.failed
		}
		return nil
	}
	inActive := func() error {
		if writable {
			return active.Update(context.WithoutCancel(ctx), run)
		}
		return active.View(context.WithoutCancel(ctx), run)
	}
	if flushing == nil {
		err = inActive()
	} else {
		err = flushing.View(context.WithoutCancel(ctx), func(f meta.Tx) error {
			t.f = f
			return inActive()
		})
	}
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return err
	}
	if writable && l.seg.size >= l.threshold {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// sortErr wraps a bbolt error in meta's classes.
func sortErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("meta/bolt: store is closed: %w", meta.ErrUnavailable)
	}
	return fmt.Errorf("meta/bolt: %v: %w", err, meta.ErrUnavailable)
}

// checkpointer applies the log to kv whenever an Update finds the segment
// over the threshold, until Close.
func (s *Store) checkpointer() {
	l := s.log
	defer close(l.done)
	for {
		select {
		case <-l.kick:
			_ = s.checkpoint()
		case <-l.stop:
			return
		}
	}
}

// checkpoint starts a new segment, makes the active layer the flushing one,
// applies it to kv in one durable bbolt transaction that also records the
// applied mark, then drops it and removes the segments it covered. Writers
// wait only for the rotation; readers never wait.
func (s *Store) checkpoint() error {
	l := s.log
	l.mu.Lock()
	if l.failed != nil || l.seg.size == 0 {
		l.mu.Unlock()
		return l.failed
	}
	next, err := openSegment(l.path, l.seg.seq+1, l.spare, l.sync)
	l.spare = nil
	if err != nil {
		l.mu.Unlock()
		return fmt.Errorf("meta/bolt: create log segment: %v: %w", err, meta.ErrUnavailable)
	}
	old := l.seg
	l.seg = next
	l.layersMu.Lock()
	flushing := l.active
	l.flushing, l.active = flushing, memory.New()
	l.layersMu.Unlock()
	l.mu.Unlock()
	_ = old.close()

	err = s.db.Update(func(btx *bbolt.Tx) error {
		kv := btx.Bucket([]byte(kvBucket))
		kv.FillPercent = checkpointFill
		var perr error
		err := flushing.View(context.Background(), func(f meta.Tx) error {
			return f.Scan(meta.Range{}, func(k, v []byte) bool {
				if v[0] == opDelete {
					perr = kv.Delete(k)
				} else {
					perr = kv.Put(k, v[1:])
				}
				return perr == nil
			})
		})
		if err == nil {
			err = perr
		}
		if err != nil {
			return err
		}
		return btx.Bucket([]byte(infoBucket)).Put([]byte(appliedKey), binary.BigEndian.AppendUint64(nil, old.seq))
	})
	if err != nil {
		l.mu.Lock()
		l.failed = fmt.Errorf("meta/bolt: checkpoint failed, store is read-only until reopened: %v: %w", err, meta.ErrUnavailable)
		l.mu.Unlock()
		return l.failed
	}
	l.layersMu.Lock()
	l.flushing = nil
	l.layersMu.Unlock()
	seqs, _ := segments(l.path)
	for _, seq := range seqs {
		if seq <= old.seq {
			_ = os.Remove(segmentPath(l.path, seq))
		}
	}
	// The next rotation's segment, prepared off the writers' path.
	if spare, err := prepareSpare(l.path, segmentBytes(l.threshold), l.sync); err == nil {
		l.mu.Lock()
		l.spare = spare
		l.mu.Unlock()
	}
	return nil
}

// closeLog stops the checkpointer, applies what the log holds to kv, and
// closes the segment, removing it when the checkpoint succeeded.
func (s *Store) closeLog() error {
	l := s.log
	select {
	case <-l.stop:
		return nil // closed before
	default:
	}
	close(l.stop)
	<-l.done
	err := s.checkpoint()
	l.mu.Lock()
	defer l.mu.Unlock()
	if cerr := l.seg.close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil && l.failed == nil {
		_ = os.Remove(segmentPath(l.path, l.seg.seq))
	}
	if l.spare != nil {
		l.spare.Close()
		l.spare = nil
	}
	_ = os.Remove(sparePath(l.path))
	if l.failed == nil {
		l.failed = fmt.Errorf("meta/bolt: store is closed: %w", meta.ErrUnavailable)
	}
	return err
}

// ltx is a transaction of a Store with a log: the active layer's
// transaction (writable in an Update), the flushing layer's snapshot, if
// any, and kv's snapshot.
type ltx struct {
	a        meta.Tx
	f        meta.Tx
	b        *bbolt.Bucket
	writable bool
	scanning int
	done     bool
	ops      []byte // the log record of an Update's changes, after recordHeader bytes of header space
}

func (t *ltx) end() { t.done = true }

func (t *ltx) state() meta.TxState {
	return meta.TxState{Done: t.done, Writable: t.writable, Scanning: t.scanning > 0}
}

// Get looks in active, flushing, then kv; a tombstone ends the search.
func (t *ltx) Get(key []byte) ([]byte, error) {
	if err := meta.CheckCall(backend, "get", key, t.state(), false); err != nil {
		return nil, err
	}
	for _, layer := range [...]meta.Tx{t.a, t.f} {
		if layer == nil {
			continue
		}
		v, err := layer.Get(key)
		if errors.Is(err, meta.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if v[0] == opDelete {
			return nil, meta.NewKeyError(backend, "get", key, "", meta.ErrNotFound)
		}
		return v[1:], nil
	}
	k, v := t.b.Cursor().Seek(key)
	if !bytes.Equal(k, key) {
		return nil, meta.NewKeyError(backend, "get", key, "", meta.ErrNotFound)
	}
	return v, nil
}

// Put records value in the active layer and the log record.
func (t *ltx) Put(key, value []byte) error {
	if err := meta.CheckCall(backend, "put", key, t.state(), true); err != nil {
		return err
	}
	enc := make([]byte, 1+len(value))
	enc[0] = opPut
	copy(enc[1:], value)
	if err := t.a.Put(key, enc); err != nil {
		return err
	}
	t.ops = appendOp(t.ops, opPut, key, value)
	return nil
}

// Delete records a tombstone in the active layer and the log record.
func (t *ltx) Delete(key []byte) error {
	if err := meta.CheckCall(backend, "delete", key, t.state(), true); err != nil {
		return err
	}
	if err := t.a.Put(key, []byte{opDelete}); err != nil {
		return err
	}
	t.ops = appendOp(t.ops, opDelete, key, nil)
	return nil
}
