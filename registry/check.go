package registry

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/meta"
)

// CheckReport lists the inconsistencies Check found; empty means whole.
type CheckReport struct {
	// Problems describes each inconsistency in one line.
	Problems []string
	// Repositories, Manifests, Tags and Blobs count what was checked.
	Repositories, Manifests, Tags, Blobs int
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
	rep := &CheckReport{}
	needed := map[digest.Digest]bool{}
	err := r.view(ctx, func(tx meta.Tx) error {
		rep.Problems = rep.Problems[:0]
		refs := map[digest.Digest]int{}
		linkRefs := map[string]int{}
		repos := map[string]*repoRecord{}
		mcount := map[string]int{}
		tcount := map[string]int{}
		var derr error
		scan := func(table byte, fn func(parts []string, v []byte) error) error {
			err := tx.Scan(meta.Prefix(prefix(table)), func(k, v []byte) bool {
				derr = fn(splitKey(k), v)
				return derr == nil
			})
			return firstErr(derr, err)
		}
		err := scan(tRepo, func(p []string, v []byte) error {
			var rec repoRecord
			if err := decodeRec(nil, v, &rec); err != nil {
				return err
			}
			repos[p[0]] = &rec
			rep.Repositories++
			return nil
		})
		if err != nil {
			return err
		}
		err = scan(tManifest, func(p []string, v []byte) error {
			var rec manifestRecord
			if err := decodeRec(nil, v, &rec); err != nil {
				return err
			}
			repo, d := p[0], digest.Digest(p[1])
			if err := loadDetail(tx, repo, d, &rec); err != nil {
				return err
			}
			rep.Manifests++
			mcount[repo]++
			if ok, err := exists(tx, key(tBytes, repo, d.String())); err != nil || !ok {
				rep.addf("manifest %s@%s: bytes missing", repo, d)
			}
			for _, b := range rec.Detail.Blobs {
				refs[b]++
				linkRefs[repo+"\x00"+b.String()]++
				needed[b] = true
				if ok, err := exists(tx, key(tLink, repo, b.String())); err != nil || !ok {
					rep.addf("manifest %s@%s: blob %s not linked", repo, d, b)
				}
			}
			for _, c := range rec.Detail.Children {
				if ok, err := exists(tx, key(tManifest, repo, c.String())); err != nil || !ok {
					rep.addf("index %s@%s: child %s missing (deleted after the index)", repo, d, c)
				}
			}
			tags, err := manifestTags(tx, repo, d)
			if err != nil {
				return err
			}
			if len(tags) != rec.Tags {
				rep.addf("manifest %s@%s: %d tags recorded, %d found", repo, d, rec.Tags, len(tags))
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = scan(tTag, func(p []string, v []byte) error {
			var rec tagRecord
			if err := decodeRec(nil, v, &rec); err != nil {
				return err
			}
			rep.Tags++
			tcount[p[0]]++
			if ok, err := exists(tx, key(tManifest, p[0], rec.Digest.String())); err != nil || !ok {
				rep.addf("tag %s:%s points to missing manifest %s", p[0], p[1], rec.Digest)
			}
			return nil
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
		err = scan(tLink, func(p []string, v []byte) error {
			var l linkRecord
			if err := decodeRec(nil, v, &l); err != nil {
				return err
			}
			if want := linkRefs[p[0]+"\x00"+p[1]]; l.Refs != want {
				rep.addf("link %s@%s: %d refs recorded, %d found", p[0], p[1], l.Refs, want)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return scan(tBlob, func(p []string, v []byte) error {
			var g blobRecord
			if err := decodeRec(nil, v, &g); err != nil {
				return err
			}
			rep.Blobs++
			if want := refs[digest.Digest(p[0])]; g.Refs != want {
				rep.addf("blob %s: %d refs recorded, %d found", p[0], g.Refs, want)
			}
			return nil
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
