package bolt

import (
	"bytes"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/regkit/regkit/registry/meta"
)

// tx adapts a bbolt transaction's kv bucket to meta.Tx, adding the checks
// that make it behave like every other backend: key length, read-only
// transactions, writes during Scan and use after the transaction.
type tx struct {
	b        *bbolt.Bucket
	writable bool
	scanning int
	done     bool
}

func (t *tx) end() { t.done = true }

// Get returns the value under key; it points into the mapped file.
func (t *tx) Get(key []byte) ([]byte, error) {
	if err := t.check("get", key); err != nil {
		return nil, err
	}
	k, v := t.b.Cursor().Seek(key)
	if !bytes.Equal(k, key) {
		return nil, meta.NewKeyError(backend, "get", key, "", meta.ErrNotFound)
	}
	return v, nil
}

// Put stores key and a copy of value. bbolt copies the key itself but keeps
// the value slice until commit, and the caller may reuse it at once.
func (t *tx) Put(key, value []byte) error {
	if err := t.checkWrite("put", key); err != nil {
		return err
	}
	v := make([]byte, len(value))
	copy(v, value)
	if err := t.b.Put(key, v); err != nil {
		return fmt.Errorf("%w: %w", meta.NewKeyError(backend, "put", key, "", meta.ErrInvalid), err)
	}
	return nil
}

// Delete removes key.
func (t *tx) Delete(key []byte) error {
	if err := t.checkWrite("delete", key); err != nil {
		return err
	}
	if err := t.b.Delete(key); err != nil {
		return fmt.Errorf("%w: %w", meta.NewKeyError(backend, "delete", key, "", meta.ErrInvalid), err)
	}
	return nil
}

// Scan walks r with a bbolt cursor. Writes are refused meanwhile: bbolt's
// cursors do not survive changes to the bucket under them.
func (t *tx) Scan(r meta.Range, fn func(key, value []byte) bool) error {
	if err := checkScan(t.done, fn); err != nil {
		return err
	}
	t.scanning++
	defer func() { t.scanning-- }()
	scanBucket(t.b, r, fn)
	return nil
}

// checkScan validates a Scan call of a transaction that may have ended.
func checkScan(done bool, fn func(key, value []byte) bool) error {
	if done {
		return meta.NewKeyError(backend, "scan", nil, "transaction has ended", meta.ErrInvalid)
	}
	if fn == nil {
		return meta.NewKeyError(backend, "scan", nil, "nil function", meta.ErrInvalid)
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
