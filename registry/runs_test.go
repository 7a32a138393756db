package registry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/regkit/regkit/policy"
)

func TestStoredPoliciesAndRuns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	opts := []Option{WithClock(clk.now), WithSweepInterval(0), WithRunHistory(3 * day)}
	r, err := Open(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	app := repoOf(t, r, "app")
	pushImage(t, app, "dev-1", 1)
	pushImage(t, app, "v1", 1)
	if err := r.SetPolicy(ctx, "bad", &policy.Policy{Purge: &policy.Purge{Filters: []string{"app"}}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad policy: %v", err)
	}
	devs := policy.Policy{Purge: &policy.Purge{Filters: []string{"app:^dev-"}, Ago: "1d", Untagged: true}}
	if err := r.SetPolicy(ctx, "devs", &devs); err != nil {
		t.Fatal(err)
	}
	if err := r.SetPolicy(ctx, "gone", &devs); err != nil {
		t.Fatal(err)
	}
	if err := r.SetPolicy(ctx, "gone", nil); err != nil {
		t.Fatal(err)
	}
	// Stored policies survive a restart and run with every sweep.
	r.Close()
	if r, err = Open(dir, opts...); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ps, err := r.Policies(ctx)
	if err != nil || len(ps) != 1 {
		t.Fatalf("Policies = %v, %v", ps, err)
	}
	clk.add(2 * day)
	results, err := r.Sweep(ctx, PurgeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || len(results[1].Deleted) != 2 {
		t.Fatalf("sweep results %+v", results)
	}
	runs, err := r.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Retention is disabled: it ran nothing and left no record.
	if len(runs) != 1 || runs[0].Kind != "policy:devs" {
		t.Fatalf("runs %+v", runs)
	}
	if runs[0].Deleted != 2 || len(runs[0].Items) != 2 || runs[0].Items[0].Repository != "app" {
		t.Fatalf("run record %+v", runs[0])
	}
	// Records older than the history window go with the next record.
	clk.add(4 * day)
	if _, err := r.Purge(ctx, devs, PurgeOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if runs, err = r.Runs(ctx, 0); err != nil || len(runs) != 1 || !runs[0].DryRun || runs[0].Kind != "purge" {
		t.Fatalf("runs after the window: %+v, %v", runs, err)
	}
}
