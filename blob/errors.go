package blob

import (
	// Link the hash implementations go-digest looks up, so sha256 and sha512
	// digests are Available wherever this package is used.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"

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

// wrapf returns an error "blob: <format>: <class>" that wraps class, and
// also every cause the format wraps with %w.
func wrapf(class error, format string, args ...any) error {
	return fmt.Errorf("blob: "+format+": %w", append(args, class)...)
}

// ParseDigest validates s as a digest of an available algorithm (sha256 or
// sha512). It returns an error wrapping ErrInvalid for malformed input and
// ErrUnsupported for an unknown algorithm; it never panics, unlike the
// methods of a malformed digest.Digest.
func ParseDigest(s string) (digest.Digest, error) {
	if fastValid(s) {
		return digest.Digest(s), nil
	}
	d, err := digest.Parse(s)
	if err != nil {
		if errors.Is(err, digest.ErrDigestUnsupported) {
			return "", wrapf(ErrUnsupported, "digest %q: %w", truncate(s), err)
		}
		return "", wrapf(ErrInvalid, "digest %q: %w", truncate(s), err)
	}
	return d, nil
}

// fastValid accepts the common digests without go-digest's regular
// expressions: a linked algorithm of go-digest's (sha256, sha384, sha512)
// and exactly twice its size in lowercase hex digits. It accepts nothing
// digest.Parse rejects; everything else goes to digest.Parse.
func fastValid(s string) bool {
	alg, enc, ok := strings.Cut(s, ":")
	if !ok {
		return false
	}
	var size int
	switch digest.Algorithm(alg) {
	case digest.SHA256:
		size = 32
	case digest.SHA384:
		size = 48
	case digest.SHA512:
		size = 64
	default:
		return false
	}
	if len(enc) != 2*size {
		return false
	}
	for i := 0; i < len(enc); i++ {
		if c := enc[i]; c-'0' > 9 && c-'a' > 5 { // unsigned: one compare per range
			return false
		}
	}
	return true
}

// FormatDigest returns the digest of h's current sum in alg, like
// digest.NewDigest but without fmt, for hot paths.
func FormatDigest(alg digest.Algorithm, h hash.Hash) digest.Digest {
	var buf [64]byte
	sum := h.Sum(buf[:0])
	out := make([]byte, 0, len(alg)+1+2*len(sum))
	out = append(out, alg...)
	out = append(out, ':')
	out = hex.AppendEncode(out, sum)
	return digest.Digest(out)
}

// truncate keeps error messages short when callers pass huge junk.
func truncate(s string) string {
	const max = 100
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
