package memory

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/regkit/regkit/registry/meta"
)

// Store is an ordered, in-memory [meta.Store]. The zero value is not usable;
// call [New]. A Store is safe for concurrent use.
type Store struct {
	// root is the last committed tree. Readers load it without locking;
	// only a committing Update stores it.
	root atomic.Pointer[node]
	// writer holds a token while an Update runs: write transactions run
	// one at a time, and one waiting for its turn still honours its context.
	writer chan struct{}
	// gen numbers write transactions; it is only touched holding writer.
	gen    uint64
	closed atomic.Bool
}

// New returns an empty store.
func New() *Store {
	return &Store{writer: make(chan struct{}, 1)}
}

// View runs fn in a read-only transaction over the snapshot committed when
// View began. It never waits for writers, and writers never wait for it.
func (s *Store) View(ctx context.Context, fn func(meta.Tx) error) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	t := &tx{tree: tree{root: s.root.Load()}}
	defer t.end()
	return fn(t)
}

// Update runs fn in a read-write transaction. Updates run one at a time, in
// the order they acquire the writer slot, so fn runs exactly once and never
// conflicts. fn changes a private copy of the tree's touched nodes; when fn
// returns nil the new root is published in one atomic store, and when it
// returns an error (or panics) the copy is dropped.
func (s *Store) Update(ctx context.Context, fn func(meta.Tx) error) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("meta/memory: waiting to write: %w", ctx.Err())
	}
	defer func() { <-s.writer }()
	// The wait may have been long: check again before running fn.
	if err := s.ready(ctx); err != nil {
		return err
	}
	s.gen++
	t := &tx{tree: tree{root: s.root.Load(), gen: s.gen}, writable: true}
	defer t.end()
	if err := fn(t); err != nil {
		return err
	}
	s.root.Store(t.root)
	return nil
}

// Close drops the store's contents. Later transactions fail with an error
// wrapping meta.ErrUnavailable; transactions already running finish on
// their snapshot. Close is idempotent.
func (s *Store) Close() error {
	s.closed.Store(true)
	s.root.Store(nil)
	return nil
}

// ready checks that a transaction may start.
func (s *Store) ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("meta/memory: %w", err)
	}
	if s.closed.Load() {
		return errClosed()
	}
	return nil
}

func errClosed() error {
	return fmt.Errorf("meta/memory: store is closed: %w", meta.ErrUnavailable)
}

// tx is a transaction: a read-only one reads a published tree; a writable
// one builds the next tree in place of nodes it owns.
type tx struct {
	tree
	writable bool
	scanning int  // Scan calls in progress; writes are refused meanwhile
	done     bool // the function the tx was passed to has returned
}

func (t *tx) end() { t.done = true }

// Get returns the value under key. The slice is shared with the store: it
// stays intact after the transaction, but must not be modified.
func (t *tx) Get(key []byte) ([]byte, error) {
	if err := t.check("get", key); err != nil {
		return nil, err
	}
	v, ok := get(t.root, key)
	if !ok {
		return nil, meta.NewKeyError(backend, "get", key, "", meta.ErrNotFound)
	}
	return v, nil
}

// Put stores a copy of key and value.
func (t *tx) Put(key, value []byte) error {
	if err := t.checkWrite("put", key); err != nil {
		return err
	}
	// One allocation holds both; capacities are clipped so an append by a
	// reader cannot spill from the key into the value.
	buf := make([]byte, len(key)+len(value))
	n := copy(buf, key)
	copy(buf[n:], value)
	t.put(item{key: buf[:n:n], val: buf[n:]})
	return nil
}

// Delete removes key.
func (t *tx) Delete(key []byte) error {
	if err := t.checkWrite("delete", key); err != nil {
		return err
	}
	t.delete(key)
	return nil
}

// Scan walks r. It refuses writes while fn runs: the walk holds positions in
// nodes that a write could change in place.
func (t *tx) Scan(r meta.Range, fn func(key, value []byte) bool) error {
	if t.done {
		return meta.NewKeyError(backend, "scan", nil, "transaction has ended", meta.ErrInvalid)
	}
	if fn == nil {
		return meta.NewKeyError(backend, "scan", nil, "nil function", meta.ErrInvalid)
	}
	if t.root == nil {
		return nil
	}
	t.scanning++
	defer func() { t.scanning-- }()
	if r.Reverse {
		descend(t.root, r.Start, r.End, fn)
	} else {
		ascend(t.root, r.Start, r.End, fn)
	}
	return nil
}

// check validates a read of key.
func (t *tx) check(op string, key []byte) error {
	return meta.CheckCall(backend, op, key, t.state(), false)
}

// checkWrite validates a write of key.
func (t *tx) checkWrite(op string, key []byte) error {
	return meta.CheckCall(backend, op, key, t.state(), true)
}

func (t *tx) state() meta.TxState {
	return meta.TxState{Done: t.done, Writable: t.writable, Scanning: t.scanning > 0}
}
