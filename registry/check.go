package registry

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
)

// CheckReport lists the inconsistencies Check found; empty means whole.
type CheckReport struct {
	// Problems describes each inconsistency in one line.
	Problems []string
	// Repositories, Manifests, Tags and Blobs count what was checked.
	Repositories, Manifests, Tags, Blobs int
	// Deleted counts the soft-deleted manifests checked.
	Deleted int
}

// OK reports whether no problem was found.
func (c *CheckReport) OK() bool { return len(c.Problems) == 0 }

func (c *CheckReport) addf(format string, args ...any) {
	if len(c.Problems) < 1000 {
		c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
	}
}

// Check verifies the registry's invariants in one read transaction plus a
// stat of each referenced blob: every tag points to a stored manifest, every
// manifest has its bytes and its blobs are linked and present in storage,
// children of indexes exist, reference counts and repository counters
// match. It reads everything; use it in tests, after a crash, or as fsck.
func (r *Registry) Check(ctx context.Context) (*CheckReport, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer r.leave()
	rep := &CheckReport{}
	needed := map[digest.Digest]bool{}
	err := r.view(ctx, func(tx meta.Tx) error {
		rep.Problems = rep.Problems[:0]
		refs := map[digest.Digest]int{}
		linkRefs := map[string]int{}
		repos := map[string]*schema.Repo{}
		mcount := map[string]int{}
		tcount := map[string]int{}
		err := schema.Repos.Scan(tx, "", func(name string, rec *schema.Repo) bool {
			repos[name] = rec
			rep.Repositories++
			return true
		})
		if err != nil {
			return err
		}
		var ferr error
		err = schema.Manifests.ScanAll(tx, func(repo string, d digest.Digest, rec *schema.Manifest) bool {
			ferr = checkManifest(tx, rep, repo, d, rec, refs, linkRefs, needed)
			mcount[repo]++
			return ferr == nil
		})
		if ferr != nil {
			return ferr
		}
		if err != nil {
			return err
		}
		err = schema.DeletedManifests.ScanAll(tx, func(repo string, d digest.Digest, rec *schema.DeletedManifest) bool {
			ferr = checkDeleted(tx, rep, repo, d, refs, needed)
			return ferr == nil
		})
		if ferr != nil {
			return ferr
		}
		if err != nil {
			return err
		}
		err = schema.Tags.ScanAll(tx, func(repo, name string, rec *schema.Tag) bool {
			rep.Tags++
			tcount[repo]++
			if ok, err := schema.Manifests.Has(tx, repo, rec.Digest); err != nil || !ok {
				rep.addf("tag %s:%s points to missing manifest %s", repo, name, rec.Digest)
			}
			return true
		})
		if err != nil {
			return err
		}
		for name, rec := range repos {
			if rec.ManifestCount != mcount[name] || rec.TagCount != tcount[name] {
				rep.addf("repository %s: counts %d manifests/%d tags, found %d/%d", name, rec.ManifestCount, rec.TagCount, mcount[name], tcount[name])
			}
		}
		for name := range mcount {
			if repos[name] == nil {
				rep.addf("repository %s: has manifests but no record", name)
			}
		}
		err = schema.ManifestBytes.ScanKeys(tx, func(repo string, d digest.Digest) bool {
			live, err1 := schema.Manifests.Has(tx, repo, d)
			del, err2 := schema.DeletedManifests.Has(tx, repo, d)
			if err1 != nil || err2 != nil || !live && !del {
				rep.addf("manifest %s@%s: bytes of neither a live nor a deleted manifest", repo, d)
			}
			return true
		})
		if err != nil {
			return err
		}
		for name := range repos {
			if del, err := schema.DeletedRepos.Has(tx, name); err != nil || del {
				rep.addf("repository %s: both live and deleted", name)
			}
		}
		err = schema.Links.ScanAll(tx, func(repo string, d digest.Digest, l *schema.Link) bool {
			if want := linkRefs[repo+"\x00"+d.String()]; l.Refs != want {
				rep.addf("link %s@%s: %d refs recorded, %d found", repo, d, l.Refs, want)
			}
			return true
		})
		if err != nil {
			return err
		}
		return schema.Blobs.ScanAll(tx, func(d digest.Digest, g *schema.Blob) bool {
			rep.Blobs++
			if want := refs[d]; g.Refs != want {
				rep.addf("blob %s: %d refs recorded, %d found", d, g.Refs, want)
			}
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	for d := range needed {
		if _, err := r.blobs.Stat(ctx, d); err != nil {
			rep.addf("blob %s: referenced but not in storage: %v", d, err)
		}
	}
	return rep, nil
}

// checkManifest checks one manifest record for Check and counts its
// references.
func checkManifest(tx meta.Tx, rep *CheckReport, repo string, d digest.Digest, rec *schema.Manifest,
	refs map[digest.Digest]int, linkRefs map[string]int, needed map[digest.Digest]bool) error {
	if err := schema.Details.Load(tx, repo, d, rec); err != nil {
		return err
	}
	rep.Manifests++
	if ok, err := schema.ManifestBytes.Has(tx, repo, d); err != nil || !ok {
		rep.addf("manifest %s@%s: bytes missing", repo, d)
	}
	for _, b := range rec.Detail.Blobs {
		refs[b]++
		linkRefs[repo+"\x00"+b.String()]++
		needed[b] = true
		if ok, err := schema.Links.Has(tx, repo, b); err != nil || !ok {
			rep.addf("manifest %s@%s: blob %s not linked", repo, d, b)
		}
	}
	for _, c := range rec.Detail.Children {
		if ok, err := schema.Manifests.Has(tx, repo, c); err != nil || !ok {
			rep.addf("index %s@%s: child %s missing (deleted after the index)", repo, d, c)
		}
	}
	tags, err := schema.ManifestTags.List(tx, repo, d)
	if err != nil {
		return err
	}
	if len(tags) != rec.Tags {
		rep.addf("manifest %s@%s: %d tags recorded, %d found", repo, d, rec.Tags, len(tags))
	}
	return nil
}

// checkDeleted checks one soft-deleted manifest for Check: it is not live
// too, its bytes are kept, and it holds a reference in the record of each
// of its blobs (not in the links).
func checkDeleted(tx meta.Tx, rep *CheckReport, repo string, d digest.Digest, refs map[digest.Digest]int, needed map[digest.Digest]bool) error {
	rep.Deleted++
	if ok, err := schema.Manifests.Has(tx, repo, d); err != nil || ok {
		rep.addf("manifest %s@%s: both live and deleted", repo, d)
	}
	if ok, err := schema.ManifestBytes.Has(tx, repo, d); err != nil || !ok {
		rep.addf("deleted manifest %s@%s: bytes missing", repo, d)
	}
	det, _, err := schema.Details.Refs(tx, repo, d)
	if err != nil {
		return err
	}
	for _, b := range det.Blobs {
		refs[b]++
		needed[b] = true
	}
	return nil
}
