package azure

import (
	"context"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azb "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// ReapStats says what Reap removed.
type ReapStats struct {
	// Blobs counts blobs marked deleted that were removed with their
	// snapshots.
	Blobs int
	// Snapshots counts readers' snapshots removed from blobs that are not
	// deleted.
	Snapshots int
}

// Reap removes what readers that never closed left behind: a ReaderAt pins
// its blob with a snapshot, and Close removes the snapshot (and the blob,
// when it was deleted meanwhile). A process that dies between the two
// leaves the snapshot; if the blob was deleted, it stays marked deleted,
// invisible but stored. Reap removes every snapshot taken before
// now-olderThan and every marked blob none of whose snapshots is younger,
// each conditional on the blob's ETag, so a blob committed again meanwhile
// (which clears the mark) stays. A reader still open after olderThan loses
// its snapshot and fails its next read: choose olderThan well above the
// longest read (a day, say). Hosts run it now and then, as they run the
// registry's garbage collection.
func (s *Store) Reap(ctx context.Context, olderThan time.Duration) (ReapStats, error) {
	var st ReapStats
	if err := ctx.Err(); err != nil {
		return st, err
	}
	cutoff := time.Now().Add(-olderThan)
	type base struct {
		etag    azcore.ETag
		deleted bool
		young   bool     // a snapshot younger than the cutoff pins it
		old     []string // snapshots older than the cutoff
	}
	blobs := map[string]*base{}
	get := func(name string) *base {
		b := blobs[name]
		if b == nil {
			b = &base{}
			blobs[name] = b
		}
		return b
	}
	err := s.list(ctx, s.prefix+"blobs/", "list blobs and snapshots", container.ListBlobsInclude{Metadata: true, Snapshots: true},
		func(it *container.BlobItem) error {
			b := get(*it.Name)
			if snap := deref(it.Snapshot); snap != "" {
				if t, err := time.Parse(time.RFC3339Nano, snap); err == nil && t.Before(cutoff) {
					b.old = append(b.old, snap)
				} else {
					b.young = true
				}
				return nil
			}
			b.etag = deref(it.Properties.ETag)
			b.deleted = meta(it.Metadata, mdDeleted) != ""
			return nil
		})
	if err != nil {
		return st, err
	}
	for name, b := range blobs {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		bc := s.c.NewBlobClient(name)
		if b.deleted && !b.young && b.etag != "" {
			include := azb.DeleteSnapshotsOptionTypeInclude
			_, err := bc.Delete(ctx, &blobDeleteOptions{DeleteSnapshots: &include, AccessConditions: ifMatch(b.etag)})
			switch {
			case err == nil:
				st.Blobs++
				continue
			case notFound(err) || changed(err):
				continue // gone, or committed again meanwhile
			default:
				return st, classify("reap "+name, err)
			}
		}
		for _, snap := range b.old {
			sc, err := bc.WithSnapshot(snap)
			if err != nil {
				return st, classify("reap "+name, err)
			}
			if _, err := sc.Delete(ctx, nil); err != nil && !notFound(err) {
				return st, classify("reap "+name+" snapshot "+snap, err)
			}
			st.Snapshots++
		}
	}
	return st, nil
}
