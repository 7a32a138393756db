package registry

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
)

// ListOrder orders a page of tags or manifests (ACR's orderby).
type ListOrder int

const (
	// OrderName lists in lexical order of tag name or digest (ACR's
	// orderby=none, and the default).
	OrderName ListOrder = iota
	// OrderTimeDesc lists the most recently updated first (orderby=timedesc).
	OrderTimeDesc
	// OrderTimeAsc lists the least recently updated first (orderby=timeasc).
	OrderTimeAsc
)

// ParseListOrder reads ACR's orderby values: "" and "none" (OrderName),
// "timedesc" and "timeasc". Anything else is an error wrapping ErrInvalid.
func ParseListOrder(s string) (ListOrder, error) {
	switch s {
	case "", "none":
		return OrderName, nil
	case "timedesc":
		return OrderTimeDesc, nil
	case "timeasc":
		return OrderTimeAsc, nil
	}
	return 0, errorf(ErrInvalid, "orderby %q (want none, timedesc or timeasc)", s)
}

// PageOptions ask for one page of a tag or manifest listing.
type PageOptions struct {
	// Last is where the previous page ended: its Next cursor. In name
	// order a plain tag name or digest works too (entries lexically after
	// it); in time order a plain name is looked up for its update time.
	Last string
	// N caps the page size (N <= 0: everything, with no Next).
	N int
	// Order is the listing's order.
	Order ListOrder
	// Digest, for tags only, keeps the tags pointing to that manifest.
	Digest digest.Digest
}

// TagPage is one page of a tag listing.
type TagPage struct {
	// Tags are the page's tags with their properties.
	Tags []TagProperties
	// Next is the cursor of the following page (PageOptions.Last), empty
	// on the last page.
	Next string
}

// ManifestPage is one page of a manifest listing.
type ManifestPage struct {
	// Manifests are the page's manifests with their properties.
	Manifests []ManifestProperties
	// Next is the cursor of the following page, empty on the last page.
	Next string
}

// cursorSep separates the name and the time of a time-order cursor; neither
// tags nor digests contain it.
const cursorSep = "@"

// pageKey places an entry in a listing: its name and update time.
type pageKey struct {
	name string
	at   time.Time
}

// before reports whether k comes before b in order o. Names break ties, so
// the order is total and a cursor never skips or repeats an entry.
func (k pageKey) before(b pageKey, o ListOrder) bool {
	switch o {
	case OrderTimeDesc:
		if !k.at.Equal(b.at) {
			return k.at.After(b.at)
		}
	case OrderTimeAsc:
		if !k.at.Equal(b.at) {
			return k.at.Before(b.at)
		}
	}
	return k.name < b.name
}

// cursor renders k as a Next cursor for order o.
func (k pageKey) cursor(o ListOrder) string {
	if o == OrderName {
		return k.name
	}
	return k.name + cursorSep + k.at.UTC().Format(time.RFC3339Nano)
}

// parseCursor reads PageOptions.Last for order o; lookup finds the update
// time of a plain name in time order. ok is false when there is no cursor.
func parseCursor(last string, o ListOrder, lookup func(string) (time.Time, bool, error)) (k pageKey, ok bool, err error) {
	if last == "" {
		return pageKey{}, false, nil
	}
	if o == OrderName {
		return pageKey{name: last}, true, nil
	}
	if name, at, found := strings.Cut(last, cursorSep); found {
		t, perr := time.Parse(time.RFC3339Nano, at)
		if perr != nil {
			return pageKey{}, false, errorf(ErrInvalid, "page cursor %q: %w", last, perr)
		}
		return pageKey{name: name, at: t}, true, nil
	}
	t, found, err := lookup(last)
	if err != nil {
		return pageKey{}, false, err
	}
	if !found {
		return pageKey{}, false, errorf(ErrInvalid, "page cursor %q names nothing in the listing", last)
	}
	return pageKey{name: last, at: t}, true, nil
}

// cutPage sorts entries in order o, keeps those after the cursor and cuts a
// page of n (n <= 0: all), returning the next cursor when entries remain.
func cutPage[T any](items []T, key func(*T) pageKey, o ListOrder, after *pageKey, n int) ([]T, string) {
	slices.SortFunc(items, func(a, b T) int {
		ka, kb := key(&a), key(&b)
		switch {
		case ka.before(kb, o):
			return -1
		case kb.before(ka, o):
			return 1
		}
		return 0
	})
	if after != nil {
		i := 0
		for i < len(items) && !after.before(key(&items[i]), o) {
			i++
		}
		items = items[i:]
	}
	if n <= 0 || len(items) <= n {
		return items, ""
	}
	items = items[:n]
	return items, key(&items[n-1]).cursor(o)
}

// repoExists fails with ErrNameUnknown when repository name has no record.
func repoExists(tx meta.Tx, name string) error {
	_, ok, err := schema.Repos.Get(tx, name)
	if err == nil && !ok {
		err = errorf(ErrNameUnknown, "repository %q", name)
	}
	return err
}

// Page returns one page of the repository's tags with their properties, in
// opts.Order, optionally only those pointing to opts.Digest. Tags with
// listEnabled=false are left out. A repository that does not exist is
// ErrNameUnknown. In name order without a digest a page costs a seek and a
// scan of its own length; time order and the digest filter read every
// candidate tag (the tags have no time index).
func (ts *Tags) Page(ctx context.Context, opts PageOptions) (TagPage, error) {
	if err := ts.repo.reg.enter(); err != nil {
		return TagPage{}, err
	}
	defer ts.repo.reg.leave()
	if opts.Digest != "" {
		if err := validDigest(opts.Digest); err != nil {
			return TagPage{}, err
		}
	}
	name := ts.repo.name
	var page TagPage
	err := ts.repo.reg.view(ctx, func(tx meta.Tx) error {
		page = TagPage{}
		if err := repoExists(tx, name); err != nil {
			return err
		}
		after, hasAfter, err := parseCursor(opts.Last, opts.Order, func(tn string) (time.Time, bool, error) {
			rec, ok, err := schema.Tags.Get(tx, name, tn)
			return rec.UpdatedAt, ok, err
		})
		if err != nil {
			return err
		}
		var items []TagProperties
		add := func(tn string, rec *schema.Tag) {
			if rec.Attributes.ListEnabled && (opts.Digest == "" || rec.Digest == opts.Digest) {
				items = append(items, tagProperties(tn, rec))
			}
		}
		switch {
		case opts.Digest != "":
			names, err := schema.ManifestTags.List(tx, name, opts.Digest)
			if err != nil {
				return err
			}
			for _, tn := range names {
				rec, ok, err := schema.Tags.Get(tx, name, tn)
				if err != nil {
					return err
				}
				if ok {
					add(tn, &rec)
				}
			}
		case opts.Order == OrderName:
			// Stream from the cursor: one entry past the page tells
			// whether another page follows.
			err = schema.Tags.Scan(tx, name, opts.Last, func(tn string, rec *schema.Tag) bool {
				add(tn, rec)
				return opts.N <= 0 || len(items) <= opts.N
			})
		default:
			err = schema.Tags.Scan(tx, name, "", func(tn string, rec *schema.Tag) bool {
				add(tn, rec)
				return true
			})
		}
		if err != nil {
			return err
		}
		var cur *pageKey
		if hasAfter {
			cur = &after
		}
		page.Tags, page.Next = cutPage(items, func(p *TagProperties) pageKey {
			return pageKey{p.Name, p.UpdatedAt}
		}, opts.Order, cur, opts.N)
		return nil
	})
	return page, err
}

// Page returns one page of the repository's manifests, tagged or not, with
// their properties, in opts.Order (opts.Digest is not used). Manifests with
// listEnabled=false are left out; a repository that does not exist is
// ErrNameUnknown. Name order streams from the cursor; time order reads
// every manifest's record and loads the details of the page's only.
func (ms *Manifests) Page(ctx context.Context, opts PageOptions) (ManifestPage, error) {
	if err := ms.repo.reg.enter(); err != nil {
		return ManifestPage{}, err
	}
	defer ms.repo.reg.leave()
	name := ms.repo.name
	var page ManifestPage
	err := ms.repo.reg.view(ctx, func(tx meta.Tx) error {
		page = ManifestPage{}
		if err := repoExists(tx, name); err != nil {
			return err
		}
		after, hasAfter, err := parseCursor(opts.Last, opts.Order, func(d string) (time.Time, bool, error) {
			dg := digest.Digest(d)
			if dg.Validate() != nil {
				return time.Time{}, false, nil
			}
			rec, ok, err := schema.Manifests.Get(tx, name, dg)
			return rec.UpdatedAt, ok, err
		})
		if err != nil {
			return err
		}
		type item struct {
			dgst digest.Digest
			rec  schema.Manifest
		}
		var items []item
		from := ""
		if opts.Order == OrderName {
			from = opts.Last
		}
		err = schema.Manifests.Scan(tx, name, from, func(d digest.Digest, rec *schema.Manifest) bool {
			if rec.Attributes.ListEnabled {
				items = append(items, item{d, *rec})
			}
			return opts.Order != OrderName || opts.N <= 0 || len(items) <= opts.N
		})
		if err != nil {
			return err
		}
		var cur *pageKey
		if hasAfter {
			cur = &after
		}
		items, page.Next = cutPage(items, func(it *item) pageKey {
			return pageKey{it.dgst.String(), it.rec.UpdatedAt}
		}, opts.Order, cur, opts.N)
		page.Manifests = make([]ManifestProperties, 0, len(items))
		for i := range items {
			it := &items[i]
			if err := schema.Details.Load(tx, name, it.dgst, &it.rec); err != nil {
				return err
			}
			tags, err := schema.ManifestTags.List(tx, name, it.dgst)
			if err != nil {
				return err
			}
			page.Manifests = append(page.Manifests, manifestProperties(it.dgst, &it.rec, tags))
		}
		return nil
	})
	return page, err
}
