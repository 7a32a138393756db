package policy

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestPlanProperties evaluates random repositories under random rules and
// checks what must hold for every plan.
func TestPlanProperties(t *testing.T) {
	rounds := 3000
	if testing.Short() {
		rounds = 300
	}
	for seed := range rounds {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		s := randomSnapshot(rng)
		pol := randomPolicy(rng)
		e, err := Compile(pol, CompileOptions{})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		p := e.Evaluate(&s, t0)
		if msg := checkPlan(e, &s, p); msg != "" {
			t.Fatalf("seed %d: %s\npolicy %+v\nplan:\n%s", seed, msg, pol, fmtDecisions(p))
		}
	}
}

func randomSnapshot(rng *rand.Rand) Snapshot {
	b := newSnap([]string{"app", "team/web", "other"}[rng.IntN(3)])
	n := 1 + rng.IntN(12)
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("m%d", i)
	}
	for i, name := range names {
		var opts []func(*Manifest)
		if rng.IntN(5) == 0 {
			opts = append(opts, lockedM)
		}
		// Only earlier manifests can be children or subjects: no cycles.
		if i > 0 && rng.IntN(4) == 0 {
			k := 1 + rng.IntN(min(i, 3))
			var cs []string
			for range k {
				cs = append(cs, names[rng.IntN(i)])
			}
			opts = append(opts, children(cs...))
		} else if i > 0 && rng.IntN(4) == 0 {
			opts = append(opts, subject(names[rng.IntN(i)]))
		}
		if rng.IntN(3) == 0 {
			opts = append(opts, untaggedDays(float64(rng.IntN(30))))
		}
		if rng.IntN(3) == 0 {
			opts = append(opts, pulledM(float64(rng.IntN(30))))
		}
		b.man(name, float64(rng.IntN(40)), opts...)
	}
	for i := range rng.IntN(15) {
		var opts []func(*Tag)
		if rng.IntN(5) == 0 {
			opts = append(opts, lockedT)
		}
		if rng.IntN(2) == 0 {
			opts = append(opts, pulledT(float64(rng.IntN(30))))
		}
		prefix := []string{"v", "rc", "latest", "dev"}[rng.IntN(4)]
		b.tag(fmt.Sprintf("%s%d", prefix, i), names[rng.IntN(n)], float64(rng.IntN(40)), opts...)
	}
	if rng.IntN(10) == 0 {
		b.s.Attributes.WriteEnabled = false
	}
	return b.s
}

func randomPolicy(rng *rand.Rand) Policy {
	var p Policy
	if rng.IntN(4) != 0 {
		pu := &Purge{Keep: rng.IntN(3), IncludeLocked: rng.IntN(3) == 0}
		switch rng.IntN(3) {
		case 0:
			pu.UntaggedOnly = true
			if rng.IntN(2) == 0 {
				pu.Ago = fmt.Sprintf("%dd", rng.IntN(20))
			}
		case 1:
			pu.Untagged = true
		}
		if !pu.UntaggedOnly || rng.IntN(2) == 0 {
			filters := []string{"app:.*", ".*:^v", "team/.*:^(?!latest$).*", "app:rc", "other:dev"}
			for range 1 + rng.IntN(2) {
				pu.Filters = append(pu.Filters, filters[rng.IntN(len(filters))])
			}
		}
		if !pu.UntaggedOnly {
			pu.Ago = fmt.Sprintf("%dd", rng.IntN(20))
		}
		p.Purge = pu
	}
	if rng.IntN(3) == 0 {
		p.UntaggedRetention = &UntaggedRetention{Days: rng.IntN(15), EnabledAt: daysAgo(float64(rng.IntN(40)))}
	}
	for range rng.IntN(3) {
		k := KeepRule{By: []TimeBasis{ByPushed, ByPulled}[rng.IntN(2)], Tags: []string{"", "^v", "rc"}[rng.IntN(3)]}
		switch rng.IntN(3) {
		case 0:
			k.Newest = 1 + rng.IntN(2)
		case 1:
			k.Within = fmt.Sprintf("%dd", rng.IntN(20))
		}
		if rng.IntN(4) == 0 {
			k.Manifests = true
			if k.Newest == 0 && k.Within == "" {
				k.Newest = 1
			}
		}
		p.Keep = append(p.Keep, k)
	}
	return p
}

// checkPlan returns what is wrong with p, or "".
func checkPlan(e *Evaluator, s *Snapshot, p *Plan) string {
	if len(p.Decisions) != len(s.Tags)+len(s.Manifests) {
		return "not every item decided once"
	}
	includeLocked := e.purge != nil && e.purge.IncludeLocked
	goes := map[digest.Digest]bool{}
	tagGoes := map[string]bool{}
	for _, d := range p.Decisions {
		if d.Delete && d.Kind == KindManifest {
			goes[d.Digest] = true
		}
		if d.Delete && d.Kind == KindTag {
			tagGoes[d.Tag] = true
		}
	}
	for _, t := range s.Tags {
		if !tagGoes[t.Name] {
			continue
		}
		if t.Attributes.Locked() && !includeLocked {
			return "locked tag " + t.Name + " goes"
		}
		if !s.Attributes.WriteEnabled {
			return "tag of a write-locked repository goes"
		}
		selected := false
		for _, f := range e.purge.filters {
			r, _ := f.repo.match(s.Repository)
			g, _ := f.tag.match(t.Name)
			selected = selected || (r && g)
		}
		if !selected {
			return "tag " + t.Name + " outside every filter goes"
		}
		if !t.updated().Before(t0.Add(-e.purge.ago)) {
			return "tag " + t.Name + " newer than the cutoff goes"
		}
	}
	byDigest := map[digest.Digest]*Manifest{}
	for i := range s.Manifests {
		byDigest[s.Manifests[i].Digest] = &s.Manifests[i]
	}
	for _, d := range p.Decisions {
		if d.Kind != KindManifest || !d.Delete {
			continue
		}
		m := byDigest[d.Digest]
		if m.Attributes.Locked() && !includeLocked {
			return "locked manifest goes"
		}
		if !s.Attributes.WriteEnabled {
			return "manifest of a write-locked repository goes"
		}
		for _, t := range s.Tags {
			if t.Digest == m.Digest && !tagGoes[t.Name] {
				return "manifest with a tag left goes"
			}
		}
		if m.Subject != "" && !goes[m.Subject] {
			return "referrer goes without its subject"
		}
		if m.Subject != "" && d.Reason.Code != ReasonWithSubject {
			return "referrer goes on its own"
		}
		for _, idx := range s.Manifests {
			for _, c := range idx.Children {
				if c == m.Digest && !goes[idx.Digest] {
					return "child of a kept index goes"
				}
			}
		}
	}
	return ""
}
