package schema

import (
	"errors"

	"github.com/regkit/regkit/registry/meta"
)

// tState tags table e: extension state, the persistent state of packages
// built on the registry (registry.State), one namespace each.
//
//	e 0 namespace 0 key               a value an extension stored (opaque bytes)
//
// A namespace contains no 0x00, so a scan of one never reaches another.
const tState = 'e'

// StateTable is table e: opaque values under (namespace, key).
type StateTable struct{}

// States is the extension state table.
var States StateTable

// StateKeyOverhead is how many bytes of a key the table tag, the namespace's
// separators and the namespace take beyond the namespace's own length: a
// key's part may be at most meta.MaxKeySize - StateKeyOverhead - len(ns).
const StateKeyOverhead = 3

// Get returns a copy of the value under key in ns; found is false when
// there is none.
func (StateTable) Get(tx meta.Tx, ns, k string) (v []byte, found bool, err error) {
	b, err := tx.Get(key(tState, ns, k))
	if errors.Is(err, meta.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return append([]byte{}, b...), true, nil
}

// Put stores v under key in ns.
func (StateTable) Put(tx meta.Tx, ns, k string, v []byte) error {
	return tx.Put(key(tState, ns, k), v)
}

// Delete removes key from ns; a missing key is not an error.
func (StateTable) Delete(tx meta.Tx, ns, k string) error {
	return tx.Delete(key(tState, ns, k))
}

// Scan calls fn with every key of ns that starts with p, in key order, and
// its value (valid only during the call), until fn returns false.
func (StateTable) Scan(tx meta.Tx, ns, p string, fn func(k string, v []byte) bool) error {
	base := prefix(tState, ns)
	start := append(append([]byte{}, base...), p...)
	return tx.Scan(meta.Prefix(start), func(k, v []byte) bool {
		return fn(string(k[len(base):]), v)
	})
}
