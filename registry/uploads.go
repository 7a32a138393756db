package registry

import (
	"context"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/registry/internal/schema"
)

// Upload is an upload session of a repository: a blob.Writer bound to the
// repository that started it. Bytes written are invisible until Commit.
// Close pauses the session; Blobs.ResumeUpload continues it by ID, in this
// process or after a restart.
type Upload struct {
	repo *Repository
	w    blob.Writer
}

// ID names the session.
func (u *Upload) ID() string { return u.w.ID() }

// Size returns how many bytes the session holds; the next Write appends there.
func (u *Upload) Size() int64 { return u.w.Size() }

// Write appends p to the session.
func (u *Upload) Write(p []byte) (int, error) {
	if err := u.repo.reg.enter(); err != nil {
		return 0, err
	}
	defer u.repo.reg.leave()
	return u.w.Write(p)
}

// ReadFrom appends what r yields until io.EOF; io.Copy uses it. It is the
// fast way to feed a session from a network body: reading r overlaps the
// backend's hashing and writing (see blob.Copy). Any other error of r,
// io.ErrUnexpectedEOF included, is returned after the bytes read before it
// are appended.
func (u *Upload) ReadFrom(r io.Reader) (int64, error) {
	if err := u.repo.reg.enter(); err != nil {
		return 0, err
	}
	defer u.repo.reg.leave()
	return blob.Copy(context.Background(), u.w, r)
}

// Close pauses the session, keeping its bytes for ResumeUpload. It works
// after Registry.Close too, to release the session.
func (u *Upload) Close() error { return u.w.Close() }

// Commit verifies the bytes against dgst and size (size < 0: unchecked),
// stores them and links the blob into the repository. On a mismatch the
// session stays open for the caller to cancel.
func (u *Upload) Commit(ctx context.Context, dgst digest.Digest, size int64) (blob.Info, error) {
	if err := u.repo.reg.enter(); err != nil {
		return blob.Info{}, err
	}
	defer u.repo.reg.leave()
	if err := validDigest(dgst); err != nil {
		return blob.Info{}, err
	}
	reg := u.repo.reg
	if err := pin(ctx, reg, dgst); err != nil {
		return blob.Info{}, err
	}
	info, err := u.w.Commit(ctx, dgst, size)
	if err != nil {
		return blob.Info{}, err
	}
	err = reg.update(ctx, func(t *txn) error {
		if err := schema.Sessions.Delete(t, u.w.ID()); err != nil {
			return err
		}
		return link(t, u.repo.name, dgst)
	})
	return info, err
}
