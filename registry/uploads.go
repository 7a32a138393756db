package registry

import (
	"context"
	"errors"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/registry/meta"
)

// Upload is an upload session of a repository: a blob.Writer bound to the
// repository that started it. Bytes written are invisible until Commit.
// Close pauses the session; Blobs.ResumeUpload continues it by ID, in this
// process or after a restart.
type Upload struct {
	repo *Repository
	w    blob.Writer
}

// StartUpload begins an upload session in the repository. opts choose the
// hash algorithm (default sha256).
func (b *Blobs) StartUpload(ctx context.Context, opts ...blob.WriterOption) (*Upload, error) {
	if err := b.checkWritable(ctx); err != nil {
		return nil, err
	}
	reg := b.repo.reg
	w, err := reg.blobs.Writer(ctx, opts...)
	if err != nil {
		return nil, err
	}
	err = reg.update(ctx, func(t *txn) error {
		if limit := reg.opts.maxUploads; limit > 0 {
			n := 0
			err := t.Scan(meta.Prefix(prefix(tSession)), func(_, _ []byte) bool {
				n++
				return n < limit
			})
			if err != nil {
				return err
			}
			if n >= limit {
				return errorf(ErrTooLarge, "%d upload sessions open, the limit", n)
			}
		}
		return putRec(t, key(tSession, w.ID()), &sessionRecord{Repository: b.repo.name, StartedAt: t.now})
	})
	if err != nil {
		_ = w.Close()
		_ = reg.blobs.Abort(ctx, w.ID())
		return nil, err
	}
	return &Upload{repo: b.repo, w: w}, nil
}

// ResumeUpload reopens the session id of this repository. It returns an
// error wrapping ErrBlobUploadUnknown when the session does not exist or
// belongs to another repository, and ErrConflict while another writer holds
// it.
func (b *Blobs) ResumeUpload(ctx context.Context, id string) (*Upload, error) {
	if err := b.ownSession(ctx, id); err != nil {
		return nil, err
	}
	w, err := b.repo.reg.blobs.Resume(ctx, id)
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
			return nil, errorf(ErrBlobUploadUnknown, "upload %q in %q", id, b.repo.name)
		}
		return nil, err
	}
	return &Upload{repo: b.repo, w: w}, nil
}

// CancelUpload discards the session id.
func (b *Blobs) CancelUpload(ctx context.Context, id string) error {
	if err := b.ownSession(ctx, id); err != nil {
		return err
	}
	reg := b.repo.reg
	err := reg.blobs.Abort(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return reg.update(ctx, func(t *txn) error { return t.Delete(key(tSession, id)) })
}

func (b *Blobs) ownSession(ctx context.Context, id string) error {
	if id == "" || len(id) > 256 {
		return errorf(ErrBlobUploadUnknown, "upload id of %d bytes", len(id))
	}
	return b.repo.reg.view(ctx, func(tx meta.Tx) error {
		var s sessionRecord
		ok, err := getRec(tx, key(tSession, id), &s)
		if err != nil {
			return err
		}
		if !ok || s.Repository != b.repo.name {
			return errorf(ErrBlobUploadUnknown, "upload %q in %q", truncate(id), b.repo.name)
		}
		return nil
	})
}

// ID names the session.
func (u *Upload) ID() string { return u.w.ID() }

// Size returns how many bytes the session holds; the next Write appends there.
func (u *Upload) Size() int64 { return u.w.Size() }

// Write appends p to the session.
func (u *Upload) Write(p []byte) (int, error) { return u.w.Write(p) }

// ReadFrom appends what r yields until io.EOF; io.Copy uses it. It is the
// fast way to feed a session from a network body: reading r overlaps the
// backend's hashing and writing (see blob.Copy). Any other error of r,
// io.ErrUnexpectedEOF included, is returned after the bytes read before it
// are appended.
func (u *Upload) ReadFrom(r io.Reader) (int64, error) {
	return blob.Copy(context.Background(), u.w, r)
}

// Close pauses the session, keeping its bytes for ResumeUpload.
func (u *Upload) Close() error { return u.w.Close() }

// Commit verifies the bytes against dgst and size (size < 0: unchecked),
// stores them and links the blob into the repository. On a mismatch the
// session stays open for the caller to cancel.
func (u *Upload) Commit(ctx context.Context, dgst digest.Digest, size int64) (blob.Info, error) {
	if err := validDigest(dgst); err != nil {
		return blob.Info{}, err
	}
	reg := u.repo.reg
	if err := reg.pin(ctx, dgst); err != nil {
		return blob.Info{}, err
	}
	info, err := u.w.Commit(ctx, dgst, size)
	if err != nil {
		return blob.Info{}, err
	}
	err = reg.update(ctx, func(t *txn) error {
		if err := t.Delete(key(tSession, u.w.ID())); err != nil {
			return err
		}
		return reg.link(t, u.repo.name, dgst)
	})
	return info, err
}
