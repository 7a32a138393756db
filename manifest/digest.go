package manifest

import (
	// Link the hash implementations go-digest looks up, so sha256 and sha512
	// digests are available wherever this package is used.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// parseDigest validates s as a digest of an available algorithm. It accepts
// exactly what digest.Parse accepts, but checks sha256 and sha512 (almost
// every digest) without regular expressions. Errors wrap go-digest's error
// and ErrInvalid for malformed input or ErrUnsupported for an algorithm that
// is not available.
func parseDigest(s string) (digest.Digest, error) {
	d, err := checkDigest(s)
	switch {
	case err == nil:
		return d, nil
	case errors.Is(err, digest.ErrDigestUnsupported):
		return "", fmt.Errorf("%q: %w: %w", truncate(s), err, ErrUnsupported)
	default:
		return "", fmt.Errorf("%q: %w: %w", truncate(s), err, ErrInvalid)
	}
}

// checkDigest is parseDigest without a class: its error is go-digest's own
// (digest.ErrDigestInvalidFormat, ErrDigestInvalidLength,
// ErrDigestUnsupported), for callers that wrap it in a class of their own.
func checkDigest(s string) (digest.Digest, error) {
	var n int
	switch {
	case len(s) == 7+64 && s[:7] == "sha256:":
		n = 64
	case len(s) == 7+128 && s[:7] == "sha512:":
		n = 128
	}
	if n > 0 && lowerHex(s[len(s)-n:]) {
		return digest.Digest(s), nil
	}
	return digest.Parse(s)
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Verify checks that data is the content desc describes: as many bytes as
// desc.Size, hashing to desc.Digest with the digest's own algorithm (sha256
// and sha512 both work). The error wraps ErrSizeMismatch,
// ErrDigestMismatch, ErrInvalid (a malformed digest) or ErrUnsupported (an
// algorithm that is not available).
func Verify(desc ocispec.Descriptor, data []byte) error {
	d, err := parseDigest(string(desc.Digest))
	if err != nil {
		return errorf(err, "verify: digest")
	}
	if desc.Size != int64(len(data)) {
		return errorf(ErrSizeMismatch, "verify %s: descriptor says %d bytes, content has %d", d, desc.Size, len(data))
	}
	if got := d.Algorithm().FromBytes(data); got != d {
		return errorf(ErrDigestMismatch, "verify %s: content hashes to %s", d, got)
	}
	return nil
}

// digestString hashes s with alg without copying it.
func digestString(alg digest.Algorithm, s string) digest.Digest {
	h := alg.Digester()
	_, _ = io.WriteString(h.Hash(), s)
	return h.Digest()
}
