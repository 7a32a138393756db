package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/tag"
)

// RestoreOptions say what Repository.Restore brings back.
type RestoreOptions struct {
	// Digest is the soft-deleted manifest to restore. Empty: the manifest
	// the most recently deleted record of Tag pointed at (ACR's restore of
	// repo:tag).
	Digest digest.Digest
	// Tag, when set, is the one tag restored, pointed at the manifest
	// (with its attributes and creation time when a deleted record of it
	// pointed there). Empty: every tag the manifest carried when it was
	// deleted.
	Tag string
	// Force overwrites a tag that now points at another manifest. The
	// overwritten tag is kept as a deleted tag, and the manifest it
	// pointed at, when left without tags and deletable (not locked, not a
	// child of an index, its referrers neither tagged nor locked), is
	// soft-deleted with its referrers.
	Force bool
}

// Restoration reports what a restore did.
type Restoration struct {
	// Digest is the manifest restored or re-tagged.
	Digest digest.Digest
	// Manifest is set when the manifest came back from the deleted state
	// (it may have been stored already, for a tag's restore).
	Manifest bool
	// Repository is set when the repository came back with it.
	Repository bool
	// Tags are the tags now pointing at the manifest that the restore set.
	Tags []string
	// Overwritten are the tags Force moved, with the digests they left.
	Overwritten []TagProperties
	// Deleted are the manifests Force left without tags and soft-deleted.
	Deleted []digest.Digest
}

// Restore brings back a soft-deleted manifest, tag or both (see
// RestoreOptions), as ACR does, in one transaction: the same manifest bytes,
// attributes, creation time, tags (with their attributes) and, when it
// was deleted, the repository's record. It works whether or not soft delete
// is enabled now, as long as the item has not expired.
//
// ACR's rules hold: restoring an index does not restore its children, and is
// refused (ErrRestoreBlocked, naming them) while any is deleted or gone; a
// referrer is refused while its subject is deleted; a tag that points at
// another manifest is refused (ErrConflict) unless Force; locks hold (a
// write-locked repository, and a tag whose writeEnabled is false, refuse
// the restore with ErrLocked). A repository is restored by restoring any
// artifact in it, or by a push to it. Restoring a manifest that is not
// deleted, or a tag with no deleted record, fails with ErrManifestUnknown.
func (r *Repository) Restore(ctx context.Context, opts RestoreOptions) (Restoration, error) {
	if err := r.reg.enter(); err != nil {
		return Restoration{}, err
	}
	defer r.reg.leave()
	if opts.Digest == "" && opts.Tag == "" {
		return Restoration{}, errorf(ErrInvalid, "restore needs a digest or a tag")
	}
	if opts.Digest != "" {
		if err := validDigest(opts.Digest); err != nil {
			return Restoration{}, err
		}
	}
	if opts.Tag != "" {
		if err := tag.ValidateName(opts.Tag); err != nil {
			return Restoration{}, errorf(ErrTagInvalid, "%w", err)
		}
	}
	var out Restoration
	err := r.reg.update(ctx, func(t *txn) error {
		out = Restoration{}
		return restore(t, r.name, opts, &out)
	})
	if err != nil {
		return Restoration{}, err
	}
	return out, nil
}

// wantTag is a tag a restore points at the manifest, with its deleted
// record when it has one.
type wantTag struct {
	name string
	del  *schema.DeletedTag
}

func restore(t *txn, name string, opts RestoreOptions, out *Restoration) error {
	// What a forced restore displaces is soft-deleted, whatever the
	// setting: a restore never loses anything for good.
	t.soft = true
	repo, err := loadRepo(t, name)
	if err != nil {
		return err
	}
	if err := tag.CheckWrite(repo.item()); err != nil {
		return err
	}
	if out.Repository = !repo.exists && repo.deleted != nil; out.Repository {
		// The repository first, so its event comes before its content's.
		if err := repo.save(t); err != nil {
			return err
		}
	}
	dgst := opts.Digest
	var wants []wantTag
	if opts.Tag != "" {
		del, ok, err := schema.DeletedTags.Newest(t, name, opts.Tag, dgst)
		if err != nil {
			return err
		}
		switch {
		case ok:
			wants = append(wants, wantTag{opts.Tag, &del})
			dgst = del.Tag.Digest
		case dgst == "":
			return errorf(ErrManifestUnknown, "no deleted tag %q in %q", opts.Tag, name)
		default:
			wants = append(wants, wantTag{name: opts.Tag})
		}
	}
	out.Digest = dgst
	live, err := schema.Manifests.Has(t, name, dgst)
	if err != nil {
		return err
	}
	if !live {
		drec, ok, err := schema.DeletedManifests.Get(t, name, dgst)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "manifest %s in %q is neither stored nor deleted (expired, or never pushed)", dgst, name)
		}
		if opts.Tag == "" {
			for _, tn := range drec.Tags {
				del, ok, err := schema.DeletedTags.Get(t, name, tn, drec.DeletedAt)
				if err != nil {
					return err
				}
				if ok {
					wants = append(wants, wantTag{tn, &del})
				}
			}
		}
		if err := restoreManifest(t, repo, dgst, &drec); err != nil {
			return err
		}
		out.Manifest = true
	} else if opts.Tag == "" {
		return errorf(ErrManifestUnknown, "manifest %s in %q is not deleted", dgst, name)
	}
	for _, w := range wants {
		if err := restoreTag(t, repo, dgst, w, opts.Force, out); err != nil {
			return err
		}
	}
	return repo.save(t)
}

// restoreManifest brings a deleted manifest back to the live tables.
func restoreManifest(t *txn, repo *repoState, dgst digest.Digest, drec *schema.DeletedManifest) error {
	name := repo.name
	rec := drec.Manifest
	if err := schema.Details.Load(t, name, dgst, &rec); err != nil {
		return err
	}
	det := rec.Detail
	var missing []string
	for _, c := range det.Children {
		ok, err := schema.Manifests.Has(t, name, c)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		state := "gone"
		if del, err := schema.DeletedManifests.Has(t, name, c); err != nil {
			return err
		} else if del {
			state = "deleted"
		}
		missing = append(missing, fmt.Sprintf("%s (%s)", c, state))
	}
	if len(missing) > 0 {
		return errorf(ErrRestoreBlocked, "index %s in %q: children not stored: %s; restore them first", dgst, name, strings.Join(missing, ", "))
	}
	if rec.Subject != "" {
		del, err := schema.DeletedManifests.Has(t, name, rec.Subject)
		if err != nil {
			return err
		}
		if del {
			return errorf(ErrRestoreBlocked, "referrer %s in %q: its subject %s is deleted; restore the subject first", dgst, name, rec.Subject)
		}
	}
	if err := relink(t, name, det.Blobs); err != nil {
		return err
	}
	for _, c := range det.Children {
		if err := schema.Children.Put(t, name, c, dgst); err != nil {
			return err
		}
	}
	if rec.Subject != "" {
		if err := schema.Referrers.Put(t, name, rec.Subject, dgst, rec.Descriptor(dgst)); err != nil {
			return err
		}
	}
	rec.Tags, rec.UntaggedSince = 0, t.now
	if err := schema.Untagged.Put(t, t.now, name, dgst); err != nil {
		return err
	}
	if err := schema.Manifests.Put(t, name, dgst, &rec); err != nil {
		return err
	}
	if err := schema.DeletedManifests.Delete(t, name, dgst, drec.DeletedAt); err != nil {
		return err
	}
	repo.rec.ManifestCount++
	t.emit(Event{Action: ActionRestore, Repository: name, Digest: dgst, MediaType: rec.MediaType, Size: rec.Size})
	return nil
}

// relink counts a restored manifest's references in the blob links of repo
// again, linking a blob anew where the link went meanwhile (a blob DELETE,
// a repository delete). The blob records kept their references throughout.
func relink(t *txn, repo string, blobs []digest.Digest) error {
	for _, d := range blobs {
		g, ok, err := schema.Blobs.Get(t, d)
		if err != nil {
			return err
		}
		if !ok || g.Deleting {
			return errorf(ErrManifestBlobUnknown, "blob %s in %q is gone", d, repo)
		}
		l, ok, err := schema.Links.Get(t, repo, d)
		if err != nil {
			return err
		}
		if !ok {
			if err := schema.Links.Create(t, repo, d, &schema.Link{CreatedAt: t.now, Refs: 1}); err != nil {
				return err
			}
			t.emit(Event{Action: ActionBlobLink, Repository: repo, Digest: d})
			continue
		}
		l.Refs++
		if err := schema.Links.Put(t, repo, d, &l); err != nil {
			return err
		}
	}
	return nil
}

// restoreTag points w at dgst, overwriting another manifest's tag only
// with force, and gives it back its deleted record's attributes.
func restoreTag(t *txn, repo *repoState, dgst digest.Digest, w wantTag, force bool, out *Restoration) error {
	name := repo.name
	cur, ok, err := schema.Tags.Get(t, name, w.name)
	if err != nil {
		return err
	}
	switch {
	case ok && cur.Digest == dgst:
	case ok && !force:
		return errorf(ErrConflict, "tag %q in %q points to %s; restore with force to overwrite it", w.name, name, cur.Digest)
	case ok:
		if err := tag.CheckTagMove(repo.item(), tag.Tag(w.name, cur.Attributes)); err != nil {
			return err
		}
		if err := keepTag(t, name, w.name, &cur); err != nil {
			return err
		}
		if _, err := setTagAs(t, repo, w.name, dgst, nil, MoveRestore); err != nil {
			return err
		}
		out.Overwritten = append(out.Overwritten, tagProperties(w.name, &cur))
		if err := dropOrphan(t, repo, cur.Digest, out); err != nil {
			return err
		}
	default:
		if _, err := setTagAs(t, repo, w.name, dgst, nil, MoveRestore); err != nil {
			return err
		}
	}
	out.Tags = append(out.Tags, w.name)
	if w.del == nil {
		return nil
	}
	if !(ok && cur.Digest == dgst) {
		rec, _, err := schema.Tags.Get(t, name, w.name)
		if err != nil {
			return err
		}
		rec.CreatedAt, rec.Attributes = w.del.Tag.CreatedAt, w.del.Tag.Attributes
		if err := schema.Tags.Put(t, name, w.name, &rec); err != nil {
			return err
		}
	}
	if err := schema.DeletedTags.Delete(t, name, w.name, w.del.DeletedAt); err != nil {
		return err
	}
	t.emit(Event{Action: ActionRestore, Repository: name, Tag: w.name, Digest: dgst})
	return nil
}

// dropOrphan soft-deletes manifest dgst with its referrers when a forced
// restore took its last tag and nothing keeps it: it is not a child of an
// index, and no manifest of its referrers graph is tagged or locked.
func dropOrphan(t *txn, repo *repoState, dgst digest.Digest, out *Restoration) error {
	rec, ok, err := schema.Manifests.Get(t, repo.name, dgst)
	if err != nil || !ok || rec.Tags > 0 {
		return err
	}
	graph, err := referrersGraph(t, repo.name, dgst)
	if err != nil {
		return err
	}
	if err := checkNoParents(t, repo.name, graph); err != nil {
		return nil // a child of an index stays
	}
	recs := make([]*schema.Manifest, len(graph))
	for i, d := range graph {
		m, ok, err := schema.Manifests.Get(t, repo.name, d)
		if err != nil {
			return err
		}
		if !ok || m.Tags > 0 || m.Attributes.Locked() {
			return nil
		}
		recs[i] = &m
	}
	if err := deleteGraph(t, repo, graph, recs, nil); err != nil {
		return err
	}
	out.Deleted = append(out.Deleted, graph...)
	return nil
}
