package registry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/regkit/regkit/tag"
)

func TestRetention(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r, err := Open(dir, WithClock(clk.now), WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	app := repoOf(t, r, "app")
	before := pushImage(t, app, "", 1) // untagged before the policy: exempt
	if p, err := r.Retention(ctx); err != nil || p.Enabled || p.Days != 7 {
		t.Fatalf("default retention = %+v, %v", p, err)
	}
	if _, err := r.SetRetention(ctx, true, 366); !errors.Is(err, ErrInvalid) {
		t.Fatalf("366 days: %v", err)
	}
	clk.add(time.Hour)
	set, err := r.SetRetention(ctx, true, 3)
	if err != nil || !set.Enabled || set.Days != 3 || !set.EnabledAt.Equal(clk.now()) {
		t.Fatalf("SetRetention = %+v, %v", set, err)
	}
	clk.add(time.Hour)
	due := pushImage(t, app, "v1", 1)
	if err := app.Tags().Untag(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	lockedImg := pushImage(t, app, "", 1)
	f := false
	if _, err := app.Manifests().SetAttributes(ctx, lockedImg.desc.Digest, tag.Patch{DeleteEnabled: &f}); err != nil {
		t.Fatal(err)
	}
	tagged := pushImage(t, app, "stays", 1)
	clk.add(2 * day)
	notYet := pushImage(t, app, "", 1)

	// Not due yet: nothing goes.
	res, err := r.SweepRetention(ctx, PurgeOptions{})
	if err != nil || len(res.Deleted) != 0 {
		t.Fatalf("early sweep deleted %v, %v", names(res.Deleted), err)
	}
	// The setting survives a restart.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err = Open(dir, WithClock(clk.now), WithSweepInterval(0)); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	app = repoOf(t, r, "app")
	if p, err := r.Retention(ctx); err != nil || p != set {
		t.Fatalf("after reopen retention = %+v, %v; want %+v", p, err, set)
	}
	clk.add(1*day + time.Minute)
	dry, err := r.SweepRetention(ctx, PurgeOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err = r.SweepRetention(ctx, PurgeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"app@" + short(due.desc.Digest)}
	if got := names(res.Deleted); len(got) != 1 || got[0] != want[0] || names(dry.Deleted)[0] != want[0] {
		t.Fatalf("sweep deleted %v (dry run %v), want %v", got, names(dry.Deleted), want)
	}
	for _, img := range []image{before, lockedImg, tagged, notYet} {
		if !exists(t, app, img.desc.Digest) {
			t.Fatalf("sweep deleted %s", short(img.desc.Digest))
		}
	}
	// Days 0: the next sweep takes what is untagged now, and the repository
	// leaves the catalog with its last manifest.
	if _, err := r.SetRetention(ctx, false, 0); err != nil {
		t.Fatal(err)
	}
	set, err = r.SetRetention(ctx, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	solo := repoOf(t, r, "solo")
	pushImage(t, solo, "x", 1)
	if err := solo.Tags().Untag(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SweepRetention(ctx, PurgeOptions{}); err != nil {
		t.Fatal(err)
	}
	if repos, _ := r.Repositories(ctx, "", 0); len(repos) != 1 || repos[0] != "app" {
		t.Fatalf("catalog after the sweep: %v", repos)
	}
}

func TestLockRules(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(dir, WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetLockRules(ctx, []LockRule{{Repositories: "prod/.*", Tags: `^v\d`}, {Tags: "^(", LockDelete: true}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad pattern: %v", err)
	}
	rules := []LockRule{{Repositories: "prod/.*", Tags: `^v\d`, LockDelete: true}}
	if err := r.SetLockRules(ctx, rules); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if r, err = Open(dir, WithSweepInterval(0)); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := r.LockRules(ctx); err != nil || len(got) != 1 || got[0] != rules[0] {
		t.Fatalf("LockRules after reopen = %+v, %v", got, err)
	}
	prod, dev := repoOf(t, r, "prod/api"), repoOf(t, r, "dev/api")
	img := pushImage(t, prod, "v1", 1)
	pushImage(t, prod, "latest", 1)
	pushImage(t, dev, "v1", 1)
	p, err := prod.Tags().Properties(ctx, "v1")
	if err != nil || p.Attributes.WriteEnabled || p.Attributes.DeleteEnabled {
		t.Fatalf("prod/api:v1 = %+v, %v; want created locked", p.Attributes, err)
	}
	for _, c := range []struct {
		repo *Repository
		tag  string
	}{{prod, "latest"}, {dev, "v1"}} {
		if p, err := c.repo.Tags().Properties(ctx, c.tag); err != nil || !p.Attributes.WriteEnabled {
			t.Fatalf("%s:%s = %+v, %v; want unlocked", c.repo.Name(), c.tag, p.Attributes, err)
		}
	}
	// A push that would move the locked tag is refused like any lock.
	other := buildImage(t, prod, 1, nil)
	if _, err := prod.Manifests().Put(ctx, other.bytes, PutOptions{MediaType: img.desc.MediaType, Tag: "v1"}); !errors.Is(err, ErrLocked) {
		t.Fatalf("push moving prod/api:v1: %v, want ErrLocked", err)
	}
	// Pushing the same manifest to it again changes nothing and succeeds.
	if _, err := prod.Manifests().Put(ctx, img.bytes, PutOptions{MediaType: img.desc.MediaType, Tag: "v1"}); err != nil {
		t.Fatalf("re-push of the same manifest: %v", err)
	}
}
