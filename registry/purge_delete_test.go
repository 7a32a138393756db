package registry

import (
	"context"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/policy"
)

// TestPurgeReadAhead changes the repository between the read-ahead of a
// group and its deleting transactions: a manifest deleted and pushed again
// (the detail read ahead still holds) is deleted with its references
// dropped once, a manifest an index took as a child and one that gained a
// referrer are skipped, and the store checks clean afterwards.
func TestPurgeReadAhead(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(opts ...Option) *Registry) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		r := newReg(WithClock(clk.now), WithSweepInterval(0))
		app := repoOf(t, r, "app")
		again := pushImage(t, app, "", 2)
		child := pushImage(t, app, "", 1)
		subject := pushImage(t, app, "", 1)
		plain := pushImage(t, app, "", 1)
		clk.add(2 * day)

		ev, err := policy.Compile(policy.Policy{Purge: &policy.Purge{Filters: []string{"app:.*"}, Ago: "1d", Untagged: true}}, policy.CompileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		snap, err := r.Snapshot(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		var dels []deletion
		for _, d := range ev.Evaluate(snap, clk.now()).Deletions() {
			dels = append(dels, deletion{d: d})
		}
		if len(dels) != 4 {
			t.Fatalf("plan deletes %d manifests, want 4", len(dels))
		}
		if err := r.readAhead(ctx, "app", dels); err != nil {
			t.Fatal(err)
		}
		for _, del := range dels {
			if len(del.dets) != 1 || del.dets[0] == nil {
				t.Fatalf("%s: nothing read ahead: %v", short(del.d.Digest), del.dets)
			}
		}

		// The world moves on between the read-ahead and the deletions.
		if err := app.Manifests().Delete(ctx, again.desc.Digest); err != nil {
			t.Fatal(err)
		}
		if _, err := app.Manifests().Put(ctx, again.bytes, PutOptions{MediaType: ocispec.MediaTypeImageManifest}); err != nil {
			t.Fatal(err)
		}
		pushIndex(t, app, "idx", child.desc)
		pushReferrer(t, app, subject.desc, "application/sig")

		outcome := map[string]error{}
		for i := range dels {
			del := &dels[i]
			outcome[short(del.d.Digest)] = skipped(r.update(ctx, deleteFn("app", del)))
		}
		for d, want := range map[string]string{
			short(again.desc.Digest):   "",
			short(plain.desc.Digest):   "",
			short(child.desc.Digest):   "child of index",
			short(subject.desc.Digest): "referrers changed",
		} {
			err := outcome[d]
			switch {
			case want == "" && err != nil:
				t.Errorf("%s: %v, want deleted", d, err)
			case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
				t.Errorf("%s: %v, want a skip saying %q", d, err, want)
			}
		}
		for img, want := range map[*image]bool{&again: false, &plain: false, &child: true, &subject: true} {
			if got := exists(t, app, img.desc.Digest); got != want {
				t.Errorf("%s exists = %v, want %v", short(img.desc.Digest), got, want)
			}
		}
		if rep, err := r.Check(ctx); err != nil || !rep.OK() {
			t.Fatalf("check: %+v, %v", rep, err)
		}
	})
}
