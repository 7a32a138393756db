package bolt

import "fmt"

// keyError reports a failed operation on a key. It formats lazily: a missing
// key is a common answer, and building its message on every miss would cost
// more than the lookup.
type keyError struct {
	op    string
	key   []byte // a private copy, clipped
	msg   string
	class error
}

func (e *keyError) Error() string {
	s := "meta/bolt: " + e.op
	if e.key != nil {
		s += fmt.Sprintf(" %q", e.key)
	}
	if e.msg != "" {
		s += ": " + e.msg
	}
	return s + ": " + e.class.Error()
}

func (e *keyError) Unwrap() error { return e.class }

// clip returns a copy of at most the first 64 bytes of key, for messages.
func clip(key []byte) []byte {
	const max = 64
	if len(key) > max {
		key = key[:max]
	}
	return append([]byte{}, key...)
}
