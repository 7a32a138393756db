package registry

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/policy"
)

// softReg opens an embedded registry with soft delete on (days), a test
// clock and no background work.
func softReg(t *testing.T, days int, opts ...Option) (*Registry, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	opts = append([]Option{WithClock(clk.now), WithSweepInterval(0), WithSoftDeleteSweepInterval(0)}, opts...)
	r, err := Open(t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if days > 0 {
		if _, err := r.SetSoftDelete(context.Background(), true, days); err != nil {
			t.Fatal(err)
		}
	}
	return r, clk
}

func mustCheck(t *testing.T, r *Registry) {
	t.Helper()
	rep, err := r.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatal(rep.Problems)
	}
}

// assertInvisible fails unless manifest d and tags are absent from every
// read path of repository name: pull and HEAD by digest and tag, tag
// properties, the tags list, list-metadata, manifest properties, the
// referrers of subject (when given) and the repository's Snapshot.
func assertInvisible(t *testing.T, r *Registry, name string, d digest.Digest, subject digest.Digest, tags ...string) {
	t.Helper()
	ctx := context.Background()
	repo := repoOf(t, r, name)
	ms := repo.Manifests()
	refs := []string{}
	if d != "" {
		refs = append(refs, d.String())
		if _, err := ms.Properties(ctx, d); !errors.Is(err, ErrNotFound) {
			t.Errorf("properties of %s: %v", d, err)
		}
	}
	for _, ref := range append(refs, tags...) {
		if _, err := ms.Get(ctx, ref, GetOptions{}); !errors.Is(err, ErrManifestUnknown) && !errors.Is(err, ErrNameUnknown) {
			t.Errorf("pull %s: %v", ref, err)
		}
		if _, err := ms.Stat(ctx, ref, GetOptions{}); !errors.Is(err, ErrManifestUnknown) && !errors.Is(err, ErrNameUnknown) {
			t.Errorf("HEAD %s: %v", ref, err)
		}
	}
	listed, err := repo.Tags().List(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range tags {
		if slices.Contains(listed, tg) {
			t.Errorf("tag %s listed", tg)
		}
		if _, err := repo.Tags().Properties(ctx, tg); !errors.Is(err, ErrNotFound) {
			t.Errorf("tag properties %s: %v", tg, err)
		}
	}
	list, err := ms.List(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list {
		if p.Digest == d {
			t.Errorf("manifest %s in list-metadata", d)
		}
	}
	if subject != "" {
		rs, err := ms.Referrers(ctx, subject, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range rs {
			if x.Digest == d {
				t.Errorf("referrer %s listed", d)
			}
		}
	}
	snap, err := r.Snapshot(ctx, name)
	if errors.Is(err, ErrNameUnknown) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range snap.Manifests {
		if m.Digest == d {
			t.Errorf("manifest %s in snapshot", d)
		}
	}
	for _, tg := range snap.Tags {
		if slices.Contains(tags, tg.Name) {
			t.Errorf("tag %s in snapshot", tg.Name)
		}
	}
}

func TestSoftDeleteSetting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(dir, WithSoftDeleteSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := r.SoftDelete(ctx); err != nil || p.Enabled || p.Days != DefaultSoftDeleteDays {
		t.Fatalf("default = %+v, %v", p, err)
	}
	for _, days := range []int{0, -1, 91} {
		if _, err := r.SetSoftDelete(ctx, true, days); !errors.Is(err, ErrInvalid) {
			t.Fatalf("days %d: %v", days, err)
		}
	}
	if p, err := r.SetSoftDelete(ctx, true, 90); err != nil || !p.Enabled || p.Days != 90 {
		t.Fatalf("set = %+v, %v", p, err)
	}
	// Untagged retention may be on at the same time (ACR refuses it).
	if _, err := r.SetRetention(ctx, true, 1); err != nil {
		t.Fatal(err)
	}
	r.Close()
	r, err = Open(dir, WithSoftDeleteSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if p, err := r.SoftDelete(ctx); err != nil || !p.Enabled || p.Days != 90 {
		t.Fatalf("after reopen = %+v, %v", p, err)
	}
	// The reopened registry deletes softly.
	repo := repoOf(t, r, "app")
	img := pushImage(t, repo, "v1", 1)
	if err := repo.Manifests().Delete(ctx, img.desc.Digest); err != nil {
		t.Fatal(err)
	}
	if got, _, err := repo.DeletedManifests(ctx, DeletedListOptions{}); err != nil || len(got) != 1 {
		t.Fatalf("deleted = %v, %v", got, err)
	}
}

// TestSoftDeletePaths deletes through every path with soft delete on, and
// checks that what went is invisible, listed as deleted, and restorable.
func TestSoftDeletePaths(t *testing.T) {
	ctx := context.Background()
	type deleted struct {
		digest   digest.Digest // a manifest gone from the live tables ("" for none)
		tags     []string      // tags gone
		repoGone bool
	}
	cases := []struct {
		name string
		run  func(t *testing.T, r *Registry, clk *clock, repo *Repository, img image) deleted
	}{
		{"manifest by digest", func(t *testing.T, r *Registry, _ *clock, repo *Repository, img image) deleted {
			if err := repo.Manifests().Delete(ctx, img.desc.Digest); err != nil {
				t.Fatal(err)
			}
			return deleted{img.desc.Digest, []string{"v1", "also"}, true}
		}},
		{"untag (a /v2/ DELETE by tag)", func(t *testing.T, r *Registry, _ *clock, repo *Repository, img image) deleted {
			if err := repo.Tags().Untag(ctx, "v1"); err != nil {
				t.Fatal(err)
			}
			return deleted{"", []string{"v1"}, false}
		}},
		{"purge", func(t *testing.T, r *Registry, clk *clock, repo *Repository, img image) deleted {
			clk.add(2 * day)
			p := policy.Policy{Purge: &policy.Purge{Filters: []string{"app:.*"}, Ago: "1d", Untagged: true}}
			res, err := r.Purge(ctx, p, PurgeOptions{})
			if err != nil || len(res.Deleted) == 0 {
				t.Fatalf("purge: %+v, %v", res, err)
			}
			return deleted{img.desc.Digest, []string{"v1", "also"}, true}
		}},
		{"retention", func(t *testing.T, r *Registry, clk *clock, repo *Repository, img image) deleted {
			if _, err := r.SetRetention(ctx, true, 1); err != nil {
				t.Fatal(err)
			}
			clk.add(time.Minute)
			for _, tg := range []string{"v1", "also"} {
				if err := repo.Tags().Untag(ctx, tg); err != nil {
					t.Fatal(err)
				}
			}
			clk.add(2 * day)
			res, err := r.SweepRetention(ctx, PurgeOptions{})
			if err != nil || len(res.Deleted) != 2 {
				t.Fatalf("retention: %+v, %v", res, err)
			}
			return deleted{img.desc.Digest, []string{"v1", "also"}, true}
		}},
		{"repository delete", func(t *testing.T, r *Registry, _ *clock, repo *Repository, img image) deleted {
			if err := r.DeleteRepository(ctx, "app"); err != nil {
				t.Fatal(err)
			}
			return deleted{img.desc.Digest, []string{"v1", "also"}, true}
		}},
		{"repository delete with report", func(t *testing.T, r *Registry, _ *clock, repo *Repository, img image) deleted {
			rep, err := r.DeleteRepositoryReport(ctx, "app")
			if err != nil || len(rep.Manifests) != 2 || len(rep.Tags) != 2 {
				t.Fatalf("report = %+v, %v", rep, err)
			}
			return deleted{img.desc.Digest, []string{"v1", "also"}, true}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, clk := softReg(t, 7)
			repo := repoOf(t, r, "app")
			img := pushImage(t, repo, "v1", 2)
			if err := repo.Tags().Set(ctx, "also", img.desc.Digest, SetOptions{}); err != nil {
				t.Fatal(err)
			}
			sig := pushReferrer(t, repo, img.desc, "application/vnd.example.signature")
			gone := tc.run(t, r, clk, repo, img)
			mustCheck(t, r)
			assertInvisible(t, r, "app", gone.digest, "", gone.tags...)
			if gone.digest != "" {
				assertInvisible(t, r, "app", sig.Digest, img.desc.Digest)
			}
			names, _ := r.Repositories(ctx, "", 0)
			if gone.repoGone == slices.Contains(names, "app") {
				t.Fatalf("catalog = %v", names)
			}
			drs, _, err := r.DeletedRepositories(ctx, DeletedListOptions{})
			if err != nil || (len(drs) == 1) != gone.repoGone {
				t.Fatalf("deleted repositories = %+v, %v", drs, err)
			}
			dts, _, err := repo.DeletedTags(ctx, DeletedListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range gone.tags {
				i := slices.IndexFunc(dts, func(d DeletedTag) bool { return d.Name == tg })
				if i < 0 || dts[i].Digest != img.desc.Digest || !dts[i].ExpiresAt.Equal(dts[i].DeletedAt.Add(7*day)) {
					t.Fatalf("deleted tags = %+v", dts)
				}
			}
			dms, _, err := repo.DeletedManifests(ctx, DeletedListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if gone.digest != "" && (len(dms) != 2 || !slices.ContainsFunc(dms, func(d DeletedManifest) bool { return d.Digest == img.desc.Digest })) {
				t.Fatalf("deleted manifests = %+v", dms)
			}
			// The blobs stay through collection while the items can come back.
			clk.add(3 * day)
			if _, err := r.Collect(ctx, CollectOptions{}); err != nil {
				t.Fatal(err)
			}
			mustCheck(t, r)
			// Restore by tag brings the manifest (if deleted) and the tag.
			res, err := repo.Restore(ctx, RestoreOptions{Tag: "v1"})
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			if res.Digest != img.desc.Digest || res.Manifest != (gone.digest != "") || res.Repository != gone.repoGone {
				t.Fatalf("restoration = %+v", res)
			}
			got, err := repo.Manifests().Get(ctx, "v1", GetOptions{})
			if err != nil || string(got.Bytes) != string(img.bytes) {
				t.Fatalf("pull after restore: %v", err)
			}
			if gone.digest != "" {
				// The referrer comes back once its subject has.
				if _, err := repo.Restore(ctx, RestoreOptions{Digest: sig.Digest}); err != nil {
					t.Fatal(err)
				}
				rs, _ := repo.Manifests().Referrers(ctx, img.desc.Digest, "")
				if len(rs) != 1 || rs[0].Digest != sig.Digest {
					t.Fatalf("referrers after restore = %v", rs)
				}
			}
			for _, tg := range gone.tags {
				if tg == "v1" {
					continue
				}
				if _, err := repo.Restore(ctx, RestoreOptions{Tag: tg}); err != nil {
					t.Fatalf("restore %s: %v", tg, err)
				}
			}
			mustCheck(t, r)
			if dms, _, _ := repo.DeletedManifests(ctx, DeletedListOptions{}); len(dms) != 0 {
				t.Fatalf("deleted after restore = %+v", dms)
			}
			if dts, _, _ := repo.DeletedTags(ctx, DeletedListOptions{}); len(dts) != 0 {
				t.Fatalf("deleted tags after restore = %+v", dts)
			}
			names, _ = r.Repositories(ctx, "", 0)
			if !slices.Contains(names, "app") {
				t.Fatalf("catalog after restore = %v", names)
			}
		})
	}
}

// TestSoftDeleteExpiry checks clock-driven expiry: nothing goes early,
// raising the days extends what is deleted, and after expiry the blobs are
// garbage to the normal collection.
func TestSoftDeleteExpiry(t *testing.T) {
	ctx := context.Background()
	r, clk := softReg(t, 3, WithGracePeriod(time.Hour))
	app := repoOf(t, r, "app")
	other := repoOf(t, r, "other")
	img := pushImage(t, app, "v1", 2)
	keep := pushImage(t, other, "v1", 1)
	blobs := blobsOf(t, img.bytes)
	if err := app.Manifests().Delete(ctx, img.desc.Digest); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteRepository(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	present := func(want bool) {
		t.Helper()
		for _, d := range blobs {
			_, err := r.Blobs().Stat(ctx, d)
			if (err == nil) != want {
				t.Fatalf("blob %s present = %v, want %v", d, err == nil, want)
			}
		}
	}
	clk.add(2 * day)
	if st, err := r.ExpireDeleted(ctx); err != nil || st != (ExpireStats{}) {
		t.Fatalf("early expiry: %+v, %v", st, err)
	}
	if _, err := r.Collect(ctx, CollectOptions{}); err != nil {
		t.Fatal(err)
	}
	present(true)
	// Raising the days extends the items already deleted.
	if _, err := r.SetSoftDelete(ctx, true, 5); err != nil {
		t.Fatal(err)
	}
	clk.add(2 * day) // 4 days after the deletion
	if st, err := r.ExpireDeleted(ctx); err != nil || st != (ExpireStats{}) {
		t.Fatalf("expiry within the raised window: %+v, %v", st, err)
	}
	dms, _, _ := app.DeletedManifests(ctx, DeletedListOptions{})
	if len(dms) != 1 || !dms[0].ExpiresAt.Equal(dms[0].DeletedAt.Add(5*day)) {
		t.Fatalf("deleted = %+v", dms)
	}
	// Turning soft delete off keeps the window for what is deleted.
	if _, err := r.SetSoftDelete(ctx, false, 5); err != nil {
		t.Fatal(err)
	}
	clk.add(day + time.Second)
	st, err := r.ExpireDeleted(ctx)
	if err != nil || st != (ExpireStats{Manifests: 1, Tags: 1, Repositories: 1}) {
		t.Fatalf("expiry: %+v, %v", st, err)
	}
	if _, err := app.Restore(ctx, RestoreOptions{Digest: img.desc.Digest}); !errors.Is(err, ErrManifestUnknown) {
		t.Fatalf("restore after expiry: %v", err)
	}
	if drs, _, _ := r.DeletedRepositories(ctx, DeletedListOptions{}); len(drs) != 0 {
		t.Fatalf("deleted repositories after expiry = %+v", drs)
	}
	mustCheck(t, r)
	present(true) // the grace period first
	clk.add(2 * time.Hour)
	if _, err := r.Collect(ctx, CollectOptions{}); err != nil {
		t.Fatal(err)
	}
	present(false)
	if _, err := other.Manifests().Get(ctx, keep.desc.Digest.String(), GetOptions{}); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, r)
}

// TestSoftDeletedPush covers pushes: a soft-deleted digest is refused, a
// push to a soft-deleted repository restores it.
func TestSoftDeletedPush(t *testing.T) {
	ctx := context.Background()
	r, _ := softReg(t, 7)
	repo := repoOf(t, r, "app")
	img := pushImage(t, repo, "v1", 1)
	if _, err := repo.Tags().SetAttributes(ctx, "v1", tagPatch(false)); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Tags().SetAttributes(ctx, "v1", tagPatch(true)); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteRepository(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	_, err := repo.Manifests().Put(ctx, img.bytes, PutOptions{MediaType: img.desc.MediaType, Tag: "v2"})
	if !errors.Is(err, ErrSoftDeleted) || !errors.Is(err, ErrConflict) {
		t.Fatalf("push of a deleted digest: %v", err)
	}
	if names, _ := r.Repositories(ctx, "", 0); len(names) != 0 {
		t.Fatalf("refused push restored the repository: %v", names)
	}
	created := func() time.Time {
		drs, _, _ := r.DeletedRepositories(ctx, DeletedListOptions{})
		if len(drs) != 1 {
			t.Fatalf("deleted repositories = %+v", drs)
		}
		return drs[0].CreatedAt
	}()
	other := pushImage(t, repo, "v2", 1)
	p, err := repo.Properties(ctx)
	if err != nil || !p.CreatedAt.Equal(created) || p.ManifestCount != 1 {
		t.Fatalf("pushed-to repository = %+v, %v", p, err)
	}
	if drs, _, _ := r.DeletedRepositories(ctx, DeletedListOptions{}); len(drs) != 0 {
		t.Fatalf("deleted repositories after push = %+v", drs)
	}
	// Its deleted items stay deleted and restorable.
	if dms, _, _ := repo.DeletedManifests(ctx, DeletedListOptions{}); len(dms) != 1 || dms[0].Digest != img.desc.Digest {
		t.Fatalf("deleted = %+v", dms)
	}
	if _, err := repo.Restore(ctx, RestoreOptions{Digest: img.desc.Digest}); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Manifests().Get(ctx, other.desc.Digest.String(), GetOptions{}); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, r)
}

// TestSoftDeleteListPages pages through deleted manifests newest first.
func TestSoftDeleteListPages(t *testing.T) {
	ctx := context.Background()
	r, clk := softReg(t, 7)
	repo := repoOf(t, r, "app")
	var want []digest.Digest
	for i := 0; i < 7; i++ {
		img := pushImage(t, repo, "", 1)
		clk.add(time.Second)
		if i == 3 {
			clk.add(-time.Second) // two deleted at the same time
		}
		if err := repo.Manifests().Delete(ctx, img.desc.Digest); err != nil {
			t.Fatal(err)
		}
		want = append(want, img.desc.Digest)
	}
	var got []digest.Digest
	cursor := ""
	for {
		page, next, err := repo.DeletedManifests(ctx, DeletedListOptions{Cursor: cursor, N: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page {
			got = append(got, d.Digest)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(got) != len(want) {
		t.Fatalf("paged %d, want %d", len(got), len(want))
	}
	seen := map[digest.Digest]bool{}
	for _, d := range got {
		seen[d] = true
	}
	if len(seen) != len(want) || got[0] != want[6] || got[len(got)-1] != want[0] {
		t.Fatalf("order %v, deleted %v", got, want)
	}
	if _, _, err := repo.DeletedManifests(ctx, DeletedListOptions{Cursor: "junk"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad cursor: %v", err)
	}
}
