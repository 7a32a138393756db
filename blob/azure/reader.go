package azure

import (
	"context"
	"io"
	"sync"

	azb "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// reader is an open blob: a snapshot taken when it was opened, so that a
// Delete meanwhile cannot take the bytes away. Close deletes the snapshot.
type reader struct {
	s    *Store
	d    digest.Digest
	snap *blockblob.Client
	size int64

	mu     sync.Mutex
	closed bool
}

var _ blob.ReaderAt = (*reader)(nil)

// ReaderAt implements blob.Opener. It pins the blob with a snapshot, taken
// only if the blob is unchanged since its properties were read (If-Match),
// so a blob deleted or marked deleted meanwhile is ErrNotFound.
func (s *Store) ReaderAt(ctx context.Context, dgst digest.Digest) (blob.ReaderAt, error) {
	d, err := parse(ctx, dgst)
	if err != nil {
		return nil, err
	}
	bc := s.blockBlob(s.blobName(d))
	for range 8 {
		p, err := s.getProps(ctx, d)
		if err != nil {
			return nil, err
		}
		if p.deleted {
			return nil, errorf(blob.ErrNotFound, "blob %s", d)
		}
		r, err := bc.CreateSnapshot(ctx, &azb.CreateSnapshotOptions{AccessConditions: ifMatch(p.etag)})
		switch {
		case err == nil:
		case notFound(err):
			return nil, errorf(blob.ErrNotFound, "blob %s", d)
		case changed(err):
			continue
		default:
			return nil, classify("open "+d.String(), err)
		}
		snap, err := bc.WithSnapshot(deref(r.Snapshot))
		if err != nil {
			return nil, classify("open "+d.String(), err)
		}
		return &reader{s: s, d: d, snap: snap, size: p.size}, nil
	}
	return nil, errorf(blob.ErrConflict, "open %s: the blob keeps changing", d)
}

func (r *reader) Size() int64 { return r.size }

// ReadAt reads one range of the snapshot.
func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errorf(blob.ErrInvalid, "read %s at negative offset %d", r.d, off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), r.size-off)
	if want == 0 {
		return 0, nil
	}
	ctx := context.Background()
	resp, err := r.snap.DownloadStream(ctx, &azb.DownloadStreamOptions{Range: azb.HTTPRange{Offset: off, Count: want}})
	if err != nil {
		return 0, classify("read "+r.d.String(), err)
	}
	body := resp.Body
	defer body.Close()
	n, err := io.ReadFull(body, p[:want])
	if err != nil {
		return n, errorf(blob.ErrUnavailable, "read %s: %w", r.d, err)
	}
	if want < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// Close deletes the reader's snapshot; if the blob was deleted meanwhile
// and this was the last snapshot, it removes the blob too.
func (r *reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	ctx := context.Background()
	if _, err := r.snap.Delete(ctx, nil); err != nil && !notFound(err) {
		return classify("close "+r.d.String(), err)
	}
	p, err := r.s.getProps(ctx, r.d)
	if err == nil && p.deleted {
		r.s.reap(ctx, r.d, p.etag)
	}
	return nil
}
