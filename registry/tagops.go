package registry

import (
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/tag"
)

// Tag bookkeeping shared by manifest pushes, tag moves, untags and deletes.
// Each runs inside the caller's write transaction.

// setTag points name at dgst (a manifest that exists in the repository),
// after checking cas when it is not nil (see newCAS). It reports whether
// anything changed.
func (r *Registry) setTag(t *txn, repo *repoState, name string, dgst digest.Digest, cas *casCond) (bool, error) {
	tk := key(tTag, repo.name, name)
	var rec tagRecord
	ok, err := getRec(t, tk, &rec)
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
		if err := r.tagLeft(t, repo.name, rec.Digest, name); err != nil {
			return false, err
		}
	} else {
		if err := tag.CheckWrite(repo.item()); err != nil {
			return false, err
		}
		rec = tagRecord{CreatedAt: t.now, Attributes: tag.DefaultAttributes()}
		repo.rec.TagCount++
	}
	rec.Digest = dgst
	rec.UpdatedAt = t.now
	if err := putRec(t, tk, &rec); err != nil {
		return false, err
	}
	if err := r.tagArrived(t, repo.name, dgst, name); err != nil {
		return false, err
	}
	t.emit(Event{Action: ActionTag, Repository: repo.name, Tag: name, Digest: dgst})
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

// removeTag deletes a tag without lock checks (callers check first).
func (r *Registry) removeTag(t *txn, repo *repoState, name string, dgst digest.Digest) error {
	if err := t.Delete(key(tTag, repo.name, name)); err != nil {
		return err
	}
	repo.rec.TagCount--
	return r.tagLeft(t, repo.name, dgst, name)
}

// tagArrived records that tag now points at dgst.
func (r *Registry) tagArrived(t *txn, repo string, dgst digest.Digest, name string) error {
	if err := t.Put(key(tDigestTags, repo, dgst.String(), name), nil); err != nil {
		return err
	}
	var m manifestRecord
	mk := key(tManifest, repo, dgst.String())
	ok, err := getRec(t, mk, &m)
	if err != nil || !ok {
		return err
	}
	if m.Tags == 0 && !m.UntaggedSince.IsZero() {
		if err := t.Delete(untaggedKey(m.UntaggedSince, repo, dgst)); err != nil {
			return err
		}
		m.UntaggedSince = time.Time{}
	}
	m.Tags++
	return putRec(t, mk, &m)
}

// tagLeft records that tag no longer points at dgst; a manifest left without
// tags starts its untagged time.
func (r *Registry) tagLeft(t *txn, repo string, dgst digest.Digest, name string) error {
	if err := t.Delete(key(tDigestTags, repo, dgst.String(), name)); err != nil {
		return err
	}
	var m manifestRecord
	mk := key(tManifest, repo, dgst.String())
	ok, err := getRec(t, mk, &m)
	if err != nil || !ok {
		return err
	}
	if m.Tags > 0 {
		m.Tags--
	}
	if m.Tags == 0 {
		m.UntaggedSince = t.now
		if err := t.Put(untaggedKey(m.UntaggedSince, repo, dgst), nil); err != nil {
			return err
		}
	}
	return putRec(t, mk, &m)
}

func untaggedKey(at time.Time, repo string, dgst digest.Digest) []byte {
	return key(tUntagged, timeKey(at), repo, dgst.String())
}
