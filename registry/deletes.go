package registry

import (
	"context"

	"github.com/opencontainers/go-digest"

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
	if err := validDigest(dgst); err != nil {
		return err
	}
	reg := ms.repo.reg
	name := ms.repo.name
	return reg.update(ctx, func(t *txn) error {
		repo, err := loadRepo(t, name)
		if err != nil {
			return err
		}
		ok, err := exists(t, key(tManifest, name, dgst.String()))
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
		if err := checkNoParents(t, name, graph); err != nil {
			return err
		}
		for _, d := range graph {
			if err := reg.deleteManifest(t, repo, d, true); err != nil {
				return err
			}
		}
		if repo.rec.ManifestCount <= 0 && repo.rec.Attributes.DeleteEnabled {
			return t.Delete(key(tRepo, name))
		}
		return repo.save(t)
	})
}

// referrersGraph returns dgst followed by every manifest whose subject chain
// leads to it, breadth first.
func referrersGraph(tx meta.Tx, repo string, dgst digest.Digest) ([]digest.Digest, error) {
	graph := []digest.Digest{dgst}
	seen := map[digest.Digest]bool{dgst: true}
	for i := 0; i < len(graph); i++ {
		err := tx.Scan(meta.Prefix(prefix(tReferrer, repo, graph[i].String())), func(k, _ []byte) bool {
			d := digest.Digest(lastPart(k))
			if !seen[d] {
				seen[d] = true
				graph = append(graph, d)
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	return graph, nil
}

// checkNoParents refuses to delete a manifest that an index outside the
// graph still holds as a child: the index would be left broken.
func checkNoParents(tx meta.Tx, repo string, graph []digest.Digest) error {
	in := make(map[string]bool, len(graph))
	for _, d := range graph {
		in[d.String()] = true
	}
	for _, d := range graph {
		var parent string
		err := tx.Scan(meta.Prefix(prefix(tChild, repo, d.String())), func(k, _ []byte) bool {
			if p := lastPart(k); !in[p] {
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
// drops its blob references. With check set it first applies the lock rules.
// A referrer that is already gone (deleted earlier in the same graph) is
// skipped.
func (r *Registry) deleteManifest(t *txn, repo *repoState, dgst digest.Digest, check bool) error {
	name := repo.name
	mk := key(tManifest, name, dgst.String())
	var rec manifestRecord
	ok, err := getRec(t, mk, &rec)
	if err != nil || !ok {
		return err
	}
	if err := loadDetail(t, name, dgst, &rec); err != nil {
		return err
	}
	var tags []tag.Item
	var tagNames []string
	var scanErr error
	err = t.Scan(meta.Prefix(prefix(tDigestTags, name, dgst.String())), func(k, _ []byte) bool {
		tn := lastPart(k)
		var tr tagRecord
		if _, scanErr = getRec(t, key(tTag, name, tn), &tr); scanErr != nil {
			return false
		}
		tags = append(tags, tag.Tag(tn, tr.Attributes))
		tagNames = append(tagNames, tn)
		return true
	})
	if err == nil {
		err = scanErr
	}
	if err != nil {
		return err
	}
	if check {
		if err := tag.CheckManifestDelete(repo.item(), tag.Manifest(dgst.String(), rec.Attributes), tags...); err != nil {
			return err
		}
	}
	for _, tn := range tagNames {
		if err := t.Delete(key(tTag, name, tn)); err != nil {
			return err
		}
		if err := t.Delete(key(tDigestTags, name, dgst.String(), tn)); err != nil {
			return err
		}
		repo.rec.TagCount--
	}
	if !rec.UntaggedSince.IsZero() {
		if err := t.Delete(untaggedKey(rec.UntaggedSince, name, dgst)); err != nil {
			return err
		}
	}
	if rec.Subject != "" {
		if err := t.Delete(key(tReferrer, name, rec.Subject.String(), dgst.String())); err != nil {
			return err
		}
	}
	for _, c := range rec.Detail.Children {
		if err := t.Delete(key(tChild, name, c.String(), dgst.String())); err != nil {
			return err
		}
	}
	if err := r.dropRefs(t, name, rec.Detail.Blobs); err != nil {
		return err
	}
	if err := t.Delete(key(tDetail, name, dgst.String())); err != nil {
		return err
	}
	if err := t.Delete(key(tBytes, name, dgst.String())); err != nil {
		return err
	}
	if err := t.Delete(mk); err != nil {
		return err
	}
	repo.rec.ManifestCount--
	t.emit(Event{Action: ActionDelete, Repository: name, Digest: dgst, MediaType: rec.MediaType, Size: rec.Size})
	return nil
}

// deleteRepository removes everything of a repository in the caller's
// transaction, after the lock checks.
func (r *Registry) deleteRepository(t *txn, name string) error {
	repo, err := loadRepo(t, name)
	if err != nil {
		return err
	}
	var digests, blobs []digest.Digest
	// Links survive the manifest deletes below, so one scan serves both the
	// existence check and the unlinking at the end.
	err = t.Scan(meta.Prefix(prefix(tLink, name)), func(k, _ []byte) bool {
		blobs = append(blobs, digest.Digest(lastPart(k)))
		return true
	})
	if err != nil {
		return err
	}
	if !repo.exists && len(blobs) == 0 {
		return errorf(ErrNameUnknown, "repository %q", name)
	}
	var decodeErr error
	contents := func(yield func(tag.Item) bool) {
		stopped := false
		err := t.Scan(meta.Prefix(prefix(tTag, name)), func(k, v []byte) bool {
			var tr tagRecord
			if decodeErr = decodeRec(k, v, &tr); decodeErr != nil {
				return false
			}
			stopped = !yield(tag.Tag(lastPart(k), tr.Attributes))
			return !stopped
		})
		if decodeErr = firstErr(decodeErr, err); decodeErr != nil || stopped {
			return
		}
		err = t.Scan(meta.Prefix(prefix(tManifest, name)), func(k, v []byte) bool {
			var mr manifestRecord
			if decodeErr = decodeRec(k, v, &mr); decodeErr != nil {
				return false
			}
			digests = append(digests, digest.Digest(lastPart(k)))
			return yield(tag.Manifest(lastPart(k), mr.Attributes))
		})
		decodeErr = firstErr(decodeErr, err)
	}
	if err := tag.CheckRepositoryDelete(repo.item(), contents); err != nil {
		return err
	}
	if decodeErr != nil {
		return decodeErr
	}
	for _, d := range digests {
		if err := r.deleteManifest(t, repo, d, false); err != nil {
			return err
		}
	}
	for _, d := range blobs {
		if err := r.unlink(t, name, d); err != nil {
			return err
		}
	}
	t.emit(Event{Action: ActionDeleteRepository, Repository: name})
	return t.Delete(key(tRepo, name))
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
