package compress

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Kind is a compression format.
type Kind int

// The formats Detect tells apart.
const (
	// None: no compression Detect recognises (an uncompressed tar, or
	// something unknown).
	None Kind = iota
	// Gzip: RFC 1952, magic 1f 8b.
	Gzip
	// Zstd: RFC 8878, a frame (magic 28 b5 2f fd) or a skippable frame
	// (magic 5? 2a 4d 18) first.
	Zstd
)

// MagicLen is how many leading bytes Detect needs to recognise every Kind.
const MagicLen = 4

// MaxZstdWindow bounds the window a zstd stream may ask the decoder for,
// so hostile input cannot make it allocate without limit. 128 MiB covers
// "zstd --long" (2^27).
const MaxZstdWindow = 128 << 20

// String returns the format's name.
func (k Kind) String() string {
	switch k {
	case None:
		return "none"
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Detect returns the compression format prefix starts with. It needs
// MagicLen bytes for zstd and 2 for gzip; shorter input is None.
func Detect(prefix []byte) Kind {
	switch {
	case len(prefix) >= 2 && prefix[0] == 0x1f && prefix[1] == 0x8b:
		return Gzip
	case len(prefix) >= 4 && prefix[0] == 0x28 && prefix[1] == 0xb5 && prefix[2] == 0x2f && prefix[3] == 0xfd:
		return Zstd
	case len(prefix) >= 4 && prefix[0]&0xf0 == 0x50 && prefix[1] == 0x2a && prefix[2] == 0x4d && prefix[3] == 0x18:
		return Zstd
	}
	return None
}

// NewReader returns a reader of the decompressed content of r, which is
// compressed with k; for None it returns r unchanged. Closing the reader
// releases the decompressor, not r. Corrupt input fails on Read.
func NewReader(k Kind, r io.Reader) (io.ReadCloser, error) {
	switch k {
	case None:
		return io.NopCloser(r), nil
	case Gzip:
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("compress: gzip header: %w", err)
		}
		return z, nil
	case Zstd:
		z, err := zstd.NewReader(r,
			zstd.WithDecoderConcurrency(1), // stream in the caller's goroutine
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(MaxZstdWindow))
		if err != nil {
			return nil, fmt.Errorf("compress: zstd: %w", err)
		}
		return z.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("compress: unknown kind %d", int(k))
}

// Decompress detects the compression of r from its first bytes and returns
// a reader of the decompressed content with the detected Kind. Content
// that is not compressed is returned as it is.
func Decompress(r io.Reader) (io.ReadCloser, Kind, error) {
	br := bufio.NewReader(r)
	prefix, err := br.Peek(MagicLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, None, fmt.Errorf("compress: read: %w", err)
	}
	k := Detect(prefix)
	rc, err := NewReader(k, br)
	return rc, k, err
}
