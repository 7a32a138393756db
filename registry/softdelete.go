package registry

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
)

// SoftDeletePolicy is the registry's soft-delete setting, as ACR has it:
// while enabled, every deletion moves what it deletes to a deleted state,
// restorable for Days days, instead of dropping it.
type SoftDeletePolicy struct {
	// Enabled turns soft delete on.
	Enabled bool `json:"enabled"`
	// Days a deleted item stays restorable, 1 to MaxSoftDeleteDays
	// (DefaultSoftDeleteDays when never set). Expiry always uses the
	// current value: raising it extends items already deleted, lowering
	// it shortens them. It applies while Enabled is false too, to the items
	// deleted while it was true.
	Days int `json:"days"`
}

// The bounds of SoftDeletePolicy.Days, as in ACR.
const (
	DefaultSoftDeleteDays = 7
	MaxSoftDeleteDays     = 90
)

// ExpiresAt returns when an item deleted at deletedAt expires under p.
func (p SoftDeletePolicy) ExpiresAt(deletedAt time.Time) time.Time {
	return deletedAt.Add(time.Duration(p.Days) * 24 * time.Hour)
}

// The errors of soft delete.
var (
	// ErrSoftDeleted: a push of a manifest whose digest is soft-deleted in
	// the repository. Restore it (Repository.Restore) instead of pushing it
	// again.
	ErrSoftDeleted error = errdef.New("manifest is soft-deleted; restore it instead of pushing it", ErrConflict)
	// ErrRestoreBlocked: a restore that needs other items first: an index
	// whose children are deleted or gone, or a referrer whose subject is
	// deleted. The message names them.
	ErrRestoreBlocked error = errdef.New("restore needs other items restored first", ErrPrecondition)
)

// softDeleteSetting names the setting in the metadata store.
const softDeleteSetting = "softDelete"

// WithSoftDeleteSweepInterval sets how often the background expiry of
// soft-deleted items (ExpireDeleted) runs (default ten minutes; 0 turns it
// off, leaving ExpireDeleted to the host).
func WithSoftDeleteSweepInterval(d time.Duration) Option {
	return func(o *options) { o.softDeleteInterval = d }
}

// SoftDelete returns the soft-delete setting (disabled, DefaultSoftDeleteDays,
// when never set).
func (r *Registry) SoftDelete(ctx context.Context) (SoftDeletePolicy, error) {
	if err := r.enter(); err != nil {
		return SoftDeletePolicy{}, err
	}
	defer r.leave()
	var p SoftDeletePolicy
	err := r.view(ctx, func(tx meta.Tx) error {
		var err error
		p, err = loadSoftDelete(tx)
		return err
	})
	return p, err
}

func loadSoftDelete(tx meta.Tx) (SoftDeletePolicy, error) {
	p := SoftDeletePolicy{Days: DefaultSoftDeleteDays}
	_, err := schema.Settings.Get(tx, softDeleteSetting, &p)
	return p, err
}

// SetSoftDelete changes the soft-delete setting, persisted in the metadata
// store, and returns it. It is in force for every write that begins after
// it returns. Days outside 1..MaxSoftDeleteDays fail with ErrInvalid.
//
// ACR refuses soft delete together with untagged retention (SetRetention);
// regkit allows both, and a retention deletion is then a soft delete like
// any other.
func (r *Registry) SetSoftDelete(ctx context.Context, enabled bool, days int) (SoftDeletePolicy, error) {
	if err := r.enter(); err != nil {
		return SoftDeletePolicy{}, err
	}
	defer r.leave()
	if days < 1 || days > MaxSoftDeleteDays {
		return SoftDeletePolicy{}, errorf(ErrInvalid, "soft delete days %d: want 1 to %d", days, MaxSoftDeleteDays)
	}
	p := SoftDeletePolicy{Enabled: enabled, Days: days}
	r.settingsMu.Lock()
	defer r.settingsMu.Unlock()
	err := r.update(ctx, func(t *txn) error { return schema.Settings.Put(t, softDeleteSetting, &p) })
	if err != nil {
		return SoftDeletePolicy{}, err
	}
	r.softDelete.Store(&p)
	return p, nil
}

// loadSoftDeletePolicy reads the stored setting, at New.
func (r *Registry) loadSoftDeletePolicy(ctx context.Context) error {
	var p SoftDeletePolicy
	err := r.meta.View(ctx, func(tx meta.Tx) error {
		var err error
		p, err = loadSoftDelete(tx)
		return err
	})
	if err == nil {
		r.softDelete.Store(&p)
	}
	return err
}

// The soft-delete primitives. Each runs inside the caller's write
// transaction, after the caller's lock checks, and moves one item: the
// whole move is in that transaction, so a crash leaves the item live,
// deleted or (after expiry) gone, never part of each.

// softTag records that tag name of repo is being removed under soft delete:
// a deleted tag record with the tag as it is now. Callers call it before
// they remove the tag; it does nothing while soft delete is off.
func softTag(t *txn, repo, name string) error {
	if !t.soft {
		return nil
	}
	rec, ok, err := schema.Tags.Get(t, repo, name)
	if err != nil || !ok {
		return err
	}
	return keepTag(t, repo, name, &rec)
}

// keepTag stores rec as a deleted tag of repo, deleted now.
func keepTag(t *txn, repo, name string, rec *schema.Tag) error {
	return schema.DeletedTags.Put(t, repo, name, &schema.DeletedTag{Tag: *rec, DeletedAt: t.now})
}

// softDeleteManifest moves a manifest to the deleted state. The caller
// (deleteManifest) has removed its tags (keeping each as a deleted tag),
// its untagged, referrer and children entries; this drops its references
// from the blob links of repo (so a blob DELETE or a repository delete
// behaves as after a hard delete) but keeps them in the blob records, so
// collection leaves the blobs until the item expires. The bytes and the
// detail stay under their keys.
func softDeleteManifest(t *txn, repo *repoState, dgst digest.Digest, rec *schema.Manifest, det *schema.DetailRefs, tags []string) error {
	name := repo.name
	for _, b := range det.Blobs {
		l, ok, err := schema.Links.Get(t, name, b)
		if err != nil {
			return err
		}
		if ok && l.Refs > 0 {
			l.Refs--
			if err := schema.Links.Put(t, name, b, &l); err != nil {
				return err
			}
		}
	}
	if err := schema.Manifests.Delete(t, name, dgst); err != nil {
		return err
	}
	if err := schema.Pulls.Delete(t, name, schema.PullManifest, dgst.String()); err != nil {
		return err
	}
	kept := *rec
	kept.Tags, kept.UntaggedSince, kept.Detail = 0, time.Time{}, nil
	if err := schema.DeletedManifests.Put(t, name, dgst, &schema.DeletedManifest{Manifest: kept, DeletedAt: t.now, Tags: tags}); err != nil {
		return err
	}
	repo.rec.ManifestCount--
	t.emit(Event{Action: ActionDelete, Repository: name, Digest: dgst, MediaType: rec.MediaType, Size: rec.Size})
	return nil
}

// leaveCatalog takes a repository out of the catalog: under soft delete
// its record moves to the deleted state (restorable with any artifact in
// it, or by a push), else it is dropped.
func leaveCatalog(t *txn, repo *repoState) error {
	if !t.soft {
		return schema.Repos.Delete(t, repo.name)
	}
	if err := schema.Repos.Delete(t, repo.name); err != nil {
		return err
	}
	if repo.deleted != nil {
		if err := schema.DeletedRepos.Delete(t, repo.name, repo.deleted.DeletedAt); err != nil {
			return err
		}
	}
	kept := repo.rec
	kept.ManifestCount, kept.TagCount = 0, 0
	return schema.DeletedRepos.Put(t, repo.name, &schema.DeletedRepo{Repo: kept, DeletedAt: t.now})
}

// comeBack restores the deleted record of a repository that is being
// created again (by a push or a restore), from repoState.save.
func comeBack(t *txn, repo *repoState) error {
	if err := schema.DeletedRepos.Delete(t, repo.name, repo.deleted.DeletedAt); err != nil {
		return err
	}
	repo.deleted = nil
	t.emit(Event{Action: ActionRestoreRepository, Repository: repo.name})
	return nil
}

// refuseDeleted fails the push of a manifest that is soft-deleted in the
// repository.
func refuseDeleted(t *txn, repo string, dgst digest.Digest) error {
	ok, err := schema.DeletedManifests.Has(t, repo, dgst)
	if err != nil || !ok {
		return err
	}
	return errorf(ErrSoftDeleted, "manifest %s in %q was deleted and can be restored", dgst, repo)
}
