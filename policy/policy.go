package policy

import (
	"fmt"
	"time"
)

// Policy is a set of rules for one registry: what to delete (Purge,
// UntaggedRetention) and what to keep whatever those select (Keep). The zero
// Policy deletes nothing. It marshals to and from JSON with the field names
// below, so hosts can store policies as documents.
type Policy struct {
	// Purge selects tags, and optionally untagged manifests, to delete, as
	// acr purge does.
	Purge *Purge `json:"purge,omitempty"`
	// UntaggedRetention deletes manifests that stayed untagged for a number
	// of days, as ACR's retention policy does.
	UntaggedRetention *UntaggedRetention `json:"untaggedRetention,omitempty"`
	// Keep protects tags (or untagged manifests) from every deletion above.
	// A keep rule always wins.
	Keep []KeepRule `json:"keep,omitempty"`
}

// Purge is acr purge's set of flags.
type Purge struct {
	// Filters are "repository-regex:tag-regex" pairs (see ParseFilter).
	// Several filters that hit one repository combine with OR. Required
	// unless UntaggedOnly; with UntaggedOnly only their repository part is
	// used, and none means every repository.
	Filters []string `json:"filters,omitempty"`
	// Ago is the age in ParseAgo's syntax: only tags and manifests last
	// updated before now minus Ago go. Required unless UntaggedOnly (where
	// empty means no age limit).
	Ago string `json:"ago,omitempty"`
	// Keep spares the Keep most recently updated of the tags that would
	// otherwise go, per repository (with UntaggedOnly: of the untagged
	// manifests).
	Keep int `json:"keep,omitempty"`
	// Untagged also deletes, after the tags, manifests left without tags
	// (older than the cutoff too).
	Untagged bool `json:"untagged,omitempty"`
	// UntaggedOnly deletes only manifests without tags and no tags at all.
	UntaggedOnly bool `json:"untaggedOnly,omitempty"`
	// IncludeLocked also deletes locked tags and manifests
	// (writeEnabled=false or deleteEnabled=false), unlocking them first as
	// acr purge does. A write-locked repository still protects everything
	// in it.
	IncludeLocked bool `json:"includeLocked,omitempty"`
}

// UntaggedRetention is ACR's retention policy for untagged manifests.
type UntaggedRetention struct {
	// Days a manifest stays untagged before it goes: 0 to 365 (ACR's
	// default is 7; 0 deletes at the next sweep).
	Days int `json:"days"`
	// EnabledAt is when the policy was turned on: only manifests that
	// became untagged at or after it go, as in ACR. Zero: every untagged
	// manifest.
	EnabledAt time.Time `json:"enabledAt,omitzero"`
}

// MaxRetentionDays is the longest UntaggedRetention.Days ACR accepts.
const MaxRetentionDays = 365

// TimeBasis names the time a keep rule orders or ages items by.
type TimeBasis string

// The time bases of a KeepRule.
const (
	// ByPushed: the time the tag was last updated (pushed or moved); for a
	// manifest, when it was last updated.
	ByPushed TimeBasis = "pushed"
	// ByPulled: the last pull recorded; items never pulled (zero) are the
	// oldest.
	ByPulled TimeBasis = "pulled"
)

// KeepRule protects items whatever the delete rules select (zot's, Harbor's
// and GitLab's retention rules, which ACR lacks). With neither Newest nor
// Within set, it keeps every tag its pattern matches (GitLab's
// name_regex_keep); with both, an item either one keeps is kept.
type KeepRule struct {
	// Repositories scopes the rule: an anchored pattern; empty means every
	// repository.
	Repositories string `json:"repositories,omitempty"`
	// Tags selects the tags the rule looks at: a pattern matched anywhere in
	// the name unless anchored; empty means every tag. Ignored when
	// Manifests is set.
	Tags string `json:"tags,omitempty"`
	// Manifests makes the rule look at untagged manifests instead of tags
	// (for example: keep untagged manifests pulled by digest within 30
	// days).
	Manifests bool `json:"manifests,omitempty"`
	// Newest keeps the Newest most recent items the rule looks at, ordered
	// by By.
	Newest int `json:"newest,omitempty"`
	// Within keeps items whose By time is within this age of now
	// (ParseAgo's syntax).
	Within string `json:"within,omitempty"`
	// By is the time Newest and Within use; empty means ByPushed.
	By TimeBasis `json:"by,omitempty"`
}

// CompileOptions are knobs of Compile.
type CompileOptions struct {
	// MatchTimeout bounds each regular-expression match (zero:
	// DefaultMatchTimeout).
	MatchTimeout time.Duration
}

// Evaluator is a compiled Policy. It is immutable and safe for concurrent
// use.
type Evaluator struct {
	policy Policy
	purge  *purgeRule
	ret    *UntaggedRetention
	keep   []keepRule
}

// purgeRule is a compiled Purge.
type purgeRule struct {
	Purge
	filters []compiledFilter
	ago     time.Duration
	hasAgo  bool
}

type compiledFilter struct {
	src  string
	repo *pattern
	tag  *pattern
}

// keepRule is a compiled KeepRule.
type keepRule struct {
	KeepRule
	label     string // "keep[i]", for reasons
	repo      *pattern
	tags      *pattern
	within    time.Duration
	hasWithin bool
}

// Compile checks p and returns its Evaluator. Every problem (a pattern that
// does not compile, a bad age, a negative count, Untagged with
// UntaggedOnly, days out of range) fails with an error wrapping ErrInvalid
// that names the field, before anything is evaluated.
func Compile(p Policy, opts CompileOptions) (*Evaluator, error) {
	e := &Evaluator{policy: p}
	if p.Purge != nil {
		pr, err := compilePurge(*p.Purge, opts.MatchTimeout)
		if err != nil {
			return nil, err
		}
		e.purge = pr
	}
	if r := p.UntaggedRetention; r != nil {
		if r.Days < 0 || r.Days > MaxRetentionDays {
			return nil, invalidf("untaggedRetention.days %d: want 0 to %d", r.Days, MaxRetentionDays)
		}
		rc := *r
		e.ret = &rc
	}
	for i, k := range p.Keep {
		kr, err := compileKeep(i, k, opts.MatchTimeout)
		if err != nil {
			return nil, err
		}
		e.keep = append(e.keep, kr)
	}
	return e, nil
}

func compilePurge(p Purge, timeout time.Duration) (*purgeRule, error) {
	pr := &purgeRule{Purge: p}
	switch {
	case p.Untagged && p.UntaggedOnly:
		return nil, invalidf("purge: untagged and untaggedOnly exclude each other")
	case p.Keep < 0:
		return nil, invalidf("purge.keep %d: want 0 or more", p.Keep)
	case !p.UntaggedOnly && len(p.Filters) == 0:
		return nil, invalidf("purge: filters are required unless untaggedOnly")
	case !p.UntaggedOnly && p.Ago == "":
		return nil, invalidf("purge: ago is required unless untaggedOnly")
	}
	if p.Ago != "" {
		d, err := ParseAgo(p.Ago)
		if err != nil {
			return nil, err
		}
		pr.ago, pr.hasAgo = d, true
	}
	for _, s := range p.Filters {
		f, err := ParseFilter(s)
		if err != nil {
			return nil, err
		}
		repo, err := compilePattern(f.Repository, true, timeout)
		if err != nil {
			return nil, err
		}
		tag, err := compilePattern(f.Tag, false, timeout)
		if err != nil {
			return nil, err
		}
		pr.filters = append(pr.filters, compiledFilter{src: s, repo: repo, tag: tag})
	}
	return pr, nil
}

func compileKeep(i int, k KeepRule, timeout time.Duration) (keepRule, error) {
	kr := keepRule{KeepRule: k, label: fmt.Sprintf("keep[%d]", i)}
	switch k.By {
	case "":
		kr.By = ByPushed
	case ByPushed, ByPulled:
	default:
		return kr, invalidf("keep[%d].by %q: want %q or %q", i, k.By, ByPushed, ByPulled)
	}
	if k.Newest < 0 {
		return kr, invalidf("keep[%d].newest %d: want 0 or more", i, k.Newest)
	}
	if k.Manifests && k.Newest == 0 && k.Within == "" {
		return kr, invalidf("keep[%d]: a rule on manifests needs newest or within", i)
	}
	var err error
	if k.Repositories != "" {
		if kr.repo, err = compilePattern(k.Repositories, true, timeout); err != nil {
			return kr, err
		}
	}
	if k.Tags != "" && !k.Manifests {
		if kr.tags, err = compilePattern(k.Tags, false, timeout); err != nil {
			return kr, err
		}
	}
	if k.Within != "" {
		if kr.within, err = ParseAgo(k.Within); err != nil {
			return kr, err
		}
		kr.hasWithin = true
	}
	return kr, nil
}

// Policy returns the policy e was compiled from.
func (e *Evaluator) Policy() Policy { return e.policy }

// Applies reports whether a delete rule of e can touch repository name:
// untagged retention applies everywhere; the purge where a filter's
// repository pattern matches (an untagged-only purge without filters:
// everywhere). A pattern that fails to match (timeout) counts as applying,
// so Evaluate reports the error in the plan.
func (e *Evaluator) Applies(name string) bool {
	if e.ret != nil {
		return true
	}
	p := e.purge
	if p == nil {
		return false
	}
	if p.UntaggedOnly && len(p.filters) == 0 {
		return true
	}
	for _, f := range p.filters {
		if ok, err := f.repo.match(name); ok || err != nil {
			return true
		}
	}
	return false
}
