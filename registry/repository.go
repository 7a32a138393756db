package registry

import (
	"context"
	"time"

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
	var rec repoRecord
	err := r.reg.view(ctx, func(tx meta.Tx) error {
		ok, err := getRec(tx, key(tRepo, r.name), &rec)
		if err == nil && !ok {
			err = errorf(ErrNameUnknown, "repository %q", r.name)
		}
		return err
	})
	if err != nil {
		return RepositoryProperties{}, err
	}
	return rec.properties(r.name), nil
}

func (r repoRecord) properties(name string) RepositoryProperties {
	return RepositoryProperties{
		Name: name, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		ManifestCount: r.ManifestCount, TagCount: r.TagCount, Attributes: r.Attributes,
	}
}

// SetAttributes changes the repository's changeable attributes. Changing
// attributes is always allowed (it is how a lock is lifted). The repository
// must exist.
func (r *Repository) SetAttributes(ctx context.Context, p tag.Patch) (RepositoryProperties, error) {
	var rec repoRecord
	err := r.reg.update(ctx, func(t *txn) error {
		ok, err := getRec(t, key(tRepo, r.name), &rec)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrNameUnknown, "repository %q", r.name)
		}
		rec.Attributes = p.Apply(rec.Attributes)
		rec.UpdatedAt = t.now
		t.emit(Event{Action: ActionAttributes, Repository: r.name})
		return putRec(t, key(tRepo, r.name), &rec)
	})
	if err != nil {
		return RepositoryProperties{}, err
	}
	return rec.properties(r.name), nil
}

// repoState is a repository record loaded inside a transaction; a missing
// repository reads as a new one with default attributes.
type repoState struct {
	name   string
	rec    repoRecord
	exists bool
}

func loadRepo(tx meta.Tx, name string) (*repoState, error) {
	s := &repoState{name: name}
	ok, err := getRec(tx, key(tRepo, name), &s.rec)
	if err != nil {
		return nil, err
	}
	s.exists = ok
	if !ok {
		s.rec.Attributes = tag.DefaultAttributes()
	}
	return s, nil
}

func (s *repoState) item() tag.Item { return tag.Repository(s.name, s.rec.Attributes) }

// save writes the record back, creating the repository if needed.
func (s *repoState) save(t *txn) error {
	if !s.exists {
		s.rec.CreatedAt = t.now
		s.exists = true
	}
	s.rec.UpdatedAt = t.now
	return putRec(t, key(tRepo, s.name), &s.rec)
}

// DeleteRepository deletes a repository with every manifest, tag and blob
// link in it. It is refused (ErrLocked) when the repository is not
// deletable or anything in it is locked. Blobs no longer referenced are left
// to garbage collection.
func (r *Registry) DeleteRepository(ctx context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	return r.update(ctx, func(t *txn) error {
		return r.deleteRepository(t, name)
	})
}
