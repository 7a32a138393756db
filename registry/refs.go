package registry

import (
	"context"
	"errors"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/tag"
)

// Reference tracking. Every blob has a registry-wide record (g) with the
// number of manifest references across repositories; every link (l) counts
// the references from manifests of its own repository. When a count reaches
// zero the blob is queued (q) for review after the grace period; the
// collector re-checks the record inside its deleting transaction.

// pin makes sure the blob record exists and cannot be collected for a grace
// period, before bytes are committed to storage. If the collector is
// removing the blob right now, pin waits for it to finish, so the commit that
// follows writes the bytes anew instead of joining a blob about to vanish.
func (r *Registry) pin(ctx context.Context, d digest.Digest) error {
	delay := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := r.update(ctx, func(t *txn) error {
			var g blobRecord
			ok, err := getRec(t, key(tBlob, d.String()), &g)
			if err != nil {
				return err
			}
			if ok && g.Deleting {
				return ErrCollecting
			}
			return r.extendReview(t, d, g)
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
func (r *Registry) extendReview(t *txn, d digest.Digest, g blobRecord) error {
	if due := t.now.Add(r.opts.grace); g.ReviewAfter.Before(due) {
		g.ReviewAfter = due
	}
	if err := putRec(t, key(tBlob, d.String()), &g); err != nil {
		return err
	}
	if g.Refs == 0 {
		return t.Put(key(tQueue, timeKey(g.ReviewAfter), d.String()), nil)
	}
	return nil
}

// link makes the blob readable in repo. The blob must have a live record
// (pinned by an upload, or linked elsewhere for a mount).
func (r *Registry) link(t *txn, repo string, d digest.Digest) error {
	rs, err := loadRepo(t, repo)
	if err != nil {
		return err
	}
	if err := tag.CheckWrite(rs.item()); err != nil {
		return err
	}
	var g blobRecord
	ok, err := getRec(t, key(tBlob, d.String()), &g)
	if err != nil {
		return err
	}
	if !ok || g.Deleting {
		return errorf(ErrCollecting, "blob %s", d)
	}
	lk := key(tLink, repo, d.String())
	had, err := exists(t, lk)
	if err != nil || had {
		return err
	}
	if err := putRec(t, lk, &linkRecord{CreatedAt: t.now}); err != nil {
		return err
	}
	if err := t.Put(key(tLinkRev, d.String(), repo), nil); err != nil {
		return err
	}
	t.emit(Event{Action: ActionBlobLink, Repository: repo, Digest: d})
	if g.Refs == 0 {
		// A fresh link is a push in flight: give it a full grace period.
		return r.extendReview(t, d, g)
	}
	return nil
}

// unlink removes the blob's link from repo and queues the blob for review
// when nothing references it.
func (r *Registry) unlink(t *txn, repo string, d digest.Digest) error {
	if err := t.Delete(key(tLink, repo, d.String())); err != nil {
		return err
	}
	if err := t.Delete(key(tLinkRev, d.String(), repo)); err != nil {
		return err
	}
	var g blobRecord
	ok, err := getRec(t, key(tBlob, d.String()), &g)
	if err != nil || !ok || g.Refs > 0 {
		return err
	}
	return r.extendReview(t, d, g)
}

// addRefs counts one reference from a manifest of repo to each blob. Each
// blob must be linked into repo.
func (r *Registry) addRefs(t *txn, repo string, blobs []digest.Digest) error {
	for _, d := range blobs {
		var l linkRecord
		lk := key(tLink, repo, d.String())
		ok, err := getRec(t, lk, &l)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestBlobUnknown, "blob %s in %q", d, repo)
		}
		var g blobRecord
		gk := key(tBlob, d.String())
		ok, err = getRec(t, gk, &g)
		if err != nil {
			return err
		}
		if !ok || g.Deleting {
			return errorf(ErrManifestBlobUnknown, "blob %s in %q is being collected", d, repo)
		}
		l.Refs++
		g.Refs++
		if err := putRec(t, lk, &l); err != nil {
			return err
		}
		if err := putRec(t, gk, &g); err != nil {
			return err
		}
	}
	return nil
}

// dropRefs removes one reference from a manifest of repo to each blob and
// queues blobs left unreferenced for review after the grace period.
func (r *Registry) dropRefs(t *txn, repo string, blobs []digest.Digest) error {
	for _, d := range blobs {
		var l linkRecord
		lk := key(tLink, repo, d.String())
		ok, err := getRec(t, lk, &l)
		if err != nil {
			return err
		}
		if ok && l.Refs > 0 {
			l.Refs--
			if err := putRec(t, lk, &l); err != nil {
				return err
			}
		}
		var g blobRecord
		ok, err = getRec(t, key(tBlob, d.String()), &g)
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
			if err := r.extendReview(t, d, g); err != nil {
				return err
			}
			continue
		}
		if err := putRec(t, key(tBlob, d.String()), &g); err != nil {
			return err
		}
	}
	return nil
}
