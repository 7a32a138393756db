package meta

import "fmt"

// Helpers for Store implementations, so every backend validates calls and
// reports key errors alike. The registry itself never needs them.

// KeyError reports a failed operation on a key. It formats lazily: a
// missing key is a common answer, and building its message on every miss
// would cost more than the lookup.
type KeyError struct {
	// Backend names the store in messages ("meta/bolt").
	Backend string
	// Op is the operation: get, put, delete, scan.
	Op string
	// Key is a private copy of at most the first 64 bytes of the key.
	Key []byte
	// Msg adds detail; may be empty.
	Msg string
	// Class is the error class (ErrNotFound, ErrInvalid, ...).
	Class error
}

// NewKeyError returns a KeyError holding a clipped copy of key.
func NewKeyError(backend, op string, key []byte, msg string, class error) *KeyError {
	return &KeyError{Backend: backend, Op: op, Key: clip(key), Msg: msg, Class: class}
}

// Error formats the message.
func (e *KeyError) Error() string {
	s := e.Backend + ": " + e.Op
	if e.Key != nil {
		s += fmt.Sprintf(" %q", e.Key)
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s + ": " + e.Class.Error()
}

// Unwrap returns the class.
func (e *KeyError) Unwrap() error { return e.Class }

// TxState is what a backend knows about a transaction when it validates a
// call.
type TxState struct {
	// Done: the transaction's function has returned.
	Done bool
	// Writable: an Update, not a View.
	Writable bool
	// Scanning: a Scan callback is running.
	Scanning bool
}

// CheckCall validates a call on key (write: Put or Delete) against the
// rules every Store shares: a live transaction, a key of 1 to MaxKeySize
// bytes, and writes only in Update and never inside Scan. Errors wrap
// ErrInvalid.
func CheckCall(backend, op string, key []byte, st TxState, write bool) error {
	switch {
	case st.Done:
		return NewKeyError(backend, op, key, "transaction has ended", ErrInvalid)
	case len(key) == 0:
		return NewKeyError(backend, op, nil, "empty key", ErrInvalid)
	case len(key) > MaxKeySize:
		return NewKeyError(backend, op, key, fmt.Sprintf("key of %d bytes is over %d", len(key), MaxKeySize), ErrInvalid)
	case write && !st.Writable:
		return NewKeyError(backend, op, key, "read-only transaction", ErrInvalid)
	case write && st.Scanning:
		return NewKeyError(backend, op, key, "write inside Scan", ErrInvalid)
	}
	return nil
}

// clip returns a copy of at most the first 64 bytes of key, for messages.
func clip(key []byte) []byte {
	if key == nil {
		return nil
	}
	const max = 64
	if len(key) > max {
		key = key[:max]
	}
	return append([]byte{}, key...)
}
