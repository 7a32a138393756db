package registry

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
)

// ExpireStats report what ExpireDeleted purged for good.
type ExpireStats struct {
	// Manifests, Tags and Repositories count the purged items.
	Manifests, Tags, Repositories int
}

// expireBatch is how many due items one read of the expiry queue takes;
// they are purged as that many writes queued at once (updateEach), so
// they share commits.
const expireBatch = 1024

// ExpireDeleted purges for good the soft-deleted manifests, tags and
// repositories whose time is up: deleted at least the current
// SoftDeletePolicy.Days ago (the setting applies while soft delete is
// disabled too, to what was deleted before). A purged manifest's bytes and
// detail go, and it drops its references to its blobs, which garbage
// collection then takes like any unreferenced blob, after the grace period.
// Each item is purged in a transaction of its own: a crash leaves it
// restorable or gone. The background sweep (WithSoftDeleteSweepInterval)
// calls it.
func (r *Registry) ExpireDeleted(ctx context.Context) (ExpireStats, error) {
	var st ExpireStats
	if err := r.enter(); err != nil {
		return st, err
	}
	defer r.leave()
	var p SoftDeletePolicy
	err := r.view(ctx, func(tx meta.Tx) error {
		var err error
		p, err = loadSoftDelete(tx)
		return err
	})
	if err != nil {
		return st, err
	}
	// Due: deleted at or before now - days.
	until := r.now().Add(-time.Duration(p.Days)*24*time.Hour + 1)
	type item struct {
		kind      byte
		repo, key string
		at        time.Time
	}
	for {
		var due []item
		err := r.view(ctx, func(tx meta.Tx) error {
			due = due[:0]
			return schema.DeletedExpiry.Due(tx, until, func(kind byte, repo, name string, at time.Time) bool {
				due = append(due, item{kind, repo, name, at})
				return len(due) < expireBatch
			})
		})
		if err != nil || len(due) == 0 {
			if err != nil {
				return st, err
			}
			break
		}
		fns := make([]func(*txn) error, len(due))
		done := make([]bool, len(due))
		for i, it := range due {
			if it.kind == schema.DeletedKindManifest {
				fns[i] = func(t *txn) error {
					var err error
					done[i], err = purgeDeletedManifest(t, it.repo, digest.Digest(it.key), it.at)
					return err
				}
			} else {
				fns[i] = func(t *txn) error {
					var err error
					done[i], err = purgeDeletedTag(t, it.repo, it.key, it.at)
					return err
				}
			}
		}
		for i, err := range r.updateEach(ctx, fns) {
			if err != nil {
				return st, err
			}
			switch {
			case !done[i]:
			case due[i].kind == schema.DeletedKindManifest:
				st.Manifests++
			default:
				st.Tags++
			}
		}
		if len(due) < expireBatch {
			break
		}
	}
	// Repositories last: what was deleted in one goes no later than it.
	var repos []string
	var ats []time.Time
	err = r.view(ctx, func(tx meta.Tx) error {
		repos, ats = repos[:0], ats[:0]
		return schema.DeletedRepos.Due(tx, until, func(repo string, at time.Time) bool {
			repos, ats = append(repos, repo), append(ats, at)
			return true
		})
	})
	if err != nil {
		return st, err
	}
	for i, repo := range repos {
		var done bool
		err := r.update(ctx, func(t *txn) error {
			rec, ok, err := schema.DeletedRepos.Get(t, repo)
			if err != nil || !ok || !rec.DeletedAt.Equal(ats[i]) {
				done = false
				return err
			}
			done = true
			t.emit(Event{Action: ActionPurgeDeleted, Repository: repo})
			return schema.DeletedRepos.Delete(t, repo, rec.DeletedAt)
		})
		if err != nil {
			return st, err
		}
		if done {
			st.Repositories++
		}
	}
	return st, nil
}

// purgeDeletedManifest purges the deleted manifest dgst of repo for good if
// it is still the one deleted at at, and reports whether it did.
func purgeDeletedManifest(t *txn, repo string, dgst digest.Digest, at time.Time) (bool, error) {
	rec, ok, err := schema.DeletedManifests.Get(t, repo, dgst)
	if err != nil {
		return false, err
	}
	if !ok || !rec.DeletedAt.Equal(at) {
		return false, schema.DeletedExpiry.Drop(t, schema.DeletedKindManifest, repo, dgst.String(), at)
	}
	det, _, err := schema.Details.Refs(t, repo, dgst)
	if err != nil {
		return false, err
	}
	if err := releaseBlobs(t, det.Blobs); err != nil {
		return false, err
	}
	if err := schema.Details.Delete(t, repo, dgst); err != nil {
		return false, err
	}
	if err := schema.ManifestBytes.Delete(t, repo, dgst); err != nil {
		return false, err
	}
	if err := schema.DeletedManifests.Delete(t, repo, dgst, at); err != nil {
		return false, err
	}
	t.emit(Event{Action: ActionPurgeDeleted, Repository: repo, Digest: dgst, MediaType: rec.Manifest.MediaType, Size: rec.Manifest.Size})
	return true, nil
}

// purgeDeletedTag purges the record of tag name of repo deleted at at, and
// reports whether there was one.
func purgeDeletedTag(t *txn, repo, name string, at time.Time) (bool, error) {
	rec, ok, err := schema.DeletedTags.Get(t, repo, name, at)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, schema.DeletedExpiry.Drop(t, schema.DeletedKindTag, repo, name, at)
	}
	if err := schema.DeletedTags.Delete(t, repo, name, at); err != nil {
		return false, err
	}
	t.emit(Event{Action: ActionPurgeDeleted, Repository: repo, Tag: name, Digest: rec.Tag.Digest})
	return true, nil
}

// releaseBlobs drops the blob-record references a deleted manifest held
// (its link references went when it was deleted) and queues blobs left
// unreferenced for review after the grace period.
func releaseBlobs(t *txn, blobs []digest.Digest) error {
	for _, d := range blobs {
		g, ok, err := schema.Blobs.Get(t, d)
		if err != nil || !ok {
			if err != nil {
				return err
			}
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
