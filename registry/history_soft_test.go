package registry

import (
	"context"
	"testing"
	"time"
)

// TestHistoryWithSoftDelete: a restore is recorded as a restore, and
// without WithTagHistory the history lasts as long as the soft-delete
// window.
func TestHistoryWithSoftDelete(t *testing.T) {
	ctx := context.Background()
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		f := newHistFixture(t, newReg)
		if _, err := f.r.SetSoftDelete(ctx, true, 30); err != nil {
			t.Fatal(err)
		}
		f.step()
		f.set("v1", f.a)
		f.step()
		if err := f.repo.Manifests().Delete(ctx, f.a); err != nil {
			t.Fatal(err)
		}
		f.step()
		if _, err := f.repo.Restore(ctx, RestoreOptions{Digest: f.a}); err != nil {
			t.Fatal(err)
		}
		const want = "restore ->a, delete a>-, tag ->a"
		if got := f.history("v1"); got != want {
			t.Fatalf("history = %q, want %q", got, want)
		}
		// Twenty days on, past DefaultTagHistory but inside the 30-day
		// soft-delete window: still there.
		f.clk.add(20 * 24 * time.Hour)
		if got := f.history("v1"); got != want {
			t.Fatalf("after 20 days: %q", got)
		}
		// Soft delete off: the default window again.
		if _, err := f.r.SetSoftDelete(ctx, false, 30); err != nil {
			t.Fatal(err)
		}
		if got := f.history("v1"); got != "" {
			t.Fatalf("after 20 days with soft delete off: %q", got)
		}
	})
}

// TestRevertEvent: a revert is reported as ActionRevert, after the moves
// before it, in commit order.
func TestRevertEvent(t *testing.T) {
	ctx := context.Background()
	events := make(chan Event, 64)
	f := newHistFixture(t, func(opts ...Option) *Registry {
		r, err := NewMemory(append(opts, WithSubscriber(func(ev Event) { events <- ev }))...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	})
	f.step()
	f.set("v1", f.a)
	at := f.step()
	f.step()
	f.set("v1", f.b)
	f.step()
	if _, err := f.repo.Tags().Revert(ctx, "v1", at); err != nil {
		t.Fatal(err)
	}
	var got []string
	deadline := time.After(5 * time.Second)
	for len(got) < 3 {
		select {
		case ev := <-events:
			if ev.Tag == "v1" {
				got = append(got, string(ev.Action)+" "+ev.Digest.Encoded()[:6])
			}
		case <-deadline:
			t.Fatalf("events so far %v", got)
		}
	}
	want := []string{"tag " + f.a.Encoded()[:6], "tag " + f.b.Encoded()[:6], "revert " + f.a.Encoded()[:6]}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
}

// TestRevertRestores: reverting to a manifest that was soft-deleted since
// restores it, and only it, with the tag pointing at it again.
func TestRevertRestores(t *testing.T) {
	ctx := context.Background()
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		f := newHistFixture(t, newReg)
		if _, err := f.r.SetSoftDelete(ctx, true, 7); err != nil {
			t.Fatal(err)
		}
		f.step()
		f.set("v1", f.a)
		f.set("other", f.a)
		at := f.step()
		f.step()
		f.set("v1", f.b)
		if err := f.repo.Manifests().Delete(ctx, f.a); err != nil { // takes "other" with it
			t.Fatal(err)
		}
		f.step()
		got, err := f.repo.Tags().Revert(ctx, "v1", at)
		if err != nil || got != f.a {
			t.Fatalf("revert = %s, %v; want %s", got, err, f.a)
		}
		if d, err := f.repo.Tags().Resolve(ctx, "v1"); err != nil || d.Digest != f.a {
			t.Fatalf("v1 after the revert: %v, %v", d.Digest, err)
		}
		if _, err := f.repo.Tags().Resolve(ctx, "other"); err == nil {
			t.Fatal("the revert restored the manifest's other tag too")
		}
		// Eight days on, the manifest expired and the time is past the
		// window: refused.
		f.set("v1", f.b)
		if err := f.repo.Manifests().Delete(ctx, f.a); err != nil {
			t.Fatal(err)
		}
		f.clk.add(8 * 24 * time.Hour)
		if _, err := f.r.ExpireDeleted(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.repo.Tags().Revert(ctx, "v1", at); err == nil {
			t.Fatal("revert to an expired manifest succeeded")
		}
	})
}
