package registry

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/internal/schema"
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

func tagProperties(name string, r *schema.Tag) TagProperties {
	return TagProperties{Name: name, Digest: r.Digest, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Attributes: r.Attributes}
}

// List returns tag names in lexical order after opts.Last, at most opts.N.
// Tags with listEnabled=false are left out. A page costs a seek and a scan
// of its own length, whatever the repository's size.
func (ts *Tags) List(ctx context.Context, opts ListOptions) ([]string, error) {
	if err := ts.repo.reg.enter(); err != nil {
		return nil, err
	}
	defer ts.repo.reg.leave()
	var names []string
	err := ts.scan(ctx, opts, func(name string, _ *schema.Tag) { names = append(names, name) })
	return names, err
}

// ListProperties is List with each tag's properties.
func (ts *Tags) ListProperties(ctx context.Context, opts ListOptions) ([]TagProperties, error) {
	if err := ts.repo.reg.enter(); err != nil {
		return nil, err
	}
	defer ts.repo.reg.leave()
	var out []TagProperties
	err := ts.scan(ctx, opts, func(name string, rec *schema.Tag) { out = append(out, tagProperties(name, rec)) })
	return out, err
}

func (ts *Tags) scan(ctx context.Context, opts ListOptions, add func(string, *schema.Tag)) error {
	return ts.repo.reg.view(ctx, func(tx meta.Tx) error {
		n := 0
		return schema.Tags.Scan(tx, ts.repo.name, opts.Last, func(name string, rec *schema.Tag) bool {
			if !rec.Attributes.ListEnabled {
				return true
			}
			add(name, rec)
			n++
			return opts.N <= 0 || n < opts.N
		})
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
	if err := ts.repo.reg.enter(); err != nil {
		return err
	}
	defer ts.repo.reg.leave()
	if err := tag.ValidateName(name); err != nil {
		return errorf(ErrTagInvalid, "%w", err)
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
		ok, err := schema.Manifests.Has(t, ts.repo.name, dgst)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "manifest %s in %q", dgst, ts.repo.name)
		}
		changed, err := setTagAs(t, repo, name, dgst, cas, MoveTag)
		if err != nil || !changed {
			return err
		}
		return repo.save(t)
	})
}

// Untag removes a tag; its manifest stays, untagged if it was the last tag.
func (ts *Tags) Untag(ctx context.Context, name string) error {
	if err := ts.repo.reg.enter(); err != nil {
		return err
	}
	defer ts.repo.reg.leave()
	if err := tag.ValidateName(name); err != nil {
		return errorf(ErrTagInvalid, "%w", err)
	}
	reg := ts.repo.reg
	return reg.update(ctx, func(t *txn) error {
		repo, err := loadRepo(t, ts.repo.name)
		if err != nil {
			return err
		}
		rec, ok, err := schema.Tags.Get(t, ts.repo.name, name)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "tag %q in %q", name, ts.repo.name)
		}
		if err := tag.CheckUntag(repo.item(), tag.Tag(name, rec.Attributes)); err != nil {
			return err
		}
		if err := removeTag(t, repo, name, rec.Digest); err != nil {
			return err
		}
		t.emit(Event{Action: ActionUntag, Repository: ts.repo.name, Tag: name, Digest: rec.Digest})
		return repo.save(t)
	})
}

// Properties returns a tag's properties.
func (ts *Tags) Properties(ctx context.Context, name string) (TagProperties, error) {
	if err := ts.repo.reg.enter(); err != nil {
		return TagProperties{}, err
	}
	defer ts.repo.reg.leave()
	if err := tag.ValidateName(name); err != nil {
		return TagProperties{}, errorf(ErrTagInvalid, "%w", err)
	}
	var p TagProperties
	err := ts.repo.reg.view(ctx, func(tx meta.Tx) error {
		rec, ok, err := schema.Tags.Get(tx, ts.repo.name, name)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "tag %q in %q", name, ts.repo.name)
		}
		p = tagProperties(name, &rec)
		return nil
	})
	return p, err
}

// SetAttributes changes a tag's changeable attributes.
func (ts *Tags) SetAttributes(ctx context.Context, name string, patch tag.Patch) (TagProperties, error) {
	if err := ts.repo.reg.enter(); err != nil {
		return TagProperties{}, err
	}
	defer ts.repo.reg.leave()
	if err := tag.ValidateName(name); err != nil {
		return TagProperties{}, errorf(ErrTagInvalid, "%w", err)
	}
	var p TagProperties
	err := ts.repo.reg.update(ctx, func(t *txn) error {
		rec, ok, err := schema.Tags.Get(t, ts.repo.name, name)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "tag %q in %q", name, ts.repo.name)
		}
		rec.Attributes = patch.Apply(rec.Attributes)
		rec.UpdatedAt = t.now
		p = tagProperties(name, &rec)
		t.emit(Event{Action: ActionAttributes, Repository: ts.repo.name, Tag: name, Digest: rec.Digest})
		return schema.Tags.Put(t, ts.repo.name, name, &rec)
	})
	return p, err
}
