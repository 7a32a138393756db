package policy

import (
	"cmp"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
)

// manifests decides every manifest, after the tags are decided.
func (v *eval) manifests() {
	had := make([]int32, len(v.s.Manifests))
	left := make([]int32, len(v.s.Manifests))
	for i := range v.s.Tags {
		if mi, ok := v.byDigest[v.s.Tags[i].Digest]; ok {
			had[mi]++
			if !v.tagDec[i].Delete {
				left[mi]++
			}
		}
	}
	for i, m := range v.s.Manifests {
		if left[i] == 0 {
			v.untagged[m.Digest] = true
			if had[i] > 0 {
				v.newlyUntag[m.Digest] = true
				v.plan.Untagged++
			}
		}
	}
	var cand []int
	for i := range v.s.Manifests {
		m := &v.s.Manifests[i]
		d := &v.manDec[i]
		*d = keep(ReasonNotSelected)
		d.Kind, d.Digest = KindManifest, m.Digest
		if !v.untagged[m.Digest] {
			d.Reason.Code = ReasonTagged
			continue
		}
		if v.selectUntagged(m, d) {
			cand = append(cand, i)
		}
	}
	if p := v.e.purge; p != nil && p.UntaggedOnly && p.Keep > 0 {
		slices.SortFunc(cand, func(a, b int) int {
			ma, mb := &v.s.Manifests[a], &v.s.Manifests[b]
			return cmp.Or(mb.updated().Compare(ma.updated()), cmp.Compare(ma.Digest, mb.Digest))
		})
		for n, i := range cand {
			if n < p.Keep && v.manDec[i].Reason.Code == ReasonUntagged {
				v.protect(&v.manDec[i], Reason{Code: ReasonKeepNewest, Rule: "purge", Time: v.s.Manifests[i].updated()})
			}
		}
	}
	for _, k := range v.e.keep {
		if k.Manifests {
			v.keepManifests(k)
		}
	}
	v.closure()
}

// selectUntagged decides an untagged manifest by the purge's untagged pass
// and untagged retention, and reports whether it was selected.
func (v *eval) selectUntagged(m *Manifest, d *Decision) bool {
	var sel Reason
	unlock := false
	if p := v.e.purge; p != nil && (p.Untagged || p.UntaggedOnly) {
		r, ok := v.purgeUntagged(p, m)
		if ok {
			sel, unlock = r, p.IncludeLocked && m.Attributes.Locked()
		} else {
			d.Reason = r
		}
	}
	if sel.Code == "" && v.e.ret != nil {
		r, ok := v.retain(m)
		if ok {
			sel = r
		} else if d.Reason.Code == ReasonNotSelected {
			d.Reason = r
		}
	}
	if sel.Code == "" {
		return false
	}
	switch {
	case v.repoLocked:
		d.Reason = Reason{Code: ReasonRepositoryLocked, Rule: sel.Rule}
	case m.Subject != "":
		d.Reason = Reason{Code: ReasonReferrer, Rule: sel.Rule, Ref: m.Subject}
		if _, ok := v.byDigest[m.Subject]; !ok {
			d.Reason.Detail = "subject not in the repository"
		}
	case m.Attributes.Locked() && !unlock:
		d.Reason = Reason{Code: ReasonLocked, Rule: sel.Rule}
	default:
		d.Delete, d.Stage, d.Unlock, d.Reason = true, 1, unlock, sel
		return true
	}
	return false
}

// purgeUntagged applies the purge's untagged pass to an untagged manifest.
func (v *eval) purgeUntagged(p *purgeRule, m *Manifest) (Reason, bool) {
	applies := p.UntaggedOnly && len(p.filters) == 0
	for _, f := range p.filters {
		ok, err := f.repo.match(v.s.Repository)
		if err != nil {
			return Reason{Code: ReasonMatchError, Rule: f.src, Detail: err.Error()}, false
		}
		applies = applies || ok
	}
	if !applies {
		return Reason{Code: ReasonNotSelected}, false
	}
	if p.hasAgo {
		cutoff := v.now.Add(-p.ago)
		switch {
		case m.updated().IsZero():
			return Reason{Code: ReasonNoTime, Rule: "purge"}, false
		case !m.updated().Before(cutoff):
			return Reason{Code: ReasonNewer, Rule: "purge", Time: m.updated(), Cutoff: cutoff}, false
		}
		return Reason{Code: ReasonUntagged, Rule: "purge", Time: m.updated(), Cutoff: cutoff}, true
	}
	return Reason{Code: ReasonUntagged, Rule: "purge"}, true
}

// retain applies untagged retention to an untagged manifest. Retention
// never unlocks: locked manifests are exempt.
func (v *eval) retain(m *Manifest) (Reason, bool) {
	r := v.e.ret
	since := m.untaggedAt()
	if v.newlyUntag[m.Digest] {
		since = v.now
	}
	due := since.Add(time.Duration(r.Days) * 24 * time.Hour)
	switch {
	case since.IsZero():
		return Reason{Code: ReasonNoTime, Rule: "untaggedRetention"}, false
	case since.Before(r.EnabledAt):
		return Reason{Code: ReasonBeforePolicy, Rule: "untaggedRetention", Time: since, Cutoff: r.EnabledAt}, false
	case v.now.Before(due):
		return Reason{Code: ReasonNewer, Rule: "untaggedRetention", Time: since, Cutoff: due}, false
	case m.Attributes.Locked():
		return Reason{Code: ReasonLocked, Rule: "untaggedRetention"}, false
	}
	return Reason{Code: ReasonRetention, Rule: "untaggedRetention", Time: since, Cutoff: due}, true
}

// keepManifests applies a keep rule on untagged manifests.
func (v *eval) keepManifests(k keepRule) {
	applies, err := k.repo.match(v.s.Repository)
	if err != nil {
		v.protectAll(v.manDec, k, err)
		return
	}
	if !applies {
		return
	}
	var cand []int
	for i := range v.s.Manifests {
		if v.untagged[v.s.Manifests[i].Digest] {
			cand = append(cand, i)
		}
	}
	at := func(i int) time.Time {
		if k.By == ByPulled {
			return v.s.Manifests[i].LastPulled
		}
		return v.s.Manifests[i].updated()
	}
	v.keepBy(cand, k, at, v.manDec, func(i int) string { return string(v.s.Manifests[i].Digest) })
}

// closure keeps what deleting the selected manifests would break, until
// nothing changes: a child of an index that stays, a subject whose
// referrers (at any depth) must stay. Then it marks the referrers of every
// manifest that goes as going with it.
func (v *eval) closure() {
	goes := func(dg digest.Digest) bool {
		i, ok := v.byDigest[dg]
		return ok && v.manDec[i].Delete
	}
	for changed := true; changed; {
		changed = false
		for i := range v.s.Manifests {
			m := &v.s.Manifests[i]
			d := &v.manDec[i]
			if !d.Delete {
				continue
			}
			cascade := v.cascade(m.Digest)
			inCascade := func(dg digest.Digest) bool { return slices.Contains(cascade, dg) }
			if p, ok := v.keptParent(m.Digest, goes, inCascade); ok {
				v.protect(d, Reason{Code: ReasonChildOfKept, Rule: d.Reason.Rule, Ref: p})
				changed = true
				continue
			}
			for _, r := range cascade {
				if why := v.mustStay(r, d.Unlock || (v.e.purge != nil && v.e.purge.IncludeLocked && d.Reason.Code == ReasonUntagged), goes, inCascade); why != "" {
					v.protect(d, Reason{Code: ReasonReferrerKept, Rule: d.Reason.Rule, Ref: r, Detail: why})
					changed = true
					break
				}
			}
		}
	}
	for i := range v.s.Manifests {
		d := v.manDec[i]
		if !d.Delete || d.Reason.Code == ReasonWithSubject {
			continue
		}
		for _, r := range v.cascade(v.s.Manifests[i].Digest) {
			ri := v.byDigest[r]
			rd := &v.manDec[ri]
			rd.Delete, rd.Stage = true, d.Stage
			rd.Unlock = v.s.Manifests[ri].Attributes.Locked()
			rd.Reason = Reason{Code: ReasonWithSubject, Rule: d.Reason.Rule, Ref: v.s.Manifests[i].Digest}
		}
	}
}

// keptParent returns an index that lists dg and stays.
func (v *eval) keptParent(dg digest.Digest, goes, inCascade func(digest.Digest) bool) (digest.Digest, bool) {
	for _, p := range v.parents[dg] {
		if _, ok := v.byDigest[p]; ok && !goes(p) && !inCascade(p) {
			return p, true
		}
	}
	return "", false
}

// mustStay says why referrer r cannot go with its subject, or "".
func (v *eval) mustStay(r digest.Digest, unlock bool, goes, inCascade func(digest.Digest) bool) string {
	m := &v.s.Manifests[v.byDigest[r]]
	switch {
	case m.Attributes.Locked() && !unlock:
		return "locked"
	case !v.untagged[r]:
		return "tagged"
	}
	if p, ok := v.keptParent(r, goes, inCascade); ok {
		return "child of index " + p.String() + " that stays"
	}
	return ""
}

// cascade returns the referrers of dg at every depth, in the snapshot.
func (v *eval) cascade(dg digest.Digest) []digest.Digest {
	if len(v.referrers[dg]) == 0 {
		return nil
	}
	var out []digest.Digest
	seen := map[digest.Digest]bool{dg: true}
	queue := []digest.Digest{dg}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, r := range v.referrers[cur] {
			if _, ok := v.byDigest[r]; ok && !seen[r] {
				seen[r] = true
				out = append(out, r)
				queue = append(queue, r)
			}
		}
	}
	return out
}

// order assigns manifest stages (an index before its children) and writes
// the decisions into the plan: deletions by stage, then what stays.
func (v *eval) order() {
	stage := map[digest.Digest]int{}
	var depth func(dg digest.Digest, seen int) int
	depth = func(dg digest.Digest, seen int) int {
		if s, ok := stage[dg]; ok {
			return s
		}
		s := 1
		if seen < len(v.s.Manifests) {
			for _, p := range v.parents[dg] {
				if i, ok := v.byDigest[p]; ok && v.manDec[i].Delete {
					s = max(s, depth(p, seen+1)+1)
				}
			}
		}
		stage[dg] = s
		return s
	}
	for i := range v.manDec {
		d := &v.manDec[i]
		if d.Delete && d.Reason.Code != ReasonWithSubject {
			d.Stage = depth(d.Digest, 0)
		}
	}
	for i := range v.manDec {
		if d := &v.manDec[i]; d.Reason.Code == ReasonWithSubject {
			d.Stage = v.manDec[v.byDigest[d.Reason.Ref]].Stage
		}
	}
	sorted := make([]Decision, 0, len(v.tagDec)+len(v.manDec))
	var tags []int
	for i := range v.tagDec {
		if v.tagDec[i].Delete {
			tags = append(tags, i)
		}
	}
	slices.SortStableFunc(tags, func(a, b int) int { return v.s.Tags[b].updated().Compare(v.s.Tags[a].updated()) })
	for _, i := range tags {
		sorted = append(sorted, v.tagDec[i])
	}
	var mans []int
	for i := range v.manDec {
		if v.manDec[i].Delete {
			mans = append(mans, i)
		}
	}
	slices.SortStableFunc(mans, func(a, b int) int {
		da, db := &v.manDec[a], &v.manDec[b]
		return cmp.Or(cmp.Compare(da.Stage, db.Stage), v.s.Manifests[a].updated().Compare(v.s.Manifests[b].updated()), cmp.Compare(da.Digest, db.Digest))
	})
	for _, i := range mans {
		sorted = append(sorted, v.manDec[i])
	}
	for i := range v.tagDec {
		if !v.tagDec[i].Delete {
			sorted = append(sorted, v.tagDec[i])
		}
	}
	for i := range v.manDec {
		if !v.manDec[i].Delete {
			sorted = append(sorted, v.manDec[i])
		}
	}
	v.plan.Decisions = sorted
}
