package policy_test

import (
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/tag"
)

// Example evaluates acr purge's common rule, every tag but latest older
// than 30 days plus the manifests that leaves untagged, over a small
// repository.
func Example() {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	old, recent := now.AddDate(0, 0, -90), now.AddDate(0, 0, -2)
	v1, v2 := digest.FromString("v1"), digest.FromString("v2")
	snap := &policy.Snapshot{
		Repository: "team/web",
		Attributes: tag.DefaultAttributes(),
		Tags: []policy.Tag{
			{Name: "v1", Digest: v1, CreatedAt: old, Attributes: tag.DefaultAttributes()},
			{Name: "latest", Digest: v2, CreatedAt: old, Attributes: tag.DefaultAttributes()},
			{Name: "v2", Digest: v2, CreatedAt: recent, Attributes: tag.DefaultAttributes()},
		},
		Manifests: []policy.Manifest{
			{Digest: v1, CreatedAt: old, Attributes: tag.DefaultAttributes()},
			{Digest: v2, CreatedAt: recent, Attributes: tag.DefaultAttributes()},
		},
	}
	e, err := policy.Compile(policy.Policy{Purge: &policy.Purge{
		Filters:  []string{`team/.*:^(?!latest$).*`},
		Ago:      "30d",
		Untagged: true,
	}}, policy.CompileOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	plan := e.Evaluate(snap, now)
	for _, d := range plan.Decisions {
		name := d.Tag
		if d.Kind == policy.KindManifest {
			name = map[digest.Digest]string{v1: "manifest of v1", v2: "manifest of v2"}[d.Digest]
		}
		verdict := "keep"
		if d.Delete {
			verdict = fmt.Sprintf("delete (stage %d)", d.Stage)
		}
		fmt.Printf("%-15s %-17s %s\n", name, verdict, d.Reason.Code)
	}
	fmt.Println(plan.Untagged, "manifest becomes untagged")
	// Output:
	// v1              delete (stage 0)  filter
	// manifest of v1  delete (stage 1)  untagged
	// latest          keep              not-selected
	// v2              keep              newer-than-cutoff
	// manifest of v2  keep              tagged
	// 1 manifest becomes untagged
}
