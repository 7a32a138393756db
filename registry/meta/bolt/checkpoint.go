package bolt

import (
	"context"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/memory"
)

// checkpointFill is how full bbolt packs the pages a checkpoint splits
// (bbolt's FillPercent; its default is 0.5). A checkpoint rewrites every
// leaf its batch touches anyway, and fuller pages mean fewer of them to
// rewrite, map and cache: the database is smaller and PUT rates do not
// change measurably (figures in docs/PERFORMANCE.md).
const checkpointFill = 0.9

// checkpointer applies the log to kv whenever an Update finds the segment
// over the threshold, until Close.
func (s *Store) checkpointer() {
	l := s.log
	defer close(l.done)
	for {
		select {
		case <-l.kick:
			_ = s.checkpoint() // a failure is logged and kept by fail
		case <-l.stop:
			return
		}
	}
}

// checkpoint starts a new segment, makes the active layer the flushing one,
// applies it to kv in one durable bbolt transaction that also records the
// applied mark, then drops it and removes the segments it covered. Writers
// wait only for the rotation, and while it applies, only once the new
// active layer is over maxPending; readers never wait. A failure makes the
// store read-only (fail): the layers stay, so reads still see every
// acknowledged Update, and the log keeps them for the next Open.
func (s *Store) checkpoint() error {
	l := s.log
	l.mu.Lock()
	if err := s.unwritable(); err != nil || l.closing || l.seg.records() == 0 {
		l.mu.Unlock()
		return err
	}
	if l.spare != nil && l.spare.seq != l.seg.seq+1 {
		l.spare.f.Close() // never: a spare is prepared for the next rotation
		l.spare = nil
	}
	if l.spare == nil {
		sp, err := prepareSpare(l.fsys, l.path, segmentBytes(l.threshold), l.sync, l.id, l.seg.seq+1)
		if err != nil {
			l.mu.Unlock()
			return s.fail("create log segment", err)
		}
		l.spare = sp
	}
	next, err := openSegment(l.fsys, l.path, l.spare, l.sync)
	l.spare = nil
	if err != nil {
		l.mu.Unlock()
		return s.fail("start log segment", err)
	}
	old := l.seg
	l.seg = next
	l.layersMu.Lock()
	flushing := l.active
	l.flushing, l.active = flushing, memory.New()
	l.layersMu.Unlock()
	l.checkpointing = true
	l.mu.Unlock()
	_ = old.close()

	if err = s.apply(old.seq, flushing); err != nil {
		err = s.fail("checkpoint", err) // before a waiting writer can go on
	} else {
		l.layersMu.Lock()
		l.flushing = nil
		l.layersMu.Unlock()
	}
	l.mu.Lock()
	l.checkpointing = false
	l.room.Broadcast()
	l.mu.Unlock()
	if err != nil {
		return err
	}
	if seqs, err := segments(l.fsys, l.path); err == nil {
		for _, seq := range seqs {
			if seq <= old.seq {
				_ = l.fsys.Remove(segmentPath(l.path, seq))
			}
		}
	}
	// The next rotation's segment, prepared off the writers' path; if that
	// fails, the rotation tries again.
	sp, err := prepareSpare(l.fsys, l.path, segmentBytes(l.threshold), l.sync, l.id, next.seq+1)
	if err != nil {
		s.logger.Warn("meta/bolt: prepare the next log segment", "err", err)
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		sp.f.Close()
		return nil
	}
	l.spare = sp
	return nil
}

// apply writes the layers, in order, to kv in one durable bbolt transaction
// that also sets the applied mark to seq.
func (s *Store) apply(seq uint64, layers ...*memory.Store) error {
	return s.db.Update(func(btx *bbolt.Tx) error {
		kv := btx.Bucket([]byte(kvBucket))
		kv.FillPercent = checkpointFill
		for _, layer := range layers {
			if layer == nil {
				continue
			}
			var perr error
			err := layer.View(context.Background(), func(f meta.Tx) error {
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
		}
		if s.hooks.checkpoint != nil {
			if err := s.hooks.checkpoint(); err != nil {
				return err
			}
		}
		return btx.Bucket([]byte(infoBucket)).Put([]byte(appliedKey), binary.BigEndian.AppendUint64(nil, seq))
	})
}

// closeLog ends the log for Close: it stops rotations and new writers
// (unwritable already reports the store closed), waits for the running
// Update and checkpoint, applies what the file lacks (a failed
// checkpoint's layer, then the active one) to kv without starting a new
// segment, and removes the segments, which are then all covered. If that
// checkpoint fails the segments stay, for the next Open to replay.
func (s *Store) closeLog() error {
	l := s.log
	l.mu.Lock()
	l.closing = true
	l.room.Broadcast()
	l.mu.Unlock()
	close(l.stop)
	<-l.done

	l.mu.Lock()
	defer l.mu.Unlock()
	for l.checkpointing { // one not started by the checkpointer (tests)
		l.room.Wait()
	}
	var err error
	if l.seg.records() > 0 || l.flushing != nil {
		err = s.apply(l.seg.seq, l.flushing, l.active)
	}
	_ = l.seg.close()
	if err == nil {
		if seqs, lerr := segments(l.fsys, l.path); lerr == nil {
			for _, seq := range seqs {
				if seq <= l.seg.seq {
					_ = l.fsys.Remove(segmentPath(l.path, seq))
				}
			}
		}
	} else {
		err = fmt.Errorf("meta/bolt: close: last checkpoint failed; the log keeps every committed Update for the next Open: %w: %w", meta.ErrUnavailable, err)
		s.logger.Error("meta/bolt: close: last checkpoint failed", "err", err)
	}
	if l.spare != nil {
		l.spare.f.Close()
		l.spare = nil
	}
	_ = l.fsys.Remove(sparePath(l.path))
	return err
}
