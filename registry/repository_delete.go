package registry

import (
	"context"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/tag"
)

// RepositoryDeletion reports what deleting a repository removed (ACR's
// DeleteRepositoryResult).
type RepositoryDeletion struct {
	// Manifests are the digests of the deleted manifests, in digest order.
	Manifests []digest.Digest
	// Tags are the deleted tags, in lexical order.
	Tags []string
}

// DeleteRepositoryReport is DeleteRepository that also reports the manifests
// and tags it removed. The report is gathered in the transaction that
// deletes them, so it names exactly what went, hidden items included.
func (r *Registry) DeleteRepositoryReport(ctx context.Context, name string) (RepositoryDeletion, error) {
	if err := r.enter(); err != nil {
		return RepositoryDeletion{}, err
	}
	defer r.leave()
	if err := ValidateName(name); err != nil {
		return RepositoryDeletion{}, err
	}
	var rep RepositoryDeletion
	err := r.update(ctx, func(t *txn) error {
		rep = RepositoryDeletion{}
		return deleteRepository(t, name, &rep)
	})
	if err != nil {
		return RepositoryDeletion{}, err
	}
	return rep, nil
}

// deleteRepository deletes repository name in the caller's transaction,
// filling rep (when not nil) with what it deleted.
func deleteRepository(t *txn, name string, rep *RepositoryDeletion) error {
	repo, err := loadRepo(t, name)
	if err != nil {
		return err
	}
	// Links survive the manifest deletes below, so one scan serves both
	// the existence check and the unlinking at the end.
	blobs, err := schema.Links.List(t, name)
	if err != nil {
		return err
	}
	if !repo.exists && len(blobs) == 0 {
		return errorf(ErrNameUnknown, "repository %q", name)
	}
	var digests []digest.Digest
	var scanErr error
	contents := func(yield func(tag.Item) bool) {
		stopped := false
		scanErr = schema.Tags.Scan(t, name, "", func(tn string, tr *schema.Tag) bool {
			if rep != nil {
				rep.Tags = append(rep.Tags, tn)
			}
			stopped = !yield(tag.Tag(tn, tr.Attributes))
			return !stopped
		})
		if scanErr != nil || stopped {
			return
		}
		scanErr = schema.Manifests.Scan(t, name, "", func(d digest.Digest, mr *schema.Manifest) bool {
			digests = append(digests, d)
			return yield(tag.Manifest(d.String(), mr.Attributes))
		})
	}
	if err := tag.CheckRepositoryDelete(repo.item(), contents); err != nil {
		return err
	}
	if scanErr != nil {
		return scanErr
	}
	if rep != nil {
		rep.Manifests = digests
	}
	for _, d := range digests {
		if err := deleteManifest(t, repo, d, nil, nil, false); err != nil {
			return err
		}
	}
	for _, d := range blobs {
		if err := unlink(t, name, d); err != nil {
			return err
		}
	}
	t.emit(Event{Action: ActionDeleteRepository, Repository: name})
	if !repo.exists {
		return nil // only blob links: nothing to keep
	}
	return leaveCatalog(t, repo)
}
