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
