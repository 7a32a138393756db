package fs

import (
	"context"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// publish makes the verified file f, at path, the blob d: unless d already
// exists, it fsyncs f, renames it into blobs/ and fsyncs the directory. It
// reports whether path was consumed (renamed away, or obsolete because d
// exists), so the caller can end the upload.
func (s *Store) publish(f *os.File, path string, d digest.Digest) (blob.Info, bool, error) {
	target := s.blobPath(d)
	if fi, err := os.Stat(target); err == nil && fi.Mode().IsRegular() {
		return blob.Info{Digest: d, Size: fi.Size(), CreatedAt: fi.ModTime()}, true, nil
	}
	now := time.Now()
	// The modification time is the blob's CreatedAt.
	if err := os.Chtimes(path, now, now); err != nil {
		return blob.Info{}, false, ioError("commit "+d.String(), err)
	}
	if err := f.Sync(); err != nil {
		return blob.Info{}, false, ioError("sync "+d.String(), err)
	}
	fi, err := f.Stat()
	if err != nil {
		return blob.Info{}, false, ioError("stat "+d.String(), err)
	}
	dir := filepath.Dir(target)
	if err := s.ensureDir(dir); err != nil {
		return blob.Info{}, false, ioError("create "+dir, err)
	}
	if err := os.Rename(path, target); err != nil {
		return blob.Info{}, false, ioError("commit "+d.String(), err)
	}
	if err := syncDir(dir); err != nil {
		return blob.Info{}, true, ioError("sync "+dir, err)
	}
	return blob.Info{Digest: d, Size: fi.Size(), CreatedAt: fi.ModTime()}, true, nil
}

// Put implements blob.Putter: it streams r into a temporary file in tmp/,
// hashing with expected's algorithm as it writes, verifies, and publishes
// the file, without creating an upload. If the blob already exists, it only
// verifies r and writes nothing.
func (s *Store) Put(ctx context.Context, expected digest.Digest, size int64, r io.Reader) (blob.Info, error) {
	d, err := parse(ctx, expected)
	if err != nil {
		return blob.Info{}, err
	}
	if fi, err := os.Stat(s.blobPath(d)); err == nil && fi.Mode().IsRegular() {
		return verifyExisting(ctx, d, size, r, fi)
	}
	f, err := os.CreateTemp(s.tmp, "put-*.tmp")
	if err != nil {
		return blob.Info{}, ioError("create temporary file", err)
	}
	path := f.Name()
	// CreateTemp makes the file private; blobs are as readable as uploads.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(path)
		return blob.Info{}, ioError("chmod temporary file", err)
	}
	consumed := false
	defer func() {
		f.Close()
		if !consumed {
			_ = os.Remove(path)
		}
	}()
	h := d.Algorithm().Hash()
	k := newSink(f, path, s.direct, 0)
	defer k.close()
	n, err := s.copyHashed(ctx, k, h, r, size)
	if err != nil {
		return blob.Info{}, err
	}
	if size >= 0 && n != size {
		return blob.Info{}, errorf(blob.ErrSizeMismatch, "content holds %d bytes, expected %d", n, size)
	}
	if got := blob.FormatDigest(d.Algorithm(), h); got != d {
		return blob.Info{}, errorf(blob.ErrDigestMismatch, "content hashes to %s, expected %s", got, d)
	}
	info, consumed, err := s.publish(f, path, d)
	return info, err
}

// copyHashed writes r through k from offset 0 and into h, stopping once it
// has read one byte more than size (when size is not negative), and returns
// the count of bytes read. A reader that ends early counts as ended: the
// caller checks size and digest.
func (s *Store) copyHashed(ctx context.Context, k *sink, h hash.Hash, r io.Reader, size int64) (int64, error) {
	if size >= 0 {
		r = io.LimitReader(r, size+1)
	}
	res := s.pump(ctx, k, h, 0, r, nil)
	if res.writeErr != nil {
		return res.n, ioError("write "+k.f.Name(), res.writeErr)
	}
	if res.readErr != nil && res.readErr != io.ErrUnexpectedEOF {
		return res.n, res.readErr
	}
	return res.n, nil
}

// verifyExisting checks r against d and size without storing it, and
// returns the Info of the existing blob file fi.
func verifyExisting(ctx context.Context, d digest.Digest, size int64, r io.Reader, fi os.FileInfo) (blob.Info, error) {
	v, err := blob.NewVerifyingReader(r, d, size)
	if err != nil {
		return blob.Info{}, err
	}
	if _, err := blob.Copy(ctx, io.Discard, v); err != nil {
		return blob.Info{}, err
	}
	if !v.Verified() {
		// Copy stops at the reader's io.EOF, which comes only after a
		// successful verification; anything else was returned as err.
		return blob.Info{}, errorf(blob.ErrInvalid, "content of %s was not verified", d)
	}
	return blob.Info{Digest: d, Size: fi.Size(), CreatedAt: fi.ModTime()}, nil
}
