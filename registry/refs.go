package registry

import (
	"context"
	"errors"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/tag"
)

// Reference tracking. Every blob has a registry-wide record (g) with the
// number of manifest references across repositories; every link (l) counts
// the references from manifests of its own repository. When a count reaches
// zero the blob is queued (q) for review after the grace period; the
// collector re-checks the record inside its deleting transaction. All but
// pin run inside the caller's write transaction.

// pin makes sure the blob record exists and cannot be collected for a grace
// period, before bytes are committed to storage. If the collector is
// removing the blob right now, pin waits for it to finish, so the commit that
// follows writes the bytes anew instead of joining a blob about to vanish.
func pin(ctx context.Context, r *Registry, d digest.Digest) error {
	delay := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := r.update(ctx, func(t *txn) error {
			g, _, err := schema.Blobs.Get(t, d)
			if err != nil {
				return err
			}
			if g.Deleting {
				return ErrCollecting
			}
			return extendReview(t, d, g)
		})
		if !errors.Is(err, ErrCollecting) || attempt >= 50 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}

// extendReview saves g with its review time no earlier than now + grace,
// and queues the review when the blob is unreferenced. Queue entries are
// idempotent: the collector drops an entry whose record says "not yet".
func extendReview(t *txn, d digest.Digest, g schema.Blob) error {
	if due := t.now.Add(t.grace); g.ReviewAfter.Before(due) {
		g.ReviewAfter = due
	}
	if err := schema.Blobs.Put(t, d, &g); err != nil {
		return err
	}
	if g.Refs == 0 {
		return schema.Queue.Put(t, g.ReviewAfter, d)
	}
	return nil
}

// link makes the blob readable in repo. The blob must have a live record
// (pinned by an upload, or linked elsewhere for a mount).
func link(t *txn, repo string, d digest.Digest) error {
	rs, err := loadRepo(t, repo)
	if err != nil {
		return err
	}
	if err := tag.CheckWrite(rs.item()); err != nil {
		return err
	}
	g, ok, err := schema.Blobs.Get(t, d)
	if err != nil {
		return err
	}
	if !ok || g.Deleting {
		return errorf(ErrCollecting, "blob %s", d)
	}
	had, err := schema.Links.Has(t, repo, d)
	if err != nil || had {
		return err
	}
	if err := schema.Links.Create(t, repo, d, &schema.Link{CreatedAt: t.now}); err != nil {
		return err
	}
	t.emit(Event{Action: ActionBlobLink, Repository: repo, Digest: d})
	if g.Refs == 0 {
		// A fresh link is a push in flight: give it a full grace period.
		return extendReview(t, d, g)
	}
	return nil
}

// unlink removes the blob's link from repo and queues the blob for review
// when nothing references it.
func unlink(t *txn, repo string, d digest.Digest) error {
	if err := schema.Links.Delete(t, repo, d); err != nil {
		return err
	}
	g, ok, err := schema.Blobs.Get(t, d)
	if err != nil || !ok || g.Refs > 0 {
		return err
	}
	return extendReview(t, d, g)
}

// addRefs counts one reference from a manifest of repo to each blob. Each
// blob must be linked into repo.
func addRefs(t *txn, repo string, blobs []digest.Digest) error {
	for _, d := range blobs {
		l, ok, err := schema.Links.Get(t, repo, d)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestBlobUnknown, "blob %s in %q", d, repo)
		}
		g, ok, err := schema.Blobs.Get(t, d)
		if err != nil {
			return err
		}
		if !ok || g.Deleting {
			return errorf(ErrManifestBlobUnknown, "blob %s in %q is being collected", d, repo)
		}
		l.Refs++
		g.Refs++
		if err := schema.Links.Put(t, repo, d, &l); err != nil {
			return err
		}
		if err := schema.Blobs.Put(t, d, &g); err != nil {
			return err
		}
	}
	return nil
}

// dropRefs removes one reference from a manifest of repo to each blob and
// queues blobs left unreferenced for review after the grace period.
func dropRefs(t *txn, repo string, blobs []digest.Digest) error {
	for _, d := range blobs {
		l, ok, err := schema.Links.Get(t, repo, d)
		if err != nil {
			return err
		}
		if ok && l.Refs > 0 {
			l.Refs--
			if err := schema.Links.Put(t, repo, d, &l); err != nil {
				return err
			}
		}
		g, ok, err := schema.Blobs.Get(t, d)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if g.Refs > 0 {
			g.Refs--
		}
		if g.Refs == 0 {
			if err := extendReview(t, d, g); err != nil {
				return err
			}
			continue
		}
		if err := schema.Blobs.Put(t, d, &g); err != nil {
			return err
		}
	}
	return nil
}

// unlinkAll removes every repository's link to d.
func unlinkAll(t *txn, d digest.Digest) error {
	repos, err := schema.Links.Holders(t, d, 0)
	if err != nil {
		return err
	}
	for _, repo := range repos {
		if err := schema.Links.Delete(t, repo, d); err != nil {
			return err
		}
	}
	return nil
}
