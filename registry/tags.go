package registry

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/tag"
)

// Tags are a repository's tag operations.
type Tags struct {
	repo *Repository
}

// TagProperties describe a tag as ACR shows it.
type TagProperties struct {
	// Name is the tag.
	Name string
	// Digest is the manifest it points to.
	Digest digest.Digest
	// CreatedAt is when the tag was first set.
	CreatedAt time.Time
	// UpdatedAt is when it last moved or changed attributes.
	UpdatedAt time.Time
	// Attributes are the tag's own changeable attributes.
	Attributes tag.Attributes
}

func (r *tagRecord) properties(name string) TagProperties {
	return TagProperties{Name: name, Digest: r.Digest, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Attributes: r.Attributes}
}

// List returns tag names in lexical order after opts.Last, at most opts.N.
// Tags with listEnabled=false are left out. A page costs a seek and a scan
// of its own length, whatever the repository's size.
func (ts *Tags) List(ctx context.Context, opts ListOptions) ([]string, error) {
	var names []string
	err := ts.scan(ctx, opts, func(name string, _ *tagRecord) { names = append(names, name) })
	return names, err
}

// ListProperties is List with each tag's properties.
func (ts *Tags) ListProperties(ctx context.Context, opts ListOptions) ([]TagProperties, error) {
	var out []TagProperties
	err := ts.scan(ctx, opts, func(name string, rec *tagRecord) { out = append(out, rec.properties(name)) })
	return out, err
}

func (ts *Tags) scan(ctx context.Context, opts ListOptions, add func(string, *tagRecord)) error {
	name := ts.repo.name
	return ts.repo.reg.view(ctx, func(tx meta.Tx) error {
		start := prefix(tTag, name)
		if opts.Last != "" {
			start = append(key(tTag, name, opts.Last), 0)
		}
		n := 0
		var derr error
		err := tx.Scan(meta.Range{Start: start, End: meta.PrefixEnd(prefix(tTag, name))}, func(k, v []byte) bool {
			var rec tagRecord
			if derr = decodeRec(k, v, &rec); derr != nil {
				return false
			}
			if !rec.Attributes.ListEnabled {
				return true
			}
			add(lastPart(k), &rec)
			n++
			return opts.N <= 0 || n < opts.N
		})
		return firstErr(derr, err)
	})
}

// Resolve returns the descriptor of the manifest a tag points to.
func (ts *Tags) Resolve(ctx context.Context, name string) (ocispec.Descriptor, error) {
	return ts.repo.Manifests().Stat(ctx, name, GetOptions{})
}

// SetOptions are the per-call settings of Tags.Set.
type SetOptions struct {
	// IfMatch makes the move a compare-and-swap: it succeeds only if the
	// tag points to this digest now.
	IfMatch digest.Digest
	// IfAbsent makes it succeed only if the tag does not exist yet.
	IfAbsent bool
}

// Set points a tag at a manifest stored in the repository, creating or
// moving it. Moving a locked tag is refused (ErrLocked); a lost
// compare-and-swap is ErrConflict.
func (ts *Tags) Set(ctx context.Context, name string, dgst digest.Digest, opts SetOptions) error {
	if err := tag.ValidateName(name); err != nil {
		return errorf(ErrTagInvalid, "%v", err)
	}
	if err := validDigest(dgst); err != nil {
		return err
	}
	cas := newCAS(opts.IfMatch, opts.IfAbsent)
	reg := ts.repo.reg
	return reg.update(ctx, func(t *txn) error {
		repo, err := loadRepo(t, ts.repo.name)
		if err != nil {
			return err
		}
		ok, err := exists(t, key(tManifest, ts.repo.name, dgst.String()))
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "manifest %s in %q", dgst, ts.repo.name)
		}
		changed, err := reg.setTag(t, repo, name, dgst, cas)
		if err != nil || !changed {
			return err
		}
		return repo.save(t)
	})
}

// Untag removes a tag; its manifest stays, untagged if it was the last tag.
func (ts *Tags) Untag(ctx context.Context, name string) error {
	if err := tag.ValidateName(name); err != nil {
		return errorf(ErrTagInvalid, "%v", err)
	}
	reg := ts.repo.reg
	return reg.update(ctx, func(t *txn) error {
		repo, err := loadRepo(t, ts.repo.name)
		if err != nil {
			return err
		}
		var rec tagRecord
		ok, err := getRec(t, key(tTag, ts.repo.name, name), &rec)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "tag %q in %q", name, ts.repo.name)
		}
		if err := tag.CheckUntag(repo.item(), tag.Tag(name, rec.Attributes)); err != nil {
			return err
		}
		if err := reg.removeTag(t, repo, name, rec.Digest); err != nil {
			return err
		}
		t.emit(Event{Action: ActionUntag, Repository: ts.repo.name, Tag: name, Digest: rec.Digest})
		return repo.save(t)
	})
}

// Properties returns a tag's properties.
func (ts *Tags) Properties(ctx context.Context, name string) (TagProperties, error) {
	if err := tag.ValidateName(name); err != nil {
		return TagProperties{}, errorf(ErrTagInvalid, "%v", err)
	}
	var p TagProperties
	err := ts.repo.reg.view(ctx, func(tx meta.Tx) error {
		var rec tagRecord
		ok, err := getRec(tx, key(tTag, ts.repo.name, name), &rec)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "tag %q in %q", name, ts.repo.name)
		}
		p = rec.properties(name)
		return nil
	})
	return p, err
}

// SetAttributes changes a tag's changeable attributes.
func (ts *Tags) SetAttributes(ctx context.Context, name string, patch tag.Patch) (TagProperties, error) {
	if err := tag.ValidateName(name); err != nil {
		return TagProperties{}, errorf(ErrTagInvalid, "%v", err)
	}
	var p TagProperties
	err := ts.repo.reg.update(ctx, func(t *txn) error {
		var rec tagRecord
		tk := key(tTag, ts.repo.name, name)
		ok, err := getRec(t, tk, &rec)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "tag %q in %q", name, ts.repo.name)
		}
		rec.Attributes = patch.Apply(rec.Attributes)
		rec.UpdatedAt = t.now
		p = rec.properties(name)
		t.emit(Event{Action: ActionAttributes, Repository: ts.repo.name, Tag: name, Digest: rec.Digest})
		return putRec(t, tk, &rec)
	})
	return p, err
}
