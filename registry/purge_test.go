package registry

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/tag"
)

const day = 24 * time.Hour

// pushIndex pushes an index of children under tag (by digest when empty).
func pushIndex(t testing.TB, repo *Repository, tagName string, children ...ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: children}
	b, _ := json.Marshal(idx)
	desc, err := repo.Manifests().Put(context.Background(), b, PutOptions{MediaType: ocispec.MediaTypeImageIndex, Tag: tagName})
	if err != nil {
		t.Fatalf("push index: %v", err)
	}
	return desc
}

// names lists "repo:tag" or "repo@digest" of items, sorted.
func names(items []PurgeItem) []string {
	var out []string
	for _, it := range items {
		if it.Kind == policy.KindTag {
			out = append(out, it.Repository+":"+it.Tag)
		} else {
			out = append(out, it.Repository+"@"+it.Digest.Encoded()[:12])
		}
	}
	sort.Strings(out)
	return out
}

func short(d digest.Digest) string { return d.Encoded()[:12] }

// exists reports whether repo holds manifest d.
func exists(t *testing.T, repo *Repository, d digest.Digest) bool {
	t.Helper()
	_, err := repo.Manifests().Properties(context.Background(), d)
	if err != nil && !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestPurge(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(opts ...Option) *Registry) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		r := newReg(WithClock(clk.now), WithSweepInterval(0))
		app := repoOf(t, r, "team/app")
		other := repoOf(t, r, "other")

		old := pushImage(t, app, "v1", 1)                           // goes: tag and manifest
		oldSig := pushReferrer(t, app, old.desc, "application/sig") // goes with old
		shared := pushImage(t, app, "v2", 1)
		amd := pushImage(t, app, "", 1)
		oldIdx := pushIndex(t, app, "v3", amd.desc) // goes, then its child
		keptChild := pushImage(t, app, "", 1)
		pushIndex(t, app, "stable", keptChild.desc) // stays: not matched
		locked := pushImage(t, app, "v4", 1)
		if _, err := app.Tags().SetAttributes(ctx, "v4", tag.Patch{WriteEnabled: new(bool)}); err != nil {
			t.Fatal(err)
		}
		otherImg := pushImage(t, other, "v1", 1)
		clk.add(10 * day)
		if err := app.Tags().Set(ctx, "latest", shared.desc.Digest, SetOptions{}); err != nil {
			t.Fatal(err)
		}
		recent := pushImage(t, app, "v9", 1)

		p := policy.Policy{Purge: &policy.Purge{Filters: []string{"team/.*:^v"}, Ago: "7d", Untagged: true}}
		dry, err := r.Purge(ctx, p, PurgeOptions{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []digest.Digest{old.desc.Digest, oldSig.Digest, oldIdx.Digest, amd.desc.Digest} {
			if !exists(t, app, d) {
				t.Fatalf("dry run deleted %s", short(d))
			}
		}
		res, err := r.Purge(ctx, p, PurgeOptions{Concurrency: 4})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names(dry.Deleted), names(res.Deleted)) {
			t.Fatalf("dry run planned %v, purge deleted %v", names(dry.Deleted), names(res.Deleted))
		}
		if len(res.Skipped) != 0 {
			t.Fatalf("skipped %+v", res.Skipped)
		}
		want := []string{
			"team/app:v1", "team/app:v2", "team/app:v3",
			"team/app@" + short(old.desc.Digest), "team/app@" + short(oldSig.Digest),
			"team/app@" + short(oldIdx.Digest), "team/app@" + short(amd.desc.Digest),
		}
		sort.Strings(want)
		if got := names(res.Deleted); !slices.Equal(got, want) {
			t.Fatalf("deleted\n got  %v\n want %v", got, want)
		}
		if res.Untagged != 2 || dry.Untagged != 2 {
			t.Fatalf("untagged = %d (dry run %d), want 2 (v1's and v3's manifests)", res.Untagged, dry.Untagged)
		}
		for _, d := range []digest.Digest{shared.desc.Digest, keptChild.desc.Digest, locked.desc.Digest, recent.desc.Digest} {
			if !exists(t, app, d) {
				t.Fatalf("purge deleted %s, which stays", short(d))
			}
		}
		if !exists(t, other, otherImg.desc.Digest) {
			t.Fatal("purge touched a repository outside its filters")
		}
		if _, err := app.Tags().Resolve(ctx, "v4"); err != nil {
			t.Fatalf("locked tag v4: %v", err)
		}
		// A second run finds nothing more.
		again, err := r.Purge(ctx, p, PurgeOptions{})
		if err != nil || len(again.Deleted) != 0 {
			t.Fatalf("second purge deleted %v, %v", names(again.Deleted), err)
		}
	})
}

func TestPurgeIncludeLocked(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r, _ := NewMemory(WithClock(clk.now))
	defer r.Close()
	app := repoOf(t, r, "app")
	img := pushImage(t, app, "v1", 1)
	f := false
	if _, err := app.Tags().SetAttributes(ctx, "v1", tag.Patch{WriteEnabled: &f}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Manifests().SetAttributes(ctx, img.desc.Digest, tag.Patch{DeleteEnabled: &f}); err != nil {
		t.Fatal(err)
	}
	clk.add(2 * day)
	p := policy.Policy{Purge: &policy.Purge{Filters: []string{"app:.*"}, Ago: "1d", Untagged: true}}
	res, err := r.Purge(ctx, p, PurgeOptions{})
	if err != nil || len(res.Deleted) != 0 {
		t.Fatalf("purge without include-locked deleted %v, %v", names(res.Deleted), err)
	}
	p.Purge.IncludeLocked = true
	res, err = r.Purge(ctx, p, PurgeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(res.Deleted); len(got) != 2 || exists(t, app, img.desc.Digest) {
		t.Fatalf("include-locked deleted %v", got)
	}
}

// TestPurgeRechecks changes the repository between the snapshot and the
// deletions: what the plan assumed no longer holds, so nothing goes.
func TestPurgeRechecks(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r, _ := NewMemory(WithClock(clk.now), WithSweepInterval(0))
	defer r.Close()
	app := repoOf(t, r, "app")
	moved := pushImage(t, app, "moved", 1)
	retagged := pushImage(t, app, "retagged", 1)
	lockedM := pushImage(t, app, "locked-later", 1)
	gainsRef := pushImage(t, app, "gains-referrer", 1)
	lockedT := pushImage(t, app, "locked-tag", 1)
	other := pushImage(t, app, "", 1)
	clk.add(2 * day)

	ev, err := policy.Compile(policy.Policy{Purge: &policy.Purge{Filters: []string{"app:.*"}, Ago: "1d", Untagged: true}}, policy.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := r.Snapshot(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	plan := ev.Evaluate(snap, clk.now())
	if tags, mans := plan.Counts(); tags != 5 || mans != 6 {
		t.Fatalf("plan deletes %d tags and %d manifests, want 5 and 6:\n%v", tags, mans, plan)
	}
	// The world moves on after the snapshot.
	f := false
	if err := app.Tags().Set(ctx, "moved", other.desc.Digest, SetOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := app.Tags().Set(ctx, "again", retagged.desc.Digest, SetOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Manifests().SetAttributes(ctx, lockedM.desc.Digest, tag.Patch{WriteEnabled: &f}); err != nil {
		t.Fatal(err)
	}
	pushReferrer(t, app, gainsRef.desc, "application/sig")
	if _, err := app.Tags().SetAttributes(ctx, "locked-tag", tag.Patch{DeleteEnabled: &f}); err != nil {
		t.Fatal(err)
	}

	run := &purgeRun{r: r, opts: PurgeOptions{}, res: &PurgeResult{}}
	if err := run.execute(ctx, plan); err != nil {
		t.Fatal(err)
	}
	skipped := map[string]string{}
	for _, it := range run.res.Skipped {
		k := it.Tag
		if it.Kind == policy.KindManifest {
			k = short(it.Digest)
		}
		skipped[k] = it.Error
	}
	for _, k := range []string{"moved", "locked-tag", short(retagged.desc.Digest), short(lockedM.desc.Digest), short(gainsRef.desc.Digest), short(lockedT.desc.Digest)} {
		if skipped[k] == "" {
			t.Errorf("%s was not skipped; skipped: %v", k, skipped)
		}
	}
	for _, d := range []digest.Digest{retagged.desc.Digest, lockedM.desc.Digest, gainsRef.desc.Digest, lockedT.desc.Digest, other.desc.Digest} {
		if !exists(t, app, d) {
			t.Errorf("%s was deleted after the plan's assumption broke", short(d))
		}
	}
	if _, err := app.Tags().Resolve(ctx, "moved"); err != nil {
		t.Errorf("tag moved after the snapshot was deleted: %v", err)
	}
	// The manifest "moved" used to name is untagged and old, as planned.
	if exists(t, app, moved.desc.Digest) {
		t.Error("the manifest left untagged by the move stayed")
	}
}

// TestPurgeRacingPushes runs purges while pushes move tags: a manifest a
// racing push tagged is never deleted.
func TestPurgeRacingPushes(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r, err := Open(t.TempDir(), WithClock(clk.now), WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	app := repoOf(t, r, "app")
	var imgs []image
	for range 40 {
		imgs = append(imgs, pushImage(t, app, "", 1))
	}
	for i, img := range imgs[:20] {
		if err := app.Tags().Set(ctx, "t"+string(rune('a'+i)), img.desc.Digest, SetOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	clk.add(2 * day)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var mu sync.Mutex
	tagged := map[digest.Digest]bool{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			img := imgs[(i*7)%len(imgs)]
			// Tag it, then keep it tagged: it must never be deleted from here on.
			if err := app.Tags().Set(ctx, "keep"+string(rune('a'+i%26)), img.desc.Digest, SetOptions{}); err == nil {
				mu.Lock()
				tagged[img.desc.Digest] = true
				mu.Unlock()
			}
		}
	}()
	p := policy.Policy{Purge: &policy.Purge{Filters: []string{"app:^t"}, Ago: "1d", Untagged: true}}
	for range 5 {
		if _, err := r.Purge(ctx, p, PurgeOptions{Concurrency: 8}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	// Every manifest tagged by a keep tag at the end must exist; those the
	// racing goroutine moved a keep tag away from may be gone.
	for i := range 26 {
		d, err := app.Tags().Resolve(ctx, "keep"+string(rune('a'+i)))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !exists(t, app, d.Digest) {
			t.Fatalf("tag keep%c points to a deleted manifest", 'a'+i)
		}
	}
	if rep, err := r.Check(ctx); err != nil || !rep.OK() {
		t.Fatalf("check after racing purges: %+v, %v", rep, err)
	}
}
