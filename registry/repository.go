package registry

import (
	"context"
	"time"

	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/tag"
)

// Repository is a handle to one repository of a Registry. It is cheap; get
// one from Registry.Repository whenever needed. Its operations are grouped by
// what they act on: Blobs, Manifests and Tags.
type Repository struct {
	reg  *Registry
	name string
}

// Name returns the repository's name.
func (r *Repository) Name() string { return r.name }

// Blobs returns the repository's blob operations.
func (r *Repository) Blobs() *Blobs { return &Blobs{repo: r} }

// Manifests returns the repository's manifest operations.
func (r *Repository) Manifests() *Manifests { return &Manifests{repo: r} }

// Tags returns the repository's tag operations.
func (r *Repository) Tags() *Tags { return &Tags{repo: r} }

// RepositoryProperties describes a repository as ACR shows it.
type RepositoryProperties struct {
	// Name is the repository's name.
	Name string
	// CreatedAt is when the first manifest was pushed (or attributes set).
	CreatedAt time.Time
	// UpdatedAt is when content or attributes last changed.
	UpdatedAt time.Time
	// ManifestCount and TagCount count what the repository holds.
	ManifestCount int
	// TagCount counts the repository's tags.
	TagCount int
	// Attributes are the repository's changeable attributes.
	Attributes tag.Attributes
}

// Properties returns the repository's properties, or an error wrapping
// ErrNameUnknown when it does not exist.
func (r *Repository) Properties(ctx context.Context) (RepositoryProperties, error) {
	if err := r.reg.enter(); err != nil {
		return RepositoryProperties{}, err
	}
	defer r.reg.leave()
	var rec schema.Repo
	err := r.reg.view(ctx, func(tx meta.Tx) error {
		var ok bool
		var err error
		rec, ok, err = schema.Repos.Get(tx, r.name)
		if err == nil && !ok {
			err = errorf(ErrNameUnknown, "repository %q", r.name)
		}
		return err
	})
	if err != nil {
		return RepositoryProperties{}, err
	}
	return repoProperties(r.name, &rec), nil
}

// SetAttributes changes the repository's changeable attributes. Changing
// attributes is always allowed (it is how a lock is lifted). The repository
// must exist.
func (r *Repository) SetAttributes(ctx context.Context, p tag.Patch) (RepositoryProperties, error) {
	if err := r.reg.enter(); err != nil {
		return RepositoryProperties{}, err
	}
	defer r.reg.leave()
	var rec schema.Repo
	err := r.reg.update(ctx, func(t *txn) error {
		var ok bool
		var err error
		rec, ok, err = schema.Repos.Get(t, r.name)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrNameUnknown, "repository %q", r.name)
		}
		rec.Attributes = p.Apply(rec.Attributes)
		rec.UpdatedAt = t.now
		t.emit(Event{Action: ActionAttributes, Repository: r.name})
		return schema.Repos.Put(t, r.name, &rec)
	})
	if err != nil {
		return RepositoryProperties{}, err
	}
	return repoProperties(r.name, &rec), nil
}

func repoProperties(name string, r *schema.Repo) RepositoryProperties {
	return RepositoryProperties{
		Name: name, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		ManifestCount: r.ManifestCount, TagCount: r.TagCount, Attributes: r.Attributes,
	}
}

// repoState is a repository record loaded inside a transaction; a missing
// repository reads as a new one with default attributes.
type repoState struct {
	name   string
	rec    schema.Repo
	exists bool
	// deleted is the repository's soft-deleted record when it has no live
	// one: rec holds its attributes, and save brings it back.
	deleted *schema.DeletedRepo
}

func loadRepo(tx meta.Tx, name string) (*repoState, error) {
	rec, ok, err := schema.Repos.Get(tx, name)
	if err != nil {
		return nil, err
	}
	s := &repoState{name: name, rec: rec, exists: ok}
	if !ok {
		s.rec.Attributes = tag.DefaultAttributes()
		del, found, err := schema.DeletedRepos.Get(tx, name)
		if err != nil {
			return nil, err
		}
		if found {
			s.deleted = &del
			s.rec = del.Repo
		}
	}
	return s, nil
}

func (s *repoState) item() tag.Item { return tag.Repository(s.name, s.rec.Attributes) }

// save writes the record back, creating the repository if needed.
func (s *repoState) save(t *txn) error {
	if !s.exists {
		if s.deleted != nil {
			if err := comeBack(t, s); err != nil {
				return err
			}
		} else {
			s.rec.CreatedAt = t.now
		}
		s.exists = true
	}
	s.rec.UpdatedAt = t.now
	return schema.Repos.Put(t, s.name, &s.rec)
}

// ListOptions page through a listing: entries after Last, at most N (N <= 0:
// all).
type ListOptions struct {
	// Last is the name or digest the previous page ended with.
	Last string
	// N caps the page size.
	N int
}
