package policy

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
)

// eval is the state of one evaluation.
type eval struct {
	e    *Evaluator
	s    *Snapshot
	now  time.Time
	plan *Plan

	repoLocked bool
	tagDec     []Decision // by index in s.Tags
	manDec     []Decision // by index in s.Manifests
	byDigest   map[digest.Digest]int
	parents    map[digest.Digest][]digest.Digest
	referrers  map[digest.Digest][]digest.Digest
	untagged   map[digest.Digest]bool // no tags left after the tag pass
	newlyUntag map[digest.Digest]bool // lost the last tag in this plan
}

// Evaluate judges s at time now and returns the plan. It reads nothing but
// its arguments and never fails: an item it cannot judge (a pattern match
// that timed out, no time to age it by) stays, with the reason.
func (e *Evaluator) Evaluate(s *Snapshot, now time.Time) *Plan {
	v := &eval{
		e: e, s: s, now: now,
		plan:       &Plan{Repository: s.Repository, Time: now},
		repoLocked: !s.Attributes.WriteEnabled,
		tagDec:     make([]Decision, len(s.Tags)),
		manDec:     make([]Decision, len(s.Manifests)),
		byDigest:   make(map[digest.Digest]int, len(s.Manifests)),
		parents:    map[digest.Digest][]digest.Digest{},
		referrers:  map[digest.Digest][]digest.Digest{},
		untagged:   make(map[digest.Digest]bool, len(s.Manifests)),
		newlyUntag: map[digest.Digest]bool{},
	}
	v.index()
	v.tags()
	v.manifests()
	v.order()
	return v.plan
}

func keep(code ReasonCode) Decision { return Decision{Stage: -1, Reason: Reason{Code: code}} }

func (v *eval) index() {
	for i := range v.s.Manifests {
		m := &v.s.Manifests[i]
		v.byDigest[m.Digest] = i
		for _, c := range m.Children {
			v.parents[c] = append(v.parents[c], m.Digest)
		}
		if m.Subject != "" {
			v.referrers[m.Subject] = append(v.referrers[m.Subject], m.Digest)
		}
	}
}

// tags decides every tag: the purge's tag pass, then the keep rules.
func (v *eval) tags() {
	for i, t := range v.s.Tags {
		d := keep(ReasonNotSelected)
		d.Kind, d.Tag, d.Digest = KindTag, t.Name, t.Digest
		v.tagDec[i] = d
	}
	p := v.e.purge
	if p != nil && !p.UntaggedOnly {
		v.purgeTags(p)
	}
	for _, k := range v.e.keep {
		if !k.Manifests {
			v.keepTags(k)
		}
	}
}

// filtersFor returns the purge filters whose repository pattern matches.
func (v *eval) filtersFor(p *purgeRule) ([]compiledFilter, error) {
	var out []compiledFilter
	for _, f := range p.filters {
		ok, err := f.repo.match(v.s.Repository)
		if err != nil {
			return nil, fmt.Errorf("filter %q: %w", f.src, err)
		}
		if ok {
			out = append(out, f)
		}
	}
	return out, nil
}

func (v *eval) purgeTags(p *purgeRule) {
	filters, err := v.filtersFor(p)
	if err != nil {
		for i := range v.tagDec {
			v.tagDec[i].Reason = Reason{Code: ReasonMatchError, Detail: err.Error()}
		}
		return
	}
	if len(filters) == 0 {
		return
	}
	cutoff := v.now.Add(-p.ago)
	order := make([]int, len(v.s.Tags))
	at := make([]time.Time, len(v.s.Tags))
	for i := range order {
		order[i], at[i] = i, v.s.Tags[i].updated()
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(at[b].Compare(at[a]), cmp.Compare(v.s.Tags[a].Name, v.s.Tags[b].Name))
	})
	spared := 0
	for _, i := range order {
		t := &v.s.Tags[i]
		d := &v.tagDec[i]
		var rule string
		for _, f := range filters {
			ok, err := f.tag.match(t.Name)
			if err != nil {
				d.Reason = Reason{Code: ReasonMatchError, Rule: f.src, Detail: err.Error()}
				break
			}
			if ok {
				rule = f.src
				break
			}
		}
		switch {
		case rule == "":
			// not selected, or a match error already recorded
		case t.updated().IsZero():
			d.Reason = Reason{Code: ReasonNoTime, Rule: rule}
		case !t.updated().Before(cutoff):
			d.Reason = Reason{Code: ReasonNewer, Rule: rule, Time: t.updated(), Cutoff: cutoff}
		case v.repoLocked:
			d.Reason = Reason{Code: ReasonRepositoryLocked, Rule: rule}
		case t.Attributes.Locked() && !p.IncludeLocked:
			d.Reason = Reason{Code: ReasonLocked, Rule: rule}
		case spared < p.Keep:
			spared++
			d.Reason = Reason{Code: ReasonKeepNewest, Rule: rule, Time: t.updated()}
		default:
			d.Delete, d.Stage, d.Unlock = true, 0, t.Attributes.Locked()
			d.Reason = Reason{Code: ReasonFilter, Rule: rule, Time: t.updated(), Cutoff: cutoff}
		}
	}
}

// keepTags applies one keep rule to the tags: a deletion it covers becomes
// a keep.
func (v *eval) keepTags(k keepRule) {
	applies, err := k.repo.match(v.s.Repository)
	if err != nil {
		v.protectAll(v.tagDec, k, err)
		return
	}
	if !applies {
		return
	}
	var cand []int
	for i, t := range v.s.Tags {
		ok, err := k.tags.match(t.Name)
		if err != nil {
			v.protect(&v.tagDec[i], Reason{Code: ReasonMatchError, Rule: k.name(), Detail: err.Error()})
			continue
		}
		if ok {
			cand = append(cand, i)
		}
	}
	times := func(i int) time.Time {
		if k.By == ByPulled {
			return v.s.Tags[i].LastPulled
		}
		return v.s.Tags[i].updated()
	}
	v.keepBy(cand, k, times, v.tagDec, func(i int) string { return v.s.Tags[i].Name })
}

// keepBy protects the items of cand (indexes into decs) that rule k keeps.
func (v *eval) keepBy(cand []int, k keepRule, at func(int) time.Time, decs []Decision, name func(int) string) {
	if k.Newest == 0 && !k.hasWithin {
		for _, i := range cand {
			v.protect(&decs[i], Reason{Code: ReasonKeepRule, Rule: k.name()})
		}
		return
	}
	slices.SortFunc(cand, func(a, b int) int { return cmp.Or(at(b).Compare(at(a)), cmp.Compare(name(a), name(b))) })
	for n, i := range cand {
		t := at(i)
		switch {
		case n < k.Newest:
			v.protect(&decs[i], Reason{Code: ReasonKeepRule, Rule: k.name(), Time: t})
		case k.hasWithin && !t.IsZero() && v.now.Sub(t) <= k.within:
			v.protect(&decs[i], Reason{Code: ReasonKeepRule, Rule: k.name(), Time: t, Cutoff: v.now.Add(-k.within)})
		}
	}
}

// protectAll turns every deletion of decs into a keep after rule k could
// not be matched.
func (v *eval) protectAll(decs []Decision, k keepRule, err error) {
	for i := range decs {
		v.protect(&decs[i], Reason{Code: ReasonMatchError, Rule: k.name(), Detail: err.Error()})
	}
}

// protect turns a deletion into a keep for reason r; a keep stays as it is.
func (v *eval) protect(d *Decision, r Reason) {
	if d.Delete {
		d.Delete, d.Unlock, d.Stage, d.Reason = false, false, -1, r
	}
}

func (k keepRule) name() string { return k.label }
