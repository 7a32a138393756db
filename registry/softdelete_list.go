package registry

import (
	"context"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/tag"
)

// DeletedListOptions page through a listing of soft-deleted items, newest
// first.
type DeletedListOptions struct {
	// Cursor is the Next of the previous page; empty starts at the newest.
	Cursor string
	// N caps the page size (N <= 0: DefaultDeletedPage).
	N int
}

// DefaultDeletedPage is the page size of a listing of deleted items that
// asks for none.
const DefaultDeletedPage = 100

func (o DeletedListOptions) n() int {
	if o.N <= 0 {
		return DefaultDeletedPage
	}
	return o.N
}

// DeletedManifest describes a soft-deleted manifest.
type DeletedManifest struct {
	// Digest, MediaType, Size and ArtifactType describe the manifest.
	Digest    digest.Digest
	MediaType string
	// Size is the manifest's length in bytes.
	Size int64
	// ArtifactType is the manifest's artifact type, if any.
	ArtifactType string
	// Subject is the manifest it refers to, for a referrer.
	Subject digest.Digest
	// Tags are the tags it carried when it was deleted.
	Tags []string
	// CreatedAt is when it was pushed.
	CreatedAt time.Time
	// DeletedAt is when it was deleted; ExpiresAt when it will be purged
	// for good under the current setting.
	DeletedAt time.Time
	ExpiresAt time.Time
	// Attributes are its changeable attributes, as they come back.
	Attributes tag.Attributes
}

// DeletedTag describes a soft-deleted tag: untagged, or deleted with its
// manifest.
type DeletedTag struct {
	// Name is the tag.
	Name string
	// Digest is the manifest it pointed at.
	Digest digest.Digest
	// CreatedAt is when the tag was first set.
	CreatedAt time.Time
	// DeletedAt is when it was deleted; ExpiresAt when it will be purged.
	DeletedAt time.Time
	ExpiresAt time.Time
	// Attributes are its changeable attributes, as they come back.
	Attributes tag.Attributes
}

// DeletedRepository describes a soft-deleted repository.
type DeletedRepository struct {
	// Name is the repository's name.
	Name string
	// CreatedAt is when it was created.
	CreatedAt time.Time
	// DeletedAt is when it was deleted; ExpiresAt when it will be purged.
	DeletedAt time.Time
	ExpiresAt time.Time
	// Attributes are its changeable attributes, as they come back.
	Attributes tag.Attributes
}

// DeletedRepositories lists the soft-deleted repositories (deleted, or left
// without manifests, and not pushed to or restored since), newest first,
// a page at a time; next is the cursor of the following page, empty after
// the last. A page costs a seek and one read per entry, whatever the
// number of deleted items.
func (r *Registry) DeletedRepositories(ctx context.Context, opts DeletedListOptions) (page []DeletedRepository, next string, err error) {
	return deletedPage(ctx, r, opts, func(tx meta.Tx, cur schema.DeletedCursor, p SoftDeletePolicy, add func(DeletedRepository, string, time.Time) bool) error {
		return schema.DeletedRepos.Scan(tx, cur, func(name string, rec *schema.DeletedRepo) bool {
			return add(DeletedRepository{
				Name: name, CreatedAt: rec.Repo.CreatedAt, Attributes: rec.Repo.Attributes,
				DeletedAt: rec.DeletedAt, ExpiresAt: p.ExpiresAt(rec.DeletedAt),
			}, name, rec.DeletedAt)
		})
	})
}

// DeletedManifests lists the repository's soft-deleted manifests, newest
// first, a page at a time (see Registry.DeletedRepositories). It works for
// a live repository and for a deleted one.
func (r *Repository) DeletedManifests(ctx context.Context, opts DeletedListOptions) (page []DeletedManifest, next string, err error) {
	return deletedPage(ctx, r.reg, opts, func(tx meta.Tx, cur schema.DeletedCursor, p SoftDeletePolicy, add func(DeletedManifest, string, time.Time) bool) error {
		return schema.DeletedManifests.Scan(tx, r.name, cur, func(d digest.Digest, rec *schema.DeletedManifest) bool {
			m := &rec.Manifest
			return add(DeletedManifest{
				Digest: d, MediaType: m.MediaType, Size: m.Size, ArtifactType: m.ArtifactType,
				Subject: m.Subject, Tags: rec.Tags, CreatedAt: m.CreatedAt, Attributes: m.Attributes,
				DeletedAt: rec.DeletedAt, ExpiresAt: p.ExpiresAt(rec.DeletedAt),
			}, d.String(), rec.DeletedAt)
		})
	})
}

// DeletedTags lists the repository's soft-deleted tags, newest first, a
// page at a time (see Registry.DeletedRepositories). A tag deleted more
// than once has an entry for each deletion.
func (r *Repository) DeletedTags(ctx context.Context, opts DeletedListOptions) (page []DeletedTag, next string, err error) {
	return deletedPage(ctx, r.reg, opts, func(tx meta.Tx, cur schema.DeletedCursor, p SoftDeletePolicy, add func(DeletedTag, string, time.Time) bool) error {
		return schema.DeletedTags.Scan(tx, r.name, cur, func(name string, rec *schema.DeletedTag) bool {
			return add(DeletedTag{
				Name: name, Digest: rec.Tag.Digest, CreatedAt: rec.Tag.CreatedAt, Attributes: rec.Tag.Attributes,
				DeletedAt: rec.DeletedAt, ExpiresAt: p.ExpiresAt(rec.DeletedAt),
			}, name, rec.DeletedAt)
		})
	})
}

// deletedPage runs one page of a deleted-items listing in a read
// transaction: scan walks the entries newest first from the cursor and
// hands each to add with its cursor name and deletion time; add reports
// false once the page is full, after setting next from the page's last
// entry.
func deletedPage[T any](ctx context.Context, r *Registry, opts DeletedListOptions,
	scan func(tx meta.Tx, cur schema.DeletedCursor, p SoftDeletePolicy, add func(T, string, time.Time) bool) error) (page []T, next string, err error) {
	if err := r.enter(); err != nil {
		return nil, "", err
	}
	defer r.leave()
	cur, err := parseDeletedCursor(opts.Cursor)
	if err != nil {
		return nil, "", err
	}
	n := opts.n()
	err = r.view(ctx, func(tx meta.Tx) error {
		page, next = page[:0], ""
		p, err := loadSoftDelete(tx)
		if err != nil {
			return err
		}
		var lastName string
		var lastAt time.Time
		return scan(tx, cur, p, func(item T, name string, at time.Time) bool {
			if len(page) == n {
				next = deletedCursor(lastAt, lastName)
				return false
			}
			page = append(page, item)
			lastName, lastAt = name, at
			return true
		})
	})
	return page, next, err
}

// A cursor is a page's last entry: its name (digest, tag or repository),
// cursorSep and its deletion time (RFC 3339), as the cursors of time-ordered
// listings (pages.go).

func deletedCursor(at time.Time, name string) string {
	return pageKey{name: name, at: at}.cursor(OrderTimeDesc)
}

func parseDeletedCursor(s string) (schema.DeletedCursor, error) {
	if s == "" {
		return schema.DeletedCursor{}, nil
	}
	name, at, ok := strings.Cut(s, cursorSep)
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil || name == "" {
		return schema.DeletedCursor{}, errorf(ErrInvalid, "deleted items cursor %q", s)
	}
	return schema.DeletedCursor{At: t.UTC(), Name: name}, nil
}
