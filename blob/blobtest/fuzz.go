package blobtest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// Fuzz runs a fuzz target for uploads against st: the fuzzer chooses the
// content, where Write calls split it, the upload's algorithm, and the
// digest and size given to Commit (or to [blob.Put]). Nothing may panic,
// and a commit must succeed exactly when the digest is well formed and
// matches the content and the size matches (or is negative). A backend's
// FuzzWriter is one line:
//
//	func FuzzWriter(f *testing.F) { blobtest.Fuzz(f, memory.New()) }
func Fuzz(f *testing.F, st blob.Storage) {
	f.Add([]byte("hello"), []byte{2}, "", int64(5), uint8(0))
	f.Add([]byte("hello"), []byte{1, 1, 1}, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", int64(5), uint8(1))
	f.Add([]byte{}, []byte{}, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", int64(0), uint8(4))
	f.Add([]byte("trailing"), []byte{3}, "sha256:xyz", int64(-1), uint8(7))
	f.Add(bytes.Repeat([]byte("x"), 3000), []byte{255, 0, 17}, "sha512:", int64(2999), uint8(11))
	f.Fuzz(func(t *testing.T, data, cuts []byte, dgstStr string, size int64, mode uint8) {
		ctx := context.Background()
		alg := digest.SHA256
		if mode&1 != 0 {
			alg = digest.SHA512
		}
		// The digest: the right one (in either algorithm), one of a prefix,
		// or the fuzzer's string.
		var d digest.Digest
		switch (mode >> 1) % 4 {
		case 0:
			d = digest.SHA256.FromBytes(data)
		case 1:
			d = digest.SHA512.FromBytes(data)
		case 2:
			d = digest.SHA256.FromBytes(data[:len(data)/2])
		default:
			d = digest.Digest(dgstStr)
		}
		// The size: right, unchecked, or the fuzzer's.
		switch (mode >> 3) % 3 {
		case 0:
			size = int64(len(data))
		case 1:
			size = -1
		}
		parsed, perr := blob.ParseDigest(string(d))
		ok := perr == nil && parsed.Algorithm().FromBytes(data) == parsed && (size < 0 || size == int64(len(data)))

		var info blob.Info
		var err error
		if mode&0x40 != 0 {
			info, err = blob.Put(ctx, st, d, size, bytes.NewReader(data))
		} else {
			info, err = writeCommit(ctx, st, alg, data, cuts, d, size)
		}
		if ok != (err == nil) {
			t.Fatalf("commit of %d bytes as %.80q size %d: error %v, want success %v", len(data), d, size, err, ok)
		}
		if !ok {
			if class := classOf(err); class == nil {
				t.Fatalf("error %v wraps no blob error class", err)
			}
			return
		}
		if info.Digest != parsed || info.Size != int64(len(data)) {
			t.Fatalf("Commit = %+v, want %s size %d", info, parsed, len(data))
		}
		if err := verifyBlob(st, parsed, data); err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, parsed); err != nil && !errors.Is(err, blob.ErrNotFound) {
			t.Fatal(err)
		}
	})
}

// writeCommit writes data in pieces whose lengths come from cuts, then
// commits; on failure it aborts the upload.
func writeCommit(ctx context.Context, st blob.Storage, alg digest.Algorithm, data, cuts []byte, d digest.Digest, size int64) (blob.Info, error) {
	w, err := st.Writer(ctx, blob.WithAlgorithm(alg))
	if err != nil {
		return blob.Info{}, err
	}
	rest := data
	for i := 0; len(rest) > 0; i++ {
		n := len(rest)
		if i < len(cuts) {
			n = min(n, int(cuts[i])*int(cuts[i])) // 0..65025, zero-length writes included
		}
		if _, err := w.Write(rest[:n]); err != nil {
			w.Close()
			return blob.Info{}, err
		}
		rest = rest[n:]
	}
	info, err := w.Commit(ctx, d, size)
	w.Close()
	if err != nil {
		if aerr := st.Abort(ctx, w.ID()); aerr != nil {
			return blob.Info{}, errors.Join(err, aerr)
		}
	}
	return info, err
}

// classOf returns the blob error class err wraps, or nil.
func classOf(err error) error {
	for _, c := range []error{blob.ErrNotFound, blob.ErrInvalid, blob.ErrDigestMismatch, blob.ErrSizeMismatch,
		blob.ErrUnsupported, blob.ErrConflict, blob.ErrUnavailable, blob.ErrAlreadyExists} {
		if errors.Is(err, c) {
			return c
		}
	}
	return nil
}
