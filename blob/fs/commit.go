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

// outcome says what publish did with the file it was given.
type outcome int

const (
	// kept: the file is where it was, whole, and may be published again.
	kept outcome = iota
	// consumed: the file was renamed into blobs/, or is not needed because
	// the blob exists.
	consumed
	// spoiled: fsync failed, so the file's bytes on disk are unknown (the
	// kernel may have dropped pages it could not write, and reading them
	// back would be answered from the page cache): discard the file.
	spoiled
)

// publish makes the verified file f, at path, the blob d: unless d already
// exists, it fsyncs f, renames it into blobs/ and fsyncs the directory.
// Before it reports success it also syncs any directory whose sync failed
// earlier (syncDirty). Its outcome tells the caller what became of path.
//
// A failed directory sync after the rename leaves the blob visible, whole
// and synced, but its name not yet durable: publish returns the error with
// outcome consumed, and a later publish of the same digest finds the blob
// and succeeds only once the directory sync does.
func (s *Store) publish(f file, path string, d digest.Digest) (blob.Info, outcome, error) {
	target := s.blobPath(d)
	if fi, err := os.Stat(target); err == nil && fi.Mode().IsRegular() {
		if err := s.syncDirty(); err != nil {
			return blob.Info{}, kept, err
		}
		return blob.Info{Digest: d, Size: fi.Size(), CreatedAt: fi.ModTime()}, consumed, nil
	}
	now := time.Now()
	// The modification time is the blob's CreatedAt.
	if err := s.fsys.Chtimes(path, now, now); err != nil {
		return blob.Info{}, kept, ioError("commit "+d.String(), err)
	}
	if err := f.Sync(); err != nil {
		return blob.Info{}, spoiled, ioError("sync "+d.String()+" (its upload is discarded)", err)
	}
	fi, err := f.Stat()
	if err != nil {
		return blob.Info{}, kept, ioError("stat "+d.String(), err)
	}
	dir := filepath.Dir(target)
	if err := s.ensureDir(dir); err != nil {
		return blob.Info{}, kept, ioError("create "+dir, err)
	}
	if err := s.fsys.Rename(path, target); err != nil {
		return blob.Info{}, kept, ioError("commit "+d.String(), err)
	}
	if err := s.syncDir(dir); err != nil {
		return blob.Info{}, consumed, ioError("sync "+dir, err)
	}
	if err := s.syncDirty(); err != nil {
		return blob.Info{}, consumed, err
	}
	return blob.Info{Digest: d, Size: fi.Size(), CreatedAt: fi.ModTime()}, consumed, nil
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
		info, err := verifyExisting(ctx, d, size, r, fi)
		if err == nil {
			err = s.syncDirty()
		}
		return info, err
	}
	f, err := s.fsys.CreateTemp(s.tmp, "put-*.tmp")
	if err != nil {
		return blob.Info{}, ioError("create temporary file", err)
	}
	path := f.Name()
	// CreateTemp makes the file private; blobs are as readable as uploads.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		_ = s.fsys.Remove(path)
		return blob.Info{}, ioError("chmod temporary file", err)
	}
	out := kept
	defer func() {
		f.Close()
		if out != consumed {
			_ = s.fsys.Remove(path)
		}
	}()
	h := d.Algorithm().Hash()
	k := newSink(s.fsys, f, path, s.direct, s.back, 0)
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
	info, out, err := s.publish(f, path, d)
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
