package azure

import (
	"context"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/regkit/regkit/blob"
)

// Abort implements blob.Ingester: it deletes the upload blob, which fails
// while a Writer holds its lease.
func (s *Store) Abort(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := blob.CheckUploadID(id); err != nil {
		return err
	}
	_, err := s.blockBlob(s.uploadName(id)).Delete(ctx, nil)
	switch {
	case err == nil:
		return nil
	case notFound(err):
		return errorf(blob.ErrNotFound, "upload %s", id)
	case isLeaseConflict(err):
		return errorf(blob.ErrConflict, "upload %s is held by a writer: %w", id, err)
	}
	return classify("abort upload "+id, err)
}

// Uploads implements blob.UploadLister. Size is what the upload held at
// its last Close (bytes an open Writer has not saved yet are not counted),
// UpdatedAt the upload blob's last modification.
func (s *Store) Uploads(ctx context.Context, fn func(blob.UploadInfo) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	root := s.prefix + "uploads/"
	return s.list(ctx, root, "list uploads", container.ListBlobsInclude{Metadata: true}, func(it *container.BlobItem) error {
		id := strings.TrimPrefix(*it.Name, root)
		if blob.CheckUploadID(id) != nil {
			return nil
		}
		u := blob.UploadInfo{ID: id, Size: deref(it.Properties.ContentLength), UpdatedAt: deref(it.Properties.LastModified)}
		if t, err := time.Parse(time.RFC3339Nano, meta(it.Metadata, mdStarted)); err == nil {
			u.StartedAt = t
		} else {
			u.StartedAt = deref(it.Properties.CreationTime)
		}
		if u.UpdatedAt.Before(u.StartedAt) {
			u.UpdatedAt = u.StartedAt
		}
		return fn(u)
	})
}
