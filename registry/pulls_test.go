package registry

import (
	"context"
	"testing"
	"time"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
)

func TestPullRecording(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	// An interval far longer than the test: only Close and explicit
	// flushes write.
	r, err := Open(dir, WithClock(clk.now), WithPullRecording(time.Hour), WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	app := repoOf(t, r, "app")
	a := pushImage(t, app, "a", 1)
	b := pushImage(t, app, "b", 1)
	c := pushImage(t, app, "", 1)
	clk.add(time.Hour)
	for range 100 {
		if _, err := app.Manifests().Get(ctx, "a", GetOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pulledA := clk.now()
	clk.add(time.Minute)
	if _, err := app.Manifests().Get(ctx, c.desc.Digest.String(), GetOptions{}); err != nil {
		t.Fatal(err)
	}
	pulledC := clk.now()
	if _, err := app.Manifests().Stat(ctx, "b", GetOptions{}); err != nil { // a HEAD is no pull
		t.Fatal(err)
	}
	snap, err := r.Snapshot(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range snap.Manifests {
		if !m.LastPulled.IsZero() {
			t.Fatalf("a pull reached the store before its flush: %+v", m)
		}
	}
	// Close writes what is pending; reopening reads it back.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err = Open(dir, WithClock(clk.now), WithPullRecording(time.Hour), WithSweepInterval(0)); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	app = repoOf(t, r, "app")
	if snap, err = r.Snapshot(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{a.desc.Digest.String(): pulledA, "a": pulledA, c.desc.Digest.String(): pulledC, b.desc.Digest.String(): {}, "b": {}}
	for _, m := range snap.Manifests {
		if !m.LastPulled.Equal(want[m.Digest.String()]) {
			t.Errorf("manifest %s last pulled %v, want %v", short(m.Digest), m.LastPulled, want[m.Digest.String()])
		}
	}
	for _, tg := range snap.Tags {
		if !tg.LastPulled.Equal(want[tg.Name]) {
			t.Errorf("tag %s last pulled %v, want %v", tg.Name, tg.LastPulled, want[tg.Name])
		}
	}
	// A pull-based keep rule keeps the pulled tag; the other goes.
	clk.add(2 * day)
	res, err := r.Purge(ctx, policy.Policy{
		Purge: &policy.Purge{Filters: []string{"app:.*"}, Ago: "1d"},
		Keep:  []policy.KeepRule{{Within: "7d", By: policy.ByPulled}},
	}, PurgeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(res.Deleted); len(got) != 1 || got[0] != "app:b" {
		t.Fatalf("purge deleted %v, want [app:b]", got)
	}
	// Deleting a manifest drops its records; a pending pull of it is not
	// written back.
	if _, err := app.Manifests().Get(ctx, "a", GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := app.Manifests().Delete(ctx, a.desc.Digest); err != nil {
		t.Fatal(err)
	}
	if err := r.flushPulls(ctx); err != nil {
		t.Fatal(err)
	}
	var left []string
	if err := r.view(ctx, func(tx meta.Tx) error { return scanPulls(tx, "app", &left) }); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0] != "m "+c.desc.Digest.String() {
		t.Fatalf("pull records after the delete: %v", left)
	}
}

// scanPulls lists the pull records of repo as "kind name".
func scanPulls(tx meta.Tx, repo string, out *[]string) error {
	return schema.Pulls.ScanRepo(tx, repo, func(kind, name string, _ time.Time) bool {
		*out = append(*out, kind+" "+name)
		return true
	})
}
