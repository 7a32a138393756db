package meta

import (
	"context"

	"github.com/regkit/regkit/internal/errdef"
)

// Error classes returned by every Store; the same values as regkit's other
// packages export.
var (
	// ErrNotFound: Get found no value under the key.
	ErrNotFound = errdef.ErrNotFound
	// ErrInvalid: an empty key, or a write in a read-only transaction.
	ErrInvalid = errdef.ErrInvalid
	// ErrConflict: the transaction lost to a concurrent one and retries ran out.
	ErrConflict = errdef.ErrConflict
	// ErrUnavailable: the store is closed or its medium failed.
	ErrUnavailable = errdef.ErrUnavailable
)

// Store is an ordered, transactional key-value store: the registry's
// metadata lives here, in a key layout the registry owns. Keys and values are
// opaque bytes; keys sort bytewise.
//
// The interface asks only for what an embedded B-tree (bbolt), a map under a
// lock and a SQL table with serializable transactions can all do: no
// watches, no TTLs, no backend-specific behaviour.
//
// A Store is safe for concurrent use. The fn of View or Update must not start
// another transaction on the same Store: backends that serialize writers or
// pin snapshots may deadlock.
type Store interface {
	// View runs fn in a read-only transaction over a consistent snapshot.
	// Writes inside fn return an error wrapping ErrInvalid.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction. If fn returns nil the
	// writes commit atomically and durably; if it returns an error nothing
	// is written and Update returns that error. A backend may run fn more
	// than once when a concurrent transaction conflicts, so fn must have no
	// effect outside the transaction (collect side effects, act after Update
	// returns).
	Update(ctx context.Context, fn func(Tx) error) error
	// Close releases the store. Transactions after Close fail with an error
	// wrapping ErrUnavailable.
	Close() error
}

// MaxKeySize is the longest key, in bytes, every Store accepts. It keeps
// keys portable: bbolt, PostgreSQL B-tree indexes and others all have limits
// above it, so a key that works on one backend works on all.
const MaxKeySize = 1024

// Tx is one transaction. It is not safe for concurrent use and is invalid
// after the function it was passed to returns: methods called later fail
// with an error wrapping ErrInvalid. Byte slices a Tx returns are valid only
// until then and must not be modified: copy them to keep or change them.
// Slices passed to Put may be reused by the caller after Put returns.
//
// A key must be 1 to MaxKeySize bytes long; Get, Put and Delete fail with an
// error wrapping ErrInvalid otherwise. A value may be empty.
type Tx interface {
	// Get returns the value stored under key, or an error wrapping ErrNotFound.
	// The value of an empty entry may be nil; test the error, not the slice.
	Get(key []byte) ([]byte, error)
	// Put stores value under key, replacing any value there.
	Put(key, value []byte) error
	// Delete removes key. Deleting a missing key is not an error.
	Delete(key []byte) error
	// Scan calls fn for each key in r, in ascending key order (descending when
	// r.Reverse is set), until fn returns false or the range ends. Writes made
	// earlier in the same transaction are visible. fn must not write through
	// the Tx (a write there fails with an error wrapping ErrInvalid); collect
	// keys and write after Scan returns.
	Scan(r Range, fn func(key, value []byte) bool) error
}

// Range selects keys Start <= key < End. An empty (nil or zero-length) Start
// begins at the first key; an empty End runs to the last. A Range whose Start
// is not below its End is empty. Use [Prefix] for every key with a prefix.
type Range struct {
	// Start is the first key included.
	Start []byte
	// End is the first key excluded.
	End []byte
	// Reverse visits keys from the last to the first.
	Reverse bool
}

// Prefix returns the Range of every key that starts with p.
func Prefix(p []byte) Range {
	return Range{Start: p, End: PrefixEnd(p)}
}

// PrefixEnd returns the smallest key greater than every key that starts with
// p, or nil when there is none (p is empty or all 0xff).
func PrefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// HealthReporter is implemented by a Store that can fail as a whole: after a
// failed flush to its medium, a failed checkpoint, or once it is closed.
// Hosts (through registry.Registry.Health) use it for health checks.
type HealthReporter interface {
	// Health returns nil while the store serves reads and writes. Otherwise
	// it returns an error wrapping ErrUnavailable and, when there is one,
	// the cause (errors.Is(err, syscall.EIO) holds through it), saying
	// whether the store still serves reads (read-only) or nothing (closed).
	Health() error
}
