package blob

import (
	"errors"
	"hash"
	"io"

	"github.com/opencontainers/go-digest"
)

// VerifyingReader passes through the bytes of an underlying reader while
// hashing and counting them, and reports io.EOF only once they are exactly
// the expected content. Anything else ends the stream with an error instead
// of io.EOF:
//
//   - fewer bytes than the expected size: ErrSizeMismatch;
//   - more bytes than the expected size (trailing data): ErrSizeMismatch,
//     after at most one byte past the size has been read from the source;
//   - the right length but another digest: ErrDigestMismatch.
//
// A consumer that copies a VerifyingReader to completion and sees no error
// therefore got verified content; one that stops early got nothing verified.
// It is not safe for concurrent use.
type VerifyingReader struct {
	r        io.Reader
	expected digest.Digest
	size     int64 // negative: unknown
	h        hash.Hash
	n        int64
	err      error // sticky: the verdict once reached
}

// NewVerifyingReader returns a reader that verifies r against expected and
// size (a negative size accepts any length). It returns an error wrapping
// ErrInvalid or ErrUnsupported when expected is malformed.
func NewVerifyingReader(r io.Reader, expected digest.Digest, size int64) (*VerifyingReader, error) {
	d, err := ParseDigest(string(expected))
	if err != nil {
		return nil, err
	}
	return &VerifyingReader{r: r, expected: d, size: size, h: d.Algorithm().Hash()}, nil
}

// Read implements io.Reader. It returns io.EOF only after verification
// succeeded, and otherwise an error wrapping ErrSizeMismatch,
// ErrDigestMismatch or the source's own error.
func (v *VerifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.size >= 0 {
		if v.n == v.size {
			v.err = v.finish()
			return 0, v.err
		}
		if rem := v.size - v.n; int64(len(p)) > rem {
			p = p[:rem]
		}
	}
	n, err := v.r.Read(p)
	v.n += int64(n)
	v.h.Write(p[:n])
	switch {
	case errors.Is(err, io.EOF):
		if v.size >= 0 && v.n < v.size {
			v.err = wrapf(ErrSizeMismatch, "content ended after %d of %d bytes", v.n, v.size)
		} else {
			v.err = v.check()
		}
		if n > 0 && v.err == io.EOF {
			return n, nil
		}
		return n, v.err
	case err != nil:
		v.err = err
		return n, err
	}
	return n, nil
}

// finish runs once size bytes were read: it probes for trailing data, then
// checks the digest.
func (v *VerifyingReader) finish() error {
	var probe [1]byte
	for range maxEmptyReads {
		n, err := v.r.Read(probe[:])
		if n > 0 {
			return wrapf(ErrSizeMismatch, "content is longer than %d bytes", v.size)
		}
		if errors.Is(err, io.EOF) {
			return v.check()
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// maxEmptyReads bounds how often a source may return (0, nil) in a row.
const maxEmptyReads = 100

func (v *VerifyingReader) check() error {
	if got := FormatDigest(v.expected.Algorithm(), v.h); got != v.expected {
		return wrapf(ErrDigestMismatch, "content hashes to %s, expected %s", got, v.expected)
	}
	return io.EOF
}

// Verified reports whether the whole content was read and matched.
func (v *VerifyingReader) Verified() bool { return v.err == io.EOF }

// Size returns how many bytes were read so far.
func (v *VerifyingReader) Size() int64 { return v.n }
