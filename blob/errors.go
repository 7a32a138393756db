package blob

import (
	// Link the hash implementations go-digest looks up, so sha256 and sha512
	// digests are Available wherever this package is used.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/internal/errdef"
)

// Error classes returned by every Storage. They are the same values as
// regkit's other packages export, so one errors.Is check works everywhere.
var (
	// ErrNotFound: no committed blob or unfinished upload by that key.
	ErrNotFound = errdef.ErrNotFound
	// ErrInvalid: a malformed digest, ID or argument.
	ErrInvalid = errdef.ErrInvalid
	// ErrDigestMismatch: the written bytes do not hash to the expected digest.
	ErrDigestMismatch = errdef.ErrDigestMismatch
	// ErrSizeMismatch: the written bytes are not as many as expected.
	ErrSizeMismatch = errdef.ErrSizeMismatch
	// ErrUnsupported: a digest algorithm the storage cannot compute.
	ErrUnsupported = errdef.ErrUnsupported
	// ErrConflict: another Writer holds the upload.
	ErrConflict = errdef.ErrConflict
	// ErrUnavailable: the storage is closed or its medium failed.
	ErrUnavailable = errdef.ErrUnavailable
	// ErrAlreadyExists: the thing exists and the operation would create it
	// again. Storage methods do not return it for blobs (committing existing
	// content succeeds); code layered on Storage uses it, and it completes the
	// set callers switch on.
	ErrAlreadyExists = errdef.ErrAlreadyExists
)

func wrapf(class error, format string, args ...any) error {
	return fmt.Errorf("blob: "+format+": %w", append(args, class)...)
}

// ParseDigest validates s as a digest of an available algorithm (sha256 or
// sha512). It returns an error wrapping ErrInvalid for malformed input and
// ErrUnsupported for an unknown algorithm; it never panics, unlike the
// methods of a malformed digest.Digest.
func ParseDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err != nil {
		if err == digest.ErrDigestUnsupported {
			return "", wrapf(ErrUnsupported, "digest %q", truncate(s))
		}
		return "", wrapf(ErrInvalid, "digest %q: %v", truncate(s), err)
	}
	return d, nil
}

// truncate keeps error messages short when callers pass huge junk.
func truncate(s string) string {
	const max = 100
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
