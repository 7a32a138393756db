package manifest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/regkit/regkit/internal/errdef"
)

// Error classes returned by this package. They are the same values every
// regkit package exports, so one errors.Is check works everywhere.
var (
	// ErrInvalid: the manifest is malformed or breaks a rule of its specification.
	ErrInvalid = errdef.ErrInvalid
	// ErrUnsupported: a media type or digest algorithm this package does not handle.
	ErrUnsupported = errdef.ErrUnsupported
	// ErrTooLarge: the manifest is over the configured size limit.
	ErrTooLarge = errdef.ErrTooLarge
	// ErrDigestMismatch: content does not hash to the expected digest.
	ErrDigestMismatch = errdef.ErrDigestMismatch
	// ErrSizeMismatch: content is not as long as its descriptor says.
	ErrSizeMismatch = errdef.ErrSizeMismatch
	// ErrNotFound: no child of an index matches the wanted platform.
	ErrNotFound = errdef.ErrNotFound
)

// Specific errors, each in one of the classes above. They are declared as
// error (errdef.Error is internal): compare them with errors.Is.
var (
	// ErrMalformed: the bytes are not well-formed JSON (class ErrInvalid).
	ErrMalformed error = errdef.New("malformed JSON", ErrInvalid)
	// ErrDuplicateKey: an object holds the same key twice, or two keys that
	// differ only in case where one is a field the specification defines
	// (class ErrInvalid). encoding/json would silently pick one of them, so two
	// readers could disagree about what the manifest says.
	ErrDuplicateKey error = errdef.New("duplicate key", ErrInvalid)
	// ErrTrailingData: something other than white space follows the JSON value
	// (class ErrInvalid).
	ErrTrailingData error = errdef.New("data after the JSON value", ErrInvalid)
	// ErrMediaTypeMismatch: the body's mediaType field differs from the
	// declared media type (the Content-Type of a push) (class ErrInvalid).
	ErrMediaTypeMismatch error = errdef.New("media type does not match the content", ErrInvalid)
	// ErrNoMediaType: no media type was declared and none could be detected
	// from the content (class ErrInvalid).
	ErrNoMediaType error = errdef.New("cannot determine the media type", ErrInvalid)
	// ErrInvalidDigest: a descriptor's digest is malformed or uses an
	// algorithm that is not available (class ErrInvalid).
	ErrInvalidDigest error = errdef.New("invalid digest", ErrInvalid)
	// ErrUnknownMediaType: the declared media type is not a manifest type this
	// package knows and Options.AllowUnknown is false (class ErrUnsupported).
	ErrUnknownMediaType error = errdef.New("unknown manifest media type", ErrUnsupported)
	// ErrSchema1: a Docker schema 1 manifest while Options.AllowSchema1 is
	// false (class ErrUnsupported).
	ErrSchema1 error = errdef.New("docker schema 1 manifests are deprecated and not allowed", ErrUnsupported)
	// ErrNoMatchingPlatform: no child of an index runs on the wanted platform
	// (class ErrNotFound).
	ErrNoMatchingPlatform error = errdef.New("no manifest for the platform", ErrNotFound)
)

// errorf returns an error with the package prefix that wraps err (a class
// or a specific error above).
func errorf(err error, format string, args ...any) error {
	return fmt.Errorf("manifest: "+format+": %w", append(args, err)...)
}

// fieldError records where in the document an error was found. The path is
// built as the error travels up the decoder, so successful parses never pay
// for it.
type fieldError struct {
	path string
	err  error
}

// Error returns the path and the message.
func (e *fieldError) Error() string { return e.path + ": " + e.err.Error() }

// Unwrap returns the error found at the path.
func (e *fieldError) Unwrap() error { return e.err }

// atKey prefixes the path of err with an object key.
func atKey(key string, err error) error {
	key = quoteKey(key)
	if fe, ok := err.(*fieldError); ok {
		if strings.HasPrefix(fe.path, "[") {
			fe.path = key + fe.path
		} else {
			fe.path = key + "." + fe.path
		}
		return fe
	}
	return &fieldError{path: key, err: err}
}

// atIndex prefixes the path of err with an array index.
func atIndex(i int, err error) error {
	idx := "[" + strconv.Itoa(i) + "]"
	if fe, ok := err.(*fieldError); ok {
		if strings.HasPrefix(fe.path, "[") {
			fe.path = idx + fe.path
		} else {
			fe.path = idx + "." + fe.path
		}
		return fe
	}
	return &fieldError{path: idx, err: err}
}

// quoteKey keeps ordinary keys readable and quotes odd ones (and bounds
// their length, since they come from untrusted input).
func quoteKey(k string) string {
	if len(k) > 64 {
		k = k[:64] + "..."
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return strconv.Quote(k)
		}
	}
	if k == "" {
		return `""`
	}
	return k
}

// truncate keeps error messages short when input is huge.
func truncate(s string) string {
	const max = 100
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
