package registry

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestSoftDeleteEvents checks the events of a soft delete, a restore and
// an expiry, in commit order.
func TestSoftDeleteEvents(t *testing.T) {
	ctx := context.Background()
	events := make(chan Event, 100)
	r, clk := softReg(t, 1, WithSubscriber(func(ev Event) { events <- ev }))
	repo := repoOf(t, r, "app")
	img := pushImage(t, repo, "v1", 1)
	if err := repo.Manifests().Delete(ctx, img.desc.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Restore(ctx, RestoreOptions{Digest: img.desc.Digest}); err != nil {
		t.Fatal(err)
	}
	if err := repo.Tags().Untag(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	clk.add(day)
	if _, err := r.ExpireDeleted(ctx); err != nil {
		t.Fatal(err)
	}
	r.Close()
	close(events)
	type seen struct {
		a    Action
		tag  string
		soft bool
	}
	var got []seen
	var last uint64
	for ev := range events {
		if ev.Seq <= last {
			t.Fatalf("events out of order: %d after %d", ev.Seq, last)
		}
		last = ev.Seq
		switch ev.Action {
		case ActionBlobLink, ActionPush:
			continue
		}
		got = append(got, seen{ev.Action, ev.Tag, ev.Soft})
	}
	want := []seen{
		{ActionTag, "v1", false},
		{ActionDelete, "", true},
		{ActionRestoreRepository, "", false},
		{ActionRestore, "", false},
		{ActionTag, "v1", false},
		{ActionRestore, "v1", false},
		{ActionUntag, "v1", true},
		{ActionPurgeDeleted, "v1", false},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n got %v\nwant %v", got, want)
	}
}

// TestSoftDeleteGCStress interleaves pushes, soft deletes, restores and
// collections, and checks after each round that every blob a live or
// restorable manifest needs is in storage.
func TestSoftDeleteGCStress(t *testing.T) {
	ctx := context.Background()
	r, clk := softReg(t, 2, WithGracePeriod(time.Minute))
	repo := repoOf(t, r, "app")
	var live, dead []image
	for round := 0; round < 30; round++ {
		switch round % 5 {
		case 0, 1:
			live = append(live, pushImage(t, repo, "", 1+round%3))
		case 2:
			if len(live) > 0 {
				img := live[0]
				live = live[1:]
				if err := repo.Manifests().Delete(ctx, img.desc.Digest); err != nil {
					t.Fatal(err)
				}
				dead = append(dead, img)
			}
		case 3:
			if len(dead) > 1 {
				img := dead[len(dead)-1]
				dead = dead[:len(dead)-1]
				if _, err := repo.Restore(ctx, RestoreOptions{Digest: img.desc.Digest}); err != nil {
					t.Fatal(err)
				}
				live = append(live, img)
			}
		case 4:
			// Orphan blobs and the links a delete dropped are fair game.
			for _, img := range dead {
				for _, d := range blobsOf(t, img.bytes) {
					_ = repo.Blobs().Delete(ctx, d)
				}
			}
		}
		clk.add(10 * time.Minute)
		if _, err := r.Collect(ctx, CollectOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, img := range append(append([]image{}, live...), dead...) {
			for _, d := range blobsOf(t, img.bytes) {
				if _, err := r.Blobs().Stat(ctx, d); err != nil {
					t.Fatalf("round %d: blob %s of a restorable manifest collected: %v", round, d, err)
				}
			}
		}
		mustCheck(t, r)
	}
	// Every dead one can still come back, links and all.
	for _, img := range dead {
		if _, err := repo.Restore(ctx, RestoreOptions{Digest: img.desc.Digest}); err != nil {
			t.Fatal(err)
		}
		for _, d := range blobsOf(t, img.bytes) {
			if _, err := repo.Blobs().Stat(ctx, d); err != nil {
				t.Fatalf("blob %s not readable after restore: %v", d, err)
			}
		}
	}
	mustCheck(t, r)
}
