package blob

import (
	"encoding"
	"hash"

	"github.com/opencontainers/go-digest"
)

// MarshalHashState returns the running state of h, so that a durable
// backend can store it beside an upload and Resume it without reading the
// bytes again; nil when h cannot marshal its state (the standard library's
// SHA-256 and SHA-512 can).
func MarshalHashState(h hash.Hash) []byte {
	m, ok := h.(encoding.BinaryMarshaler)
	if !ok {
		return nil
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return nil
	}
	return b
}

// RestoreHashState returns a new hash of alg in the state that
// MarshalHashState returned, or false when the state is empty, belongs to
// another algorithm, is damaged, or alg is unavailable; the caller then
// hashes the upload's bytes again.
func RestoreHashState(alg digest.Algorithm, state []byte) (hash.Hash, bool) {
	if len(state) == 0 || !alg.Available() {
		return nil, false
	}
	h := alg.Hash()
	u, ok := h.(encoding.BinaryUnmarshaler)
	if !ok || u.UnmarshalBinary(state) != nil {
		return nil, false
	}
	return h, true
}
