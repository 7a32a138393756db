package errdef

import "errors"

// The classes. Each names a reason a caller can act on.
var (
	// ErrNotFound: the named thing does not exist (or is not visible to the caller).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: the thing exists and the operation would create it again.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalid: the input is malformed or breaks a rule (name grammar, digest
	// syntax, manifest schema, range, parameter).
	ErrInvalid = errors.New("invalid argument")
	// ErrDigestMismatch: content does not hash to the digest the caller gave.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch: content is not as long as the caller said.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrTooLarge: the input is over a configured limit.
	ErrTooLarge = errors.New("too large")
	// ErrUnsupported: the request is well formed but names something regkit does
	// not handle (an unknown media type, a digest algorithm that is not available).
	ErrUnsupported = errors.New("unsupported")
	// ErrLocked: a changeable attribute (writeEnabled, deleteEnabled, readEnabled)
	// forbids the operation; ACR answers REGISTRY_DISALLOWED_OPERATION.
	ErrLocked = errors.New("operation disallowed by lock")
	// ErrConflict: a concurrent change won (compare-and-swap lost, upload in use
	// by another writer); retrying may succeed.
	ErrConflict = errors.New("conflict")
	// ErrPrecondition: the state does not allow the operation (a referenced blob
	// is missing, an upload offset is not where the caller says).
	ErrPrecondition = errors.New("failed precondition")
	// ErrUnauthorized: the caller is not authenticated.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrDenied: the caller is authenticated but not allowed.
	ErrDenied = errors.New("denied")
	// ErrUnavailable: the backend cannot serve now (closed, I/O failure, shutting down).
	ErrUnavailable = errors.New("unavailable")
)

// Error is a named error that belongs to a class. It lets a package declare a
// specific sentinel (manifest.ErrUnknownMediaType) that still matches its class
// (errdef.ErrUnsupported) under errors.Is.
type Error struct {
	msg   string
	class error
}

// New returns a sentinel with the given message in the given class. It
// returns an error, not an *Error, so a public package's sentinel
// (var ErrX = errdef.New(...)) has type error and go doc and editors show
// no internal type.
func New(msg string, class error) error { return &Error{msg: msg, class: class} }

// Error returns the message.
func (e *Error) Error() string { return e.msg }

// Unwrap returns the class, so errors.Is matches both the sentinel and its class.
func (e *Error) Unwrap() error { return e.class }

// Classes lists every class, in a stable order, for mappings and tests.
func Classes() []error {
	return []error{
		ErrNotFound, ErrAlreadyExists, ErrInvalid, ErrDigestMismatch, ErrSizeMismatch,
		ErrTooLarge, ErrUnsupported, ErrLocked, ErrConflict, ErrPrecondition,
		ErrUnauthorized, ErrDenied, ErrUnavailable,
	}
}

// Class returns the class err belongs to, or nil when it wraps none. An
// error that wraps ErrUnavailable is of that class whatever its cause wraps:
// the backend failed, whatever it was doing.
func Class(err error) error {
	if errors.Is(err, ErrUnavailable) {
		return ErrUnavailable
	}
	for _, c := range Classes() {
		if errors.Is(err, c) {
			return c
		}
	}
	return nil
}
