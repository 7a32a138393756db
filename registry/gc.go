package registry

import (
	"context"
	"errors"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
)

// CollectOptions are the per-call settings of Registry.Collect.
type CollectOptions struct {
	// DryRun counts what would be deleted and deletes nothing.
	DryRun bool
	// SkipSweep skips the walk over blob storage that finds blobs without a
	// record (left by a crash between a storage commit and its metadata).
	SkipSweep bool
}

// CollectStats report what a collection did.
type CollectStats struct {
	// Reviewed counts queue entries examined.
	Reviewed int
	// BlobsDeleted and BytesDeleted count removed blobs.
	BlobsDeleted int
	// BytesDeleted sums their sizes.
	BytesDeleted int64
	// Orphans counts blobs found in storage without a record, now queued.
	Orphans int
	// UploadsRemoved counts abandoned uploads removed.
	UploadsRemoved int
	// Duration is how long the collection took.
	Duration time.Duration
}

const collectBatch = 256

// Collect runs online garbage collection. It deletes blobs that no manifest
// references once their grace period has passed, and uploads idle for longer
// than the upload TTL. It never stops pushes or pulls: each decision is
// re-checked inside the transaction that marks the blob, links are removed
// in that same transaction, and only then are the bytes deleted. Pushes that
// race with a deletion wait for it and write the bytes anew.
func (r *Registry) Collect(ctx context.Context, opts CollectOptions) (CollectStats, error) {
	if err := r.enter(); err != nil {
		return CollectStats{}, err
	}
	defer r.leave()
	start := time.Now()
	var st CollectStats
	if !opts.SkipSweep {
		if err := r.sweep(ctx, opts, &st); err != nil {
			return st, err
		}
	}
	if err := r.review(ctx, opts, &st); err != nil {
		return st, err
	}
	if err := r.expireUploads(ctx, opts, &st); err != nil {
		return st, err
	}
	st.Duration = time.Since(start)
	return st, nil
}

// sweep queues blobs older than the grace period that have no record.
func (r *Registry) sweep(ctx context.Context, opts CollectOptions, st *CollectStats) error {
	cutoff := r.now().Add(-r.opts.grace)
	var batch []digest.Digest
	flush := func() error {
		if len(batch) == 0 || opts.DryRun {
			batch = batch[:0]
			return nil
		}
		err := r.update(ctx, func(t *txn) error {
			for _, d := range batch {
				ok, err := schema.Blobs.Has(t, d)
				if err != nil {
					return err
				}
				if !ok {
					if err := schema.Blobs.Put(t, d, &schema.Blob{ReviewAfter: t.now}); err != nil {
						return err
					}
					if err := schema.Queue.Put(t, t.now, d); err != nil {
						return err
					}
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	err := r.blobs.Walk(ctx, func(info blob.Info) error {
		if info.CreatedAt.After(cutoff) {
			return nil
		}
		var known bool
		err := r.view(ctx, func(tx meta.Tx) error {
			var err error
			known, err = schema.Blobs.Has(tx, info.Digest)
			return err
		})
		if err != nil || known {
			return err
		}
		st.Orphans++
		batch = append(batch, info.Digest)
		if len(batch) >= collectBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// review processes due queue entries in batches.
func (r *Registry) review(ctx context.Context, opts CollectOptions, st *CollectStats) error {
	now := r.now()
	var prev *schema.QueueEntry
	for {
		var due []schema.QueueEntry
		err := r.view(ctx, func(tx meta.Tx) error {
			var err error
			due, err = schema.Queue.Due(tx, prev, now, collectBatch)
			return err
		})
		if err != nil || len(due) == 0 {
			return err
		}
		prev = &due[len(due)-1]
		st.Reviewed += len(due)
		if err := r.reviewBatch(ctx, opts, due, st); err != nil {
			return err
		}
	}
}

// reviewBatch marks due blobs as deleting and unlinks them (transaction 1),
// deletes their bytes, then drops their records (transaction 2).
func (r *Registry) reviewBatch(ctx context.Context, opts CollectOptions, due []schema.QueueEntry, st *CollectStats) error {
	var doomed []schema.QueueEntry
	if opts.DryRun {
		return r.view(ctx, func(tx meta.Tx) error {
			seen := make(map[digest.Digest]bool, len(due))
			for _, q := range due {
				if seen[q.Digest] {
					continue
				}
				seen[q.Digest] = true
				g, ok, err := schema.Blobs.Get(tx, q.Digest)
				if err != nil {
					return err
				}
				if ok && (g.Deleting || g.Refs == 0 && !g.ReviewAfter.After(r.now())) {
					st.BlobsDeleted++
				}
			}
			return nil
		})
	}
	err := r.update(ctx, func(t *txn) error {
		doomed = doomed[:0]
		seen := make(map[digest.Digest]bool, len(due))
		for _, q := range due {
			if seen[q.Digest] {
				// Another entry for the same blob in this batch decides.
				if err := schema.Queue.Delete(t, q); err != nil {
					return err
				}
				continue
			}
			seen[q.Digest] = true
			g, ok, err := schema.Blobs.Get(t, q.Digest)
			if err != nil {
				return err
			}
			if !ok || !g.Deleting && (g.Refs > 0 || g.ReviewAfter.After(t.now)) {
				if err := schema.Queue.Delete(t, q); err != nil {
					return err
				}
				continue
			}
			g.Deleting = true
			if err := schema.Blobs.Put(t, q.Digest, &g); err != nil {
				return err
			}
			if err := unlinkAll(t, q.Digest); err != nil {
				return err
			}
			doomed = append(doomed, q)
		}
		return nil
	})
	if err != nil || len(doomed) == 0 {
		return err
	}
	sizes := make([]int64, len(doomed))
	gone := doomed[:0:0]
	for i, q := range doomed {
		if info, err := r.blobs.Stat(ctx, q.Digest); err == nil {
			sizes[i] = info.Size
		}
		r.cache.drop(q.Digest)
		if err := r.blobs.Delete(ctx, q.Digest); err != nil && !errors.Is(err, ErrNotFound) {
			continue // stays marked; the next collection retries it
		}
		st.BlobsDeleted++
		st.BytesDeleted += sizes[i]
		gone = append(gone, q)
	}
	return r.update(ctx, func(t *txn) error {
		for _, q := range gone {
			g, ok, err := schema.Blobs.Get(t, q.Digest)
			if err != nil {
				return err
			}
			if ok && g.Deleting {
				if err := schema.Blobs.Delete(t, q.Digest); err != nil {
					return err
				}
			}
			if err := schema.Queue.Delete(t, q); err != nil {
				return err
			}
			t.emit(Event{Action: ActionCollect, Digest: q.Digest})
		}
		return nil
	})
}

// expireUploads aborts uploads idle for longer than the upload TTL.
func (r *Registry) expireUploads(ctx context.Context, opts CollectOptions, st *CollectStats) error {
	cutoff := r.now().Add(-r.opts.uploadTTL)
	var stale []string
	err := r.blobs.Uploads(ctx, func(u blob.UploadInfo) error {
		if u.UpdatedAt.Before(cutoff) {
			stale = append(stale, u.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range stale {
		if opts.DryRun {
			st.UploadsRemoved++
			continue
		}
		if err := r.blobs.Abort(ctx, id); err != nil {
			if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
				continue // in use right now, or finished meanwhile
			}
			return err
		}
		st.UploadsRemoved++
		if err := r.update(ctx, func(t *txn) error { return schema.Sessions.Delete(t, id) }); err != nil {
			return err
		}
	}
	return nil
}
