package registry

import (
	"context"
	"slices"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/tag"
)

// Delete deletes a manifest by digest with every tag that points to it and,
// as ACR does, its referrers graph (signatures, SBOMs and their own
// referrers). The whole graph is checked for locks first and deleted in one
// transaction: either everything goes or nothing does. Blobs no longer
// referenced are left to garbage collection. A repository whose last
// manifest goes leaves the catalog unless its deleteEnabled is false.
func (ms *Manifests) Delete(ctx context.Context, dgst digest.Digest) error {
	if err := ms.repo.reg.enter(); err != nil {
		return err
	}
	defer ms.repo.reg.leave()
	if err := validDigest(dgst); err != nil {
		return err
	}
	name := ms.repo.name
	return ms.repo.reg.update(ctx, func(t *txn) error {
		repo, err := loadRepo(t, name)
		if err != nil {
			return err
		}
		rec, ok, err := schema.Manifests.Get(t, name, dgst)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "manifest %s in %q", dgst, name)
		}
		graph, err := referrersGraph(t, name, dgst)
		if err != nil {
			return err
		}
		return deleteGraph(t, repo, graph, []*schema.Manifest{&rec}, nil)
	})
}

// deleteGraph deletes a manifest and its referrers graph (from
// referrersGraph) after the lock checks, in the caller's transaction, and
// takes a repository left without manifests out of the catalog unless its
// deleteEnabled is false. recs holds the records of the first len(recs)
// manifests of graph, read in this transaction (deleting one manifest
// changes no other's record), and dets what was read of their details,
// in this transaction or before (a nil entry: not read); the rest are read
// here.
func deleteGraph(t *txn, repo *repoState, graph []digest.Digest, recs []*schema.Manifest, dets []*schema.DetailRefs) error {
	if err := checkNoParents(t, repo.name, graph); err != nil {
		return err
	}
	for i, d := range graph {
		var rec *schema.Manifest
		if i < len(recs) {
			rec = recs[i]
		}
		var det *schema.DetailRefs
		if i < len(dets) {
			det = dets[i]
		}
		if err := deleteManifest(t, repo, d, rec, det, true); err != nil {
			return err
		}
	}
	if repo.rec.ManifestCount <= 0 && repo.rec.Attributes.DeleteEnabled {
		return leaveCatalog(t, repo)
	}
	return repo.save(t)
}

// referrersGraph returns dgst followed by every manifest whose subject chain
// leads to it, breadth first.
func referrersGraph(tx meta.Tx, repo string, dgst digest.Digest) ([]digest.Digest, error) {
	graph := []digest.Digest{dgst}
	var seen map[digest.Digest]bool // made with the first referrer: most manifests have none
	for i := 0; i < len(graph); i++ {
		refs, err := schema.Referrers.List(tx, repo, graph[i])
		if err != nil {
			return nil, err
		}
		if len(refs) > 0 && seen == nil {
			seen = map[digest.Digest]bool{dgst: true}
		}
		for _, d := range refs {
			if !seen[d] {
				seen[d] = true
				graph = append(graph, d)
			}
		}
	}
	return graph, nil
}

// checkNoParents refuses to delete a manifest that an index outside the
// graph still holds as a child: the index would be left broken.
func checkNoParents(tx meta.Tx, repo string, graph []digest.Digest) error {
	for _, d := range graph {
		var parent digest.Digest
		err := schema.Children.ScanParents(tx, repo, d, func(p digest.Digest) bool {
			if !slices.Contains(graph, p) {
				parent = p
				return false
			}
			return true
		})
		if err != nil {
			return err
		}
		if parent != "" {
			return errorf(ErrManifestReferenced, "manifest %s in %q is a child of index %s", d, repo, parent)
		}
	}
	return nil
}

// deleteManifest removes one manifest, its tags, bytes and index entries and
// drops its blob references, inside the caller's transaction. rec is its
// record when the caller read it in this transaction, else nil; det its
// detail's references when the caller read them (a detail never changes
// while the manifest exists, and is the same when it is pushed again), else
// nil. With check set it first applies the lock rules. A referrer that is
// already gone (deleted earlier in the same graph) is skipped. Under soft
// delete (t.soft) the manifest and its tags move to the deleted state
// instead (softDeleteManifest).
func deleteManifest(t *txn, repo *repoState, dgst digest.Digest, rec *schema.Manifest, det *schema.DetailRefs, check bool) error {
	name := repo.name
	if rec == nil {
		m, ok, err := schema.Manifests.Get(t, name, dgst)
		if err != nil || !ok {
			return err
		}
		rec = &m
	}
	if det == nil {
		refs, _, err := schema.Details.Refs(t, name, dgst)
		if err != nil {
			return err
		}
		det = &refs
	}
	var err error
	var tagNames []string
	if rec.Tags > 0 { // an untagged manifest (most of a purge) needs no scan
		if tagNames, err = schema.ManifestTags.List(t, name, dgst); err != nil {
			return err
		}
	}
	tags := make([]tag.Item, 0, len(tagNames))
	var trs []schema.Tag // under soft delete, the tags to keep
	for _, tn := range tagNames {
		tr, _, err := schema.Tags.Get(t, name, tn)
		if err != nil {
			return err
		}
		tags = append(tags, tag.Tag(tn, tr.Attributes))
		if t.soft {
			trs = append(trs, tr)
		}
	}
	if check {
		if err := tag.CheckManifestDelete(repo.item(), tag.Manifest(dgst.String(), rec.Attributes), tags...); err != nil {
			return err
		}
	}
	for i, tn := range tagNames {
		if err := recordTagMove(t, name, tn, deleteMoveKind(check), dgst, ""); err != nil {
			return err
		}
		if t.soft {
			if err := keepTag(t, name, tn, &trs[i]); err != nil {
				return err
			}
		}
		if err := schema.Tags.Delete(t, name, tn); err != nil {
			return err
		}
		if err := schema.ManifestTags.Delete(t, name, dgst, tn); err != nil {
			return err
		}
		if err := schema.Pulls.Delete(t, name, schema.PullTag, tn); err != nil {
			return err
		}
		repo.rec.TagCount--
	}
	if !rec.UntaggedSince.IsZero() {
		if err := schema.Untagged.Delete(t, rec.UntaggedSince, name, dgst); err != nil {
			return err
		}
	}
	if rec.Subject != "" {
		if err := schema.Referrers.Delete(t, name, rec.Subject, dgst); err != nil {
			return err
		}
	}
	for _, c := range det.Children {
		if err := schema.Children.Delete(t, name, c, dgst); err != nil {
			return err
		}
	}
	if t.soft {
		return softDeleteManifest(t, repo, dgst, rec, det, tagNames)
	}
	if err := dropRefs(t, name, det.Blobs); err != nil {
		return err
	}
	if err := schema.Details.Delete(t, name, dgst); err != nil {
		return err
	}
	if err := schema.ManifestBytes.Delete(t, name, dgst); err != nil {
		return err
	}
	if err := schema.Manifests.Delete(t, name, dgst); err != nil {
		return err
	}
	if err := schema.Pulls.Delete(t, name, schema.PullManifest, dgst.String()); err != nil {
		return err
	}
	repo.rec.ManifestCount--
	t.emit(Event{Action: ActionDelete, Repository: name, Digest: dgst, MediaType: rec.MediaType, Size: rec.Size})
	return nil
}
