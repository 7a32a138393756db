package registry

import (
	"context"
	"errors"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/tag"
)

// Blobs are a repository's blob operations. A repository reads only blobs
// linked into it, by an upload or a mount; the bytes are stored once per
// registry.
type Blobs struct {
	repo *Repository
}

// Stat returns the blob's Info if it is linked into the repository, or an
// error wrapping ErrBlobUnknown.
func (b *Blobs) Stat(ctx context.Context, dgst digest.Digest) (blob.Info, error) {
	if err := b.repo.reg.enter(); err != nil {
		return blob.Info{}, err
	}
	defer b.repo.reg.leave()
	if err := b.checkReadable(ctx, dgst); err != nil {
		return blob.Info{}, err
	}
	info, err := b.repo.reg.blobs.Stat(ctx, dgst)
	return info, b.storageErr(err, dgst)
}

// Open opens a blob linked into the repository for reading. The reader stays
// whole even if the blob is deleted meanwhile.
func (b *Blobs) Open(ctx context.Context, dgst digest.Digest) (blob.ReaderAt, error) {
	if err := b.repo.reg.enter(); err != nil {
		return nil, err
	}
	defer b.repo.reg.leave()
	if err := b.checkReadable(ctx, dgst); err != nil {
		return nil, err
	}
	ra, err := b.repo.reg.cache.open(ctx, b.repo.reg.blobs, dgst)
	return ra, b.storageErr(err, dgst)
}

func (b *Blobs) storageErr(err error, dgst digest.Digest) error {
	if err != nil && errors.Is(err, ErrNotFound) {
		return errorf(ErrBlobUnknown, "blob %s in %q (storage): %w", dgst, b.repo.name, err)
	}
	return err
}

// checkReadable verifies the digest, the repository's readEnabled and the
// link, in one read transaction.
func (b *Blobs) checkReadable(ctx context.Context, dgst digest.Digest) error {
	if err := validDigest(dgst); err != nil {
		return err
	}
	return b.repo.reg.view(ctx, func(tx meta.Tx) error {
		repo, err := loadRepo(tx, b.repo.name)
		if err != nil {
			return err
		}
		if err := tag.CheckRead(repo.item()); err != nil {
			return err
		}
		return linked(tx, b.repo.name, dgst)
	})
}

// linked returns nil when dgst is linked into repo and not being collected.
func linked(tx meta.Tx, repo string, dgst digest.Digest) error {
	ok, err := schema.Links.Has(tx, repo, dgst)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(ErrBlobUnknown, "blob %s in %q", dgst, repo)
	}
	return nil
}

// Delete removes the blob's link from the repository (the OCI blob DELETE).
// The bytes stay while other repositories link them; garbage collection
// removes them once nothing references them. A blob referenced by a
// manifest of this repository cannot be removed (ErrBlobReferenced).
func (b *Blobs) Delete(ctx context.Context, dgst digest.Digest) error {
	if err := b.repo.reg.enter(); err != nil {
		return err
	}
	defer b.repo.reg.leave()
	if err := validDigest(dgst); err != nil {
		return err
	}
	name := b.repo.name
	return b.repo.reg.update(ctx, func(t *txn) error {
		repo, err := loadRepo(t, name)
		if err != nil {
			return err
		}
		if err := tag.CheckWrite(repo.item()); err != nil {
			return err
		}
		link, ok, err := schema.Links.Get(t, name, dgst)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrBlobUnknown, "blob %s in %q", dgst, name)
		}
		if link.Refs > 0 {
			return errorf(ErrBlobReferenced, "blob %s in %q: %d manifests", dgst, name, link.Refs)
		}
		t.emit(Event{Action: ActionBlobUnlink, Repository: name, Digest: dgst})
		return unlink(t, name, dgst)
	})
}

// Mount links a blob that repository from already holds into this one,
// without copying bytes (the OCI cross-repository mount). With from empty
// (an anonymous mount) any readable repository holding the blob will do:
// only allow that where knowing a digest may grant access to its bytes. It
// returns an error wrapping ErrBlobUnknown when no source holds the blob or
// may be read; the caller then falls back to an upload.
func (b *Blobs) Mount(ctx context.Context, dgst digest.Digest, from string) (blob.Info, error) {
	if err := b.repo.reg.enter(); err != nil {
		return blob.Info{}, err
	}
	defer b.repo.reg.leave()
	if err := validDigest(dgst); err != nil {
		return blob.Info{}, err
	}
	if from != "" {
		if err := ValidateName(from); err != nil {
			return blob.Info{}, err
		}
	}
	name := b.repo.name
	err := b.repo.reg.update(ctx, func(t *txn) error {
		from := from
		if from == "" {
			var err error
			if from, err = readableHolder(t, dgst); err != nil {
				return err
			}
		}
		src, err := loadRepo(t, from)
		if err != nil {
			return err
		}
		if err := tag.CheckRead(src.item()); err != nil {
			// Deliberately not wrapped: the source's lock is not this
			// caller's error, and an unreadable source must look like one
			// without the blob (the client falls back to an upload).
			return errorf(ErrBlobUnknown, "mount from %q: %v", from, err)
		}
		if err := linked(t, from, dgst); err != nil {
			return err
		}
		return link(t, name, dgst)
	})
	if err != nil {
		return blob.Info{}, err
	}
	info, err := b.repo.reg.blobs.Stat(ctx, dgst)
	return info, b.storageErr(err, dgst)
}

// readableHolder finds a repository that links dgst and may be read.
func readableHolder(tx meta.Tx, dgst digest.Digest) (string, error) {
	holders, err := schema.Links.Holders(tx, dgst, 64)
	if err != nil {
		return "", err
	}
	for _, h := range holders {
		repo, err := loadRepo(tx, h)
		if err != nil {
			return "", err
		}
		if tag.CheckRead(repo.item()) == nil {
			return h, nil
		}
	}
	return "", errorf(ErrBlobUnknown, "blob %s in no readable repository", dgst)
}

// Put stores a blob whose digest is known up front, from r, and links it into
// the repository (the OCI monolithic upload). size < 0 skips the size check.
func (b *Blobs) Put(ctx context.Context, dgst digest.Digest, size int64, r io.Reader) (blob.Info, error) {
	if err := b.repo.reg.enter(); err != nil {
		return blob.Info{}, err
	}
	defer b.repo.reg.leave()
	if err := validDigest(dgst); err != nil {
		return blob.Info{}, err
	}
	if err := b.checkWritable(ctx); err != nil {
		return blob.Info{}, err
	}
	reg := b.repo.reg
	if err := pin(ctx, reg, dgst); err != nil {
		return blob.Info{}, err
	}
	info, err := blob.Put(ctx, reg.blobs, dgst, size, r)
	if err != nil {
		return blob.Info{}, err
	}
	return info, reg.update(ctx, func(t *txn) error {
		return link(t, b.repo.name, dgst)
	})
}

// StartUpload begins an upload session in the repository. opts choose the
// hash algorithm (default sha256).
func (b *Blobs) StartUpload(ctx context.Context, opts ...blob.WriterOption) (*Upload, error) {
	if err := b.repo.reg.enter(); err != nil {
		return nil, err
	}
	defer b.repo.reg.leave()
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
			n, err := schema.Sessions.Count(t, limit)
			if err != nil {
				return err
			}
			if n >= limit {
				return errorf(ErrTooLarge, "%d upload sessions open, the limit", n)
			}
		}
		return schema.Sessions.Put(t, w.ID(), &schema.Session{Repository: b.repo.name, StartedAt: t.now})
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
	if err := b.repo.reg.enter(); err != nil {
		return nil, err
	}
	defer b.repo.reg.leave()
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
	if err := b.repo.reg.enter(); err != nil {
		return err
	}
	defer b.repo.reg.leave()
	if err := b.ownSession(ctx, id); err != nil {
		return err
	}
	reg := b.repo.reg
	err := reg.blobs.Abort(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return reg.update(ctx, func(t *txn) error { return schema.Sessions.Delete(t, id) })
}

func (b *Blobs) ownSession(ctx context.Context, id string) error {
	if id == "" || len(id) > 256 {
		return errorf(ErrBlobUploadUnknown, "upload id of %d bytes", len(id))
	}
	return b.repo.reg.view(ctx, func(tx meta.Tx) error {
		s, ok, err := schema.Sessions.Get(tx, id)
		if err != nil {
			return err
		}
		if !ok || s.Repository != b.repo.name {
			return errorf(ErrBlobUploadUnknown, "upload %q in %q", truncate(id), b.repo.name)
		}
		return nil
	})
}

func (b *Blobs) checkWritable(ctx context.Context) error {
	return b.repo.reg.view(ctx, func(tx meta.Tx) error {
		repo, err := loadRepo(tx, b.repo.name)
		if err != nil {
			return err
		}
		return tag.CheckWrite(repo.item())
	})
}

func validDigest(d digest.Digest) error {
	if _, err := blob.ParseDigest(string(d)); err != nil {
		return err
	}
	return nil
}
