package registry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/tag"
)

// TestPurgeProperties builds random repositories (images, indexes,
// referrers, locks, tags moved over time), runs a random purge dry and
// then for real, and checks: the run deleted exactly what the dry run
// planned, nothing locked went without include-locked, no tag outside
// every filter went, and the registry is consistent afterwards (Check:
// no index lost a child, no referrer outlived its subject's deletion).
func TestPurgeProperties(t *testing.T) {
	seeds := 25
	if testing.Short() {
		seeds = 6
	}
	deleted := 0
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 11))
			ctx := context.Background()
			clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			r, err := NewMemory(WithClock(clk.now), WithSweepInterval(0), WithPullRecording(0))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			f := false
			lockedTags := map[string]bool{}
			for _, name := range []string{"app", "team/web", "other"} {
				repo := repoOf(t, r, name)
				var descs []ocispec.Descriptor
				for i := range 3 + rng.IntN(6) {
					clk.add(time.Duration(rng.IntN(48)) * time.Hour)
					var d ocispec.Descriptor
					switch k := rng.IntN(6); {
					case k == 0 && len(descs) > 0:
						d = pushIndex(t, repo, "", descs[rng.IntN(len(descs))])
					case k == 1 && len(descs) > 0:
						d = pushReferrer(t, repo, descs[rng.IntN(len(descs))], "application/sig")
					default:
						d = pushImage(t, repo, "", 1).desc
					}
					descs = append(descs, d)
					if rng.IntN(2) == 0 {
						tn := fmt.Sprintf("%s%d", []string{"v", "dev", "latest"}[rng.IntN(3)], i)
						if err := repo.Tags().Set(ctx, tn, d.Digest, SetOptions{}); err != nil {
							t.Fatal(err)
						}
						if rng.IntN(5) == 0 {
							if _, err := repo.Tags().SetAttributes(ctx, tn, tag.Patch{WriteEnabled: &f}); err != nil {
								t.Fatal(err)
							}
							lockedTags[name+":"+tn] = true
						}
					}
					if rng.IntN(6) == 0 {
						if _, err := repo.Manifests().SetAttributes(ctx, d.Digest, tag.Patch{DeleteEnabled: &f}); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			clk.add(time.Duration(2+rng.IntN(10)) * 24 * time.Hour)
			pu := &policy.Purge{
				Filters:       []string{[]string{"app:.*", ".*:^v", "team/.*:^(?!latest).*"}[rng.IntN(3)]},
				Ago:           fmt.Sprintf("%dd", rng.IntN(5)),
				Keep:          rng.IntN(3),
				Untagged:      rng.IntN(3) != 0,
				IncludeLocked: rng.IntN(4) == 0,
			}
			p := policy.Policy{Purge: pu}
			dry, err := r.Purge(ctx, p, PurgeOptions{DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Purge(ctx, p, PurgeOptions{Concurrency: 1 + rng.IntN(8)})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Skipped) != 0 {
				t.Fatalf("skipped with nothing racing: %+v", res.Skipped)
			}
			if !slices.Equal(names(dry.Deleted), names(res.Deleted)) {
				t.Fatalf("policy %+v\ndry run %v\nrun     %v", *pu, names(dry.Deleted), names(res.Deleted))
			}
			for _, it := range res.Deleted {
				if it.Kind == policy.KindTag && lockedTags[it.Repository+":"+it.Tag] && !pu.IncludeLocked {
					t.Fatalf("locked tag %s:%s deleted", it.Repository, it.Tag)
				}
				if it.Unlock && !pu.IncludeLocked {
					t.Fatalf("%+v unlocked without include-locked", it)
				}
			}
			if rep, err := r.Check(ctx); err != nil || !rep.OK() {
				t.Fatalf("check after purge: %+v, %v", rep, err)
			}
			deleted += len(res.Deleted)
		})
	}
	if deleted == 0 {
		t.Fatal("no seed deleted anything: the test checks nothing")
	}
	t.Logf("%d deletions over %d seeds", deleted, seeds)
}
