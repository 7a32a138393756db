package registry

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// ReadOnlyStorage is the read-only view of a Registry's blob storage that
// Registry.Blobs returns: Stat, ReaderAt and Walk of committed blobs, with
// no way to write or delete one. When the storage serves blobs from
// elsewhere (a blob.Redirector, such as an object store's presigned URLs),
// the view is a blob.Redirector too, so a type assertion finds it.
type ReadOnlyStorage interface {
	blob.Statter
	blob.Opener
	blob.Walker
}

// storageView is the ReadOnlyStorage of a Registry.
type storageView struct{ r *Registry }

// Stat returns the blob's Info, or an error wrapping ErrNotFound.
func (v storageView) Stat(ctx context.Context, dgst digest.Digest) (blob.Info, error) {
	if err := v.r.enter(); err != nil {
		return blob.Info{}, err
	}
	defer v.r.leave()
	return v.r.blobs.Stat(ctx, dgst)
}

// ReaderAt opens the blob, or returns an error wrapping ErrNotFound.
func (v storageView) ReaderAt(ctx context.Context, dgst digest.Digest) (blob.ReaderAt, error) {
	if err := v.r.enter(); err != nil {
		return nil, err
	}
	defer v.r.leave()
	return v.r.blobs.ReaderAt(ctx, dgst)
}

// Walk calls fn for every committed blob.
func (v storageView) Walk(ctx context.Context, fn func(blob.Info) error) error {
	if err := v.r.enter(); err != nil {
		return err
	}
	defer v.r.leave()
	return v.r.blobs.Walk(ctx, fn)
}

// redirectingView is the ReadOnlyStorage of a Registry whose storage is a
// blob.Redirector.
type redirectingView struct {
	storageView
	rd blob.Redirector
}

// RedirectURL returns a URL that serves the blob's bytes for at least ttl
// (blob.Redirector).
func (v redirectingView) RedirectURL(ctx context.Context, dgst digest.Digest, ttl time.Duration) (string, error) {
	if err := v.r.enter(); err != nil {
		return "", err
	}
	defer v.r.leave()
	return v.rd.RedirectURL(ctx, dgst, ttl)
}
