package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	bbolt "go.etcd.io/bbolt"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/memory"
)

// defaultCheckpointBytes is the segment size at which a checkpoint starts.
const defaultCheckpointBytes = 4 << 20

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
	path       string
	id         dbID
	fsys       fileSystem
	sync       bool
	threshold  int64 // segment bytes that start a checkpoint
	maxPending int64 // record bytes in active at which writers wait for a running checkpoint

	// mu is held by the one running Update, by rotation and by Close.
	mu            sync.Mutex
	room          *sync.Cond // on mu: signalled when a checkpoint ends or Close starts
	seg           *segment
	spare         *spare // the next segment, prepared; nil until then
	checkpointing bool   // a checkpoint is applying flushing
	closing       bool   // Close has started: no more rotations

	// layersMu guards swapping the layers against opening snapshots.
	layersMu sync.RWMutex
	active   *memory.Store
	flushing *memory.Store // being applied to kv, or left by a failed checkpoint; nil when none

	kick chan struct{} // wakes the checkpointer
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the checkpointer returned
}

// startLog starts segment applied+1 (recoverLog has emptied the log) and
// the checkpointer.
func (s *Store) startLog(path string, id dbID, applied uint64, c config) error {
	threshold := c.checkpointBytes
	if threshold <= 0 {
		threshold = defaultCheckpointBytes
	}
	maxPending := c.maxPending
	if maxPending <= 0 {
		maxPending = 4 * threshold
	}
	sp, err := prepareSpare(c.fs, path, segmentBytes(threshold), !c.noSync, id, applied+1)
	if err != nil {
		return fmt.Errorf("create log segment: %w: %w", meta.ErrUnavailable, err)
	}
	seg, err := openSegment(c.fs, path, sp, !c.noSync)
	if err != nil {
		return fmt.Errorf("create log segment: %w: %w", meta.ErrUnavailable, err)
	}
	l := &logState{
		path: path, id: id, fsys: c.fs, sync: !c.noSync,
		threshold: threshold, maxPending: maxPending, seg: seg,
		active: memory.New(),
		kick:   make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	l.room = sync.NewCond(&l.mu)
	// The first rotation's segment, prepared now so that no rotation
	// writes one while writers wait.
	if l.spare, err = prepareSpare(c.fs, path, segmentBytes(threshold), !c.noSync, id, seg.seq+1); err != nil {
		seg.close()
		return fmt.Errorf("create log segment: %w: %w", meta.ErrUnavailable, err)
	}
	s.log = l
	go s.checkpointer()
	return nil
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

// lockWriter takes the writer's lock for an Update, once the store takes
// writes and the active layer has room (WithMaxPendingBytes).
func (s *Store) lockWriter(ctx context.Context) error {
	l := s.log
	l.mu.Lock()
	for {
		if err := ctx.Err(); err != nil {
			l.mu.Unlock()
			return fmt.Errorf("meta/bolt: %w", err)
		}
		if err := s.unwritable(); err != nil {
			l.mu.Unlock()
			return err
		}
		if !l.checkpointing || l.seg.records() < l.maxPending {
			return nil
		}
		if s.hooks.blocked != nil {
			s.hooks.blocked()
		}
		l.room.Wait()
	}
}

// logRun runs fn over the layers and kv; for an Update it appends the
// transaction's changes to the log before they become visible.
func (s *Store) logRun(ctx context.Context, writable bool, fn func(meta.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("meta/bolt: %w", err)
	}
	l := s.log
	if writable {
		if err := s.lockWriter(ctx); err != nil {
			return err
		}
		defer l.mu.Unlock()
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
		erased, err := l.seg.appendRecord(t.ops)
		if err == nil {
			return nil
		}
		// Rolled back: the layer never shows the Update.
		failed := s.fail("write-ahead log append", err)
		if erased {
			return fmt.Errorf("meta/bolt: update not committed (its log record was erased): %w", failed)
		}
		return fmt.Errorf("meta/bolt: update failed, but its log record could not be erased: the next Open may commit it, whole: %w", failed)
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
	if writable && l.seg.records() >= l.threshold {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	return nil
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
