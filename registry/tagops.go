package registry

import (
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/tag"
)

// Tag bookkeeping shared by manifest pushes, tag moves, untags and deletes.
// Each runs inside the caller's write transaction.

// setTag points name at dgst (a manifest that exists in the repository),
// after checking cas when it is not nil (see newCAS). It reports whether
// anything changed. The tag history records the move as a push.
func setTag(t *txn, repo *repoState, name string, dgst digest.Digest, cas *casCond) (bool, error) {
	return setTagAs(t, repo, name, dgst, cas, MovePush)
}

// setTagAs is setTag with the kind of move the tag history records.
func setTagAs(t *txn, repo *repoState, name string, dgst digest.Digest, cas *casCond, kind TagMoveKind) (bool, error) {
	rec, ok, err := schema.Tags.Get(t, repo.name, name)
	if err != nil {
		return false, err
	}
	if cas != nil {
		if err := cas.check(name, ok, rec.Digest); err != nil {
			return false, err
		}
	}
	if ok && rec.Digest == dgst {
		return false, nil
	}
	if ok {
		if err := tag.CheckTagMove(repo.item(), tag.Tag(name, rec.Attributes)); err != nil {
			return false, err
		}
		if err := tagLeft(t, repo.name, rec.Digest, name); err != nil {
			return false, err
		}
	} else {
		if err := tag.CheckWrite(repo.item()); err != nil {
			return false, err
		}
		rec = schema.Tag{CreatedAt: t.now, Attributes: tag.DefaultAttributes()}
		if lock, lockDelete := t.locks.Match(repo.name, name); lock {
			rec.Attributes.WriteEnabled = false
			rec.Attributes.DeleteEnabled = !lockDelete
		}
		repo.rec.TagCount++
	}
	if err := recordTagMove(t, repo.name, name, kind, rec.Digest, dgst); err != nil {
		return false, err
	}
	rec.Digest = dgst
	rec.UpdatedAt = t.now
	if err := schema.Tags.Put(t, repo.name, name, &rec); err != nil {
		return false, err
	}
	if err := tagArrived(t, repo.name, dgst, name); err != nil {
		return false, err
	}
	act := ActionTag
	if kind == MoveRevert {
		act = ActionRevert
	}
	t.emit(Event{Action: act, Repository: repo.name, Tag: name, Digest: dgst})
	return true, nil
}

// casCond is the expectation of a compare-and-swap tag move.
type casCond struct {
	// want is the digest the tag must point to; empty means the tag must not exist.
	want digest.Digest
}

// newCAS returns the condition of a tag move: nil for none, "must not
// exist" when absent is set, else "must point to ifMatch" when it is given.
func newCAS(ifMatch digest.Digest, absent bool) *casCond {
	switch {
	case absent:
		return &casCond{}
	case ifMatch != "":
		return &casCond{want: ifMatch}
	}
	return nil
}

func (c *casCond) check(name string, ok bool, have digest.Digest) error {
	switch {
	case c.want == "" && ok:
		return errorf(ErrConflict, "tag %q exists (points to %s)", name, have)
	case c.want != "" && !ok:
		return errorf(ErrConflict, "tag %q does not exist, expected %s", name, c.want)
	case c.want != "" && have != c.want:
		return errorf(ErrConflict, "tag %q points to %s, expected %s", name, have, c.want)
	}
	return nil
}

// removeTag deletes a tag without lock checks (callers check first); the
// tag history records an untag, and under soft delete the tag is kept as a
// deleted tag (softTag).
func removeTag(t *txn, repo *repoState, name string, dgst digest.Digest) error {
	if err := recordTagMove(t, repo.name, name, MoveUntag, dgst, ""); err != nil {
		return err
	}
	if err := softTag(t, repo.name, name); err != nil {
		return err
	}
	if err := schema.Tags.Delete(t, repo.name, name); err != nil {
		return err
	}
	if err := schema.Pulls.Delete(t, repo.name, schema.PullTag, name); err != nil {
		return err
	}
	repo.rec.TagCount--
	return tagLeft(t, repo.name, dgst, name)
}

// tagArrived records that tag now points at dgst.
func tagArrived(t *txn, repo string, dgst digest.Digest, name string) error {
	if err := schema.ManifestTags.Put(t, repo, dgst, name); err != nil {
		return err
	}
	m, ok, err := schema.Manifests.Get(t, repo, dgst)
	if err != nil || !ok {
		return err
	}
	if m.Tags == 0 && !m.UntaggedSince.IsZero() {
		if err := schema.Untagged.Delete(t, m.UntaggedSince, repo, dgst); err != nil {
			return err
		}
		m.UntaggedSince = time.Time{}
	}
	m.Tags++
	return schema.Manifests.Put(t, repo, dgst, &m)
}

// tagLeft records that tag no longer points at dgst; a manifest left without
// tags starts its untagged time.
func tagLeft(t *txn, repo string, dgst digest.Digest, name string) error {
	if err := schema.ManifestTags.Delete(t, repo, dgst, name); err != nil {
		return err
	}
	m, ok, err := schema.Manifests.Get(t, repo, dgst)
	if err != nil || !ok {
		return err
	}
	if m.Tags > 0 {
		m.Tags--
	}
	if m.Tags == 0 {
		m.UntaggedSince = t.now
		if err := schema.Untagged.Put(t, m.UntaggedSince, repo, dgst); err != nil {
			return err
		}
	}
	return schema.Manifests.Put(t, repo, dgst, &m)
}
