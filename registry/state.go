package registry

import (
	"context"

	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
)

// State is the persistent state of one extension (a package built on the
// registry, such as registry/access) inside the registry's metadata store:
// opaque values under string keys, in a namespace of the extension's own.
// Reads and writes are transactions of the metadata store, so they are as
// durable and atomic as the registry's own, and go through the same close
// gate: after Close began they fail with an error wrapping ErrUnavailable,
// and Close waits for those in flight.
//
// A namespace sees only its own keys: no key of another namespace and none
// of the registry's. Nothing checks who uses a namespace; extensions pick
// one each (their package name) and keep to it.
type State struct {
	r  *Registry
	ns string
}

// StateTx is one transaction over a State's namespace. It is valid only
// inside the function it was passed to and is not safe for concurrent use.
type StateTx interface {
	// Get returns a copy of the value under key, or an error wrapping
	// ErrNotFound when there is none.
	Get(key string) ([]byte, error)
	// Put stores value under key, replacing any value there. It fails with
	// an error wrapping ErrInvalid inside View.
	Put(key string, value []byte) error
	// Delete removes key; a missing key is not an error. It fails with an
	// error wrapping ErrInvalid inside View.
	Delete(key string) error
	// Scan calls fn with every key that starts with prefix ("" for every
	// key), in ascending byte order, and its value, until fn returns false.
	// The value is valid only during the call: copy it to keep it. fn must
	// not write through the transaction; collect keys and write after Scan.
	Scan(prefix string, fn func(key string, value []byte) bool) error
}

// MaxStateNamespace is the longest namespace State accepts.
const MaxStateNamespace = 64

// State returns the persistent state of namespace. A namespace is 1 to
// MaxStateNamespace lower-case letters and digits, in runs joined by single
// '.', '_' or '-' ("access", "webhooks", "soft-delete"); any other fails
// with an error wrapping ErrInvalid. A key is 1 byte or more, and at most
// meta.MaxKeySize - 3 - len(namespace) bytes.
func (r *Registry) State(namespace string) (*State, error) {
	if err := validateNamespace(namespace); err != nil {
		return nil, err
	}
	return &State{r: r, ns: namespace}, nil
}

// Namespace returns the state's namespace.
func (s *State) Namespace() string { return s.ns }

// View runs fn in a read-only transaction over a consistent snapshot of the
// namespace.
func (s *State) View(ctx context.Context, fn func(StateTx) error) error {
	if err := s.r.enter(); err != nil {
		return err
	}
	defer s.r.leave()
	return s.r.view(ctx, func(tx meta.Tx) error {
		return fn(&stateTx{tx: tx, ns: s.ns})
	})
}

// Update runs fn in a read-write transaction. If fn returns nil its writes
// commit atomically and durably before Update returns; if it returns an
// error nothing is written and Update returns that error. The transaction
// may be shared with concurrent registry writes (group commit) and fn may
// run more than once, so fn must have no effect outside the transaction:
// act on what it read after Update returns.
func (s *State) Update(ctx context.Context, fn func(StateTx) error) error {
	if err := s.r.enter(); err != nil {
		return err
	}
	defer s.r.leave()
	return s.r.update(ctx, func(t *txn) error {
		return fn(&stateTx{tx: t.Tx, ns: s.ns})
	})
}

// stateTx confines a meta.Tx to one namespace of table e.
type stateTx struct {
	tx meta.Tx
	ns string
}

func (t *stateTx) checkKey(k string) error {
	if k == "" {
		return errorf(ErrInvalid, "state %s: empty key", t.ns)
	}
	if max := meta.MaxKeySize - schema.StateKeyOverhead - len(t.ns); len(k) > max {
		return errorf(ErrInvalid, "state %s: key of %d bytes, over the limit of %d", t.ns, len(k), max)
	}
	return nil
}

func (t *stateTx) Get(k string) ([]byte, error) {
	if err := t.checkKey(k); err != nil {
		return nil, err
	}
	v, found, err := schema.States.Get(t.tx, t.ns, k)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errorf(ErrNotFound, "state %s: key %q", t.ns, truncate(k))
	}
	return v, nil
}

func (t *stateTx) Put(k string, v []byte) error {
	if err := t.checkKey(k); err != nil {
		return err
	}
	return schema.States.Put(t.tx, t.ns, k, v)
}

func (t *stateTx) Delete(k string) error {
	if err := t.checkKey(k); err != nil {
		return err
	}
	return schema.States.Delete(t.tx, t.ns, k)
}

func (t *stateTx) Scan(prefix string, fn func(k string, v []byte) bool) error {
	return schema.States.Scan(t.tx, t.ns, prefix, fn)
}

// validateNamespace checks a State namespace.
func validateNamespace(ns string) error {
	if ns == "" || len(ns) > MaxStateNamespace {
		return errorf(ErrInvalid, "state namespace %q: want 1 to %d characters", truncate(ns), MaxStateNamespace)
	}
	prevSep := true
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		switch {
		case alnum(c):
			prevSep = false
		case (c == '.' || c == '_' || c == '-') && !prevSep:
			prevSep = true
		default:
			return errorf(ErrInvalid, "state namespace %q: want lower-case letters and digits joined by single '.', '_' or '-'", truncate(ns))
		}
	}
	if prevSep {
		return errorf(ErrInvalid, "state namespace %q ends with a separator", truncate(ns))
	}
	return nil
}
