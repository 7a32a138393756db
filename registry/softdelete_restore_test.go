package registry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/tag"
)

// tagPatch sets writeEnabled and deleteEnabled to unlocked.
func tagPatch(unlocked bool) tag.Patch {
	return tag.Patch{WriteEnabled: &unlocked, DeleteEnabled: &unlocked}
}

// TestRestoreRules is ACR's restore rules (ACR.md, Soft delete) as a table.
func TestRestoreRules(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		// run sets the scene and restores; it returns the restore's error
		// and checks what it must after a success.
		run     func(t *testing.T, r *Registry, repo *Repository) error
		wantErr error
	}{
		{"index whose children are deleted is refused, naming them", func(t *testing.T, r *Registry, repo *Repository) error {
			a, b := pushImage(t, repo, "", 1), pushImage(t, repo, "", 1)
			idx := pushIndex(t, repo, "multi", a.desc, b.desc)
			for _, d := range []digest.Digest{idx.Digest, a.desc.Digest, b.desc.Digest} {
				if err := repo.Manifests().Delete(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			_, err := repo.Restore(ctx, RestoreOptions{Tag: "multi"})
			if err == nil || !strings.Contains(err.Error(), a.desc.Digest.String()) || !strings.Contains(err.Error(), b.desc.Digest.String()) {
				t.Errorf("error does not name the children: %v", err)
			}
			return err
		}, ErrRestoreBlocked},
		{"index after its children", func(t *testing.T, r *Registry, repo *Repository) error {
			a := pushImage(t, repo, "", 1)
			idx := pushIndex(t, repo, "multi", a.desc)
			for _, d := range []digest.Digest{idx.Digest, a.desc.Digest} {
				if err := repo.Manifests().Delete(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := repo.Restore(ctx, RestoreOptions{Digest: a.desc.Digest}); err != nil {
				t.Fatal(err)
			}
			res, err := repo.Restore(ctx, RestoreOptions{Tag: "multi"})
			if err == nil && (!res.Manifest || !slices.Equal(res.Tags, []string{"multi"})) {
				t.Errorf("restoration = %+v", res)
			}
			// The child is held by the index again.
			if err := repo.Manifests().Delete(ctx, a.desc.Digest); !errors.Is(err, ErrManifestReferenced) {
				t.Errorf("delete of a restored index's child: %v", err)
			}
			return err
		}, nil},
		{"referrer before its subject is refused", func(t *testing.T, r *Registry, repo *Repository) error {
			img := pushImage(t, repo, "v1", 1)
			sig := pushReferrer(t, repo, img.desc, "application/vnd.example.signature")
			if err := repo.Manifests().Delete(ctx, img.desc.Digest); err != nil {
				t.Fatal(err)
			}
			_, err := repo.Restore(ctx, RestoreOptions{Digest: sig.Digest})
			return err
		}, ErrRestoreBlocked},
		{"a restore does not bring the referrers", func(t *testing.T, r *Registry, repo *Repository) error {
			img := pushImage(t, repo, "v1", 1)
			sig := pushReferrer(t, repo, img.desc, "application/vnd.example.signature")
			if err := repo.Manifests().Delete(ctx, img.desc.Digest); err != nil {
				t.Fatal(err)
			}
			_, err := repo.Restore(ctx, RestoreOptions{Digest: img.desc.Digest})
			if rs, _ := repo.Manifests().Referrers(ctx, img.desc.Digest, ""); len(rs) != 0 {
				t.Errorf("referrers came back: %v", rs)
			}
			if dms, _, _ := repo.DeletedManifests(ctx, DeletedListOptions{}); len(dms) != 1 || dms[0].Digest != sig.Digest {
				t.Errorf("deleted = %+v", dms)
			}
			return err
		}, nil},
		{"a tag that points elsewhere needs force", func(t *testing.T, r *Registry, repo *Repository) error {
			old := pushImage(t, repo, "v1", 1)
			if err := repo.Manifests().Delete(ctx, old.desc.Digest); err != nil {
				t.Fatal(err)
			}
			pushImage(t, repo, "v1", 1)
			_, err := repo.Restore(ctx, RestoreOptions{Digest: old.desc.Digest})
			if _, gerr := repo.Manifests().Get(ctx, old.desc.Digest.String(), GetOptions{}); !errors.Is(gerr, ErrManifestUnknown) {
				t.Errorf("a refused restore left the manifest: %v", gerr)
			}
			return err
		}, ErrConflict},
		{"force moves the tag and soft-deletes the manifest it leaves", func(t *testing.T, r *Registry, repo *Repository) error {
			old := pushImage(t, repo, "v1", 1)
			if err := repo.Manifests().Delete(ctx, old.desc.Digest); err != nil {
				t.Fatal(err)
			}
			cur := pushImage(t, repo, "v1", 1)
			curSig := pushReferrer(t, repo, cur.desc, "application/vnd.example.signature")
			res, err := repo.Restore(ctx, RestoreOptions{Tag: "v1", Force: true})
			if err != nil {
				return err
			}
			if len(res.Overwritten) != 1 || res.Overwritten[0].Digest != cur.desc.Digest || !slices.Equal(res.Deleted, []digest.Digest{cur.desc.Digest, curSig.Digest}) {
				t.Errorf("restoration = %+v", res)
			}
			assertInvisible(t, r, "app", cur.desc.Digest, "")
			// And that one can be restored back the same way.
			if _, err := repo.Restore(ctx, RestoreOptions{Digest: cur.desc.Digest, Tag: "v1", Force: true}); err != nil {
				t.Errorf("restore back: %v", err)
			}
			d, _ := repo.Tags().Resolve(ctx, "v1")
			if d.Digest != cur.desc.Digest {
				t.Errorf("v1 -> %s", d.Digest)
			}
			return nil
		}, nil},
		{"force keeps a manifest another tag holds", func(t *testing.T, r *Registry, repo *Repository) error {
			old := pushImage(t, repo, "v1", 1)
			if err := repo.Manifests().Delete(ctx, old.desc.Digest); err != nil {
				t.Fatal(err)
			}
			cur := pushImage(t, repo, "v1", 1)
			if err := repo.Tags().Set(ctx, "stable", cur.desc.Digest, SetOptions{}); err != nil {
				t.Fatal(err)
			}
			res, err := repo.Restore(ctx, RestoreOptions{Tag: "v1", Force: true})
			if len(res.Deleted) != 0 {
				t.Errorf("deleted %v", res.Deleted)
			}
			return err
		}, nil},
		{"force does not move a locked tag", func(t *testing.T, r *Registry, repo *Repository) error {
			old := pushImage(t, repo, "v1", 1)
			if err := repo.Manifests().Delete(ctx, old.desc.Digest); err != nil {
				t.Fatal(err)
			}
			pushImage(t, repo, "v1", 1)
			if _, err := repo.Tags().SetAttributes(ctx, "v1", tagPatch(false)); err != nil {
				t.Fatal(err)
			}
			_, err := repo.Restore(ctx, RestoreOptions{Tag: "v1", Force: true})
			return err
		}, ErrLocked},
		{"a write-locked repository refuses restores", func(t *testing.T, r *Registry, repo *Repository) error {
			pushImage(t, repo, "stays", 1)
			img := pushImage(t, repo, "v1", 1)
			if err := repo.Manifests().Delete(ctx, img.desc.Digest); err != nil {
				t.Fatal(err)
			}
			f := false
			if _, err := repo.SetAttributes(ctx, tag.Patch{WriteEnabled: &f}); err != nil {
				t.Fatal(err)
			}
			_, err := repo.Restore(ctx, RestoreOptions{Digest: img.desc.Digest})
			return err
		}, ErrLocked},
		{"a locked tag comes back locked", func(t *testing.T, r *Registry, repo *Repository) error {
			img := pushImage(t, repo, "v1", 1)
			no := false
			if _, err := repo.Tags().SetAttributes(ctx, "v1", tag.Patch{ReadEnabled: &no}); err != nil {
				t.Fatal(err)
			}
			if err := repo.Manifests().Delete(ctx, img.desc.Digest); err != nil {
				t.Fatal(err)
			}
			_, err := repo.Restore(ctx, RestoreOptions{Digest: img.desc.Digest})
			p, _ := repo.Tags().Properties(ctx, "v1")
			if p.Attributes.ReadEnabled {
				t.Errorf("tag attributes after restore = %+v", p.Attributes)
			}
			return err
		}, nil},
		{"repo:tag restores the most recently deleted manifest that carried it", func(t *testing.T, r *Registry, repo *Repository) error {
			first := pushImage(t, repo, "v1", 1)
			if err := repo.Manifests().Delete(ctx, first.desc.Digest); err != nil {
				t.Fatal(err)
			}
			second := pushImage(t, repo, "v1", 1)
			if err := repo.Manifests().Delete(ctx, second.desc.Digest); err != nil {
				t.Fatal(err)
			}
			res, err := repo.Restore(ctx, RestoreOptions{Tag: "v1"})
			if res.Digest != second.desc.Digest {
				t.Errorf("restored %s, want %s", res.Digest, second.desc.Digest)
			}
			// repo:tag with a digest picks that one (forced: v1 is taken).
			if _, err := repo.Restore(ctx, RestoreOptions{Digest: first.desc.Digest, Tag: "v1", Force: true}); err != nil {
				t.Errorf("restore of the older one: %v", err)
			}
			return err
		}, nil},
		{"nothing deleted to restore", func(t *testing.T, r *Registry, repo *Repository) error {
			img := pushImage(t, repo, "v1", 1)
			_, err := repo.Restore(ctx, RestoreOptions{Digest: img.desc.Digest})
			return err
		}, ErrManifestUnknown},
		{"no deleted tag", func(t *testing.T, r *Registry, repo *Repository) error {
			_, err := repo.Restore(ctx, RestoreOptions{Tag: "nope"})
			return err
		}, ErrManifestUnknown},
		{"restore needs a digest or a tag", func(t *testing.T, r *Registry, repo *Repository) error {
			_, err := repo.Restore(ctx, RestoreOptions{})
			return err
		}, ErrInvalid},
		{"an untagged tag is restored to its live manifest", func(t *testing.T, r *Registry, repo *Repository) error {
			img := pushImage(t, repo, "v1", 1)
			if err := repo.Tags().Untag(ctx, "v1"); err != nil {
				t.Fatal(err)
			}
			res, err := repo.Restore(ctx, RestoreOptions{Tag: "v1"})
			if res.Manifest || res.Digest != img.desc.Digest {
				t.Errorf("restoration = %+v", res)
			}
			return err
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := softReg(t, 7)
			repo := repoOf(t, r, "app")
			err := tc.run(t, r, repo)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("restore: %v", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("restore: %v, want %v", err, tc.wantErr)
			}
			mustCheck(t, r)
		})
	}
}

// TestRestoreProperty: for random repositories, deleting through a random
// path and restoring every deleted manifest and tag gives back the same
// manifest bytes, tags and attributes.
func TestRestoreProperty(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 15))
			r, clk := softReg(t, 7)
			repo := repoOf(t, r, "app")
			type state struct {
				bytes map[digest.Digest]string
				attrs map[digest.Digest]tag.Attributes
				tags  map[string]digest.Digest
				tattr map[string]tag.Attributes
			}
			snap := func() state {
				s := state{map[digest.Digest]string{}, map[digest.Digest]tag.Attributes{}, map[string]digest.Digest{}, map[string]tag.Attributes{}}
				ms, err := repo.Manifests().List(ctx, ListOptions{})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range ms {
					got, err := repo.Manifests().Get(ctx, m.Digest.String(), GetOptions{})
					if err != nil {
						t.Fatal(err)
					}
					s.bytes[m.Digest], s.attrs[m.Digest] = string(got.Bytes), m.Attributes
				}
				ts, err := repo.Tags().ListProperties(ctx, ListOptions{})
				if err != nil {
					t.Fatal(err)
				}
				for _, tp := range ts {
					s.tags[tp.Name], s.tattr[tp.Name] = tp.Digest, tp.Attributes
				}
				return s
			}
			var imgs []image
			for i := range 3 + rng.IntN(5) {
				img := pushImage(t, repo, fmt.Sprintf("t%d", i), 1+rng.IntN(2))
				imgs = append(imgs, img)
				for j := range rng.IntN(3) {
					if err := repo.Tags().Set(ctx, fmt.Sprintf("t%d-%d", i, j), img.desc.Digest, SetOptions{}); err != nil {
						t.Fatal(err)
					}
				}
				no := false
				if rng.IntN(2) == 0 {
					if _, err := repo.Manifests().SetAttributes(ctx, img.desc.Digest, tag.Patch{ListEnabled: &no}); err != nil {
						t.Fatal(err)
					}
				}
				if rng.IntN(2) == 0 {
					if _, err := repo.Tags().SetAttributes(ctx, fmt.Sprintf("t%d", i), tag.Patch{ReadEnabled: &no}); err != nil {
						t.Fatal(err)
					}
				}
			}
			before := snap()
			clk.add(time.Minute)
			switch rng.IntN(3) {
			case 0:
				if err := r.DeleteRepository(ctx, "app"); err != nil {
					t.Fatal(err)
				}
			case 1:
				for _, img := range imgs {
					clk.add(time.Second)
					if err := repo.Manifests().Delete(ctx, img.desc.Digest); err != nil {
						t.Fatal(err)
					}
				}
			default:
				for tg := range before.tags {
					if err := repo.Tags().Untag(ctx, tg); err != nil {
						t.Fatal(err)
					}
				}
			}
			mustCheck(t, r)
			// Restore everything listed, manifests first, then tags.
			dms, _, err := repo.DeletedManifests(ctx, DeletedListOptions{N: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range dms {
				if _, err := repo.Restore(ctx, RestoreOptions{Digest: m.Digest}); err != nil {
					t.Fatal(err)
				}
			}
			dts, _, err := repo.DeletedTags(ctx, DeletedListOptions{N: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, dt := range dts {
				if _, err := repo.Restore(ctx, RestoreOptions{Tag: dt.Name}); err != nil {
					t.Fatal(err)
				}
			}
			after := snap()
			if fmt.Sprint(before) != fmt.Sprint(after) {
				t.Fatalf("restore changed the repository\nbefore %v\nafter  %v", before, after)
			}
			mustCheck(t, r)
		})
	}
}
