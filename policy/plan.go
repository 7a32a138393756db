package policy

import (
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
)

// Kind is what a Decision is about.
type Kind string

// The kinds of Decision.
const (
	KindTag      Kind = "tag"
	KindManifest Kind = "manifest"
)

// ReasonCode names why an item goes or stays. The set may grow; hosts
// should show Reason.String for codes they do not know.
type ReasonCode string

// Reasons an item goes.
const (
	// ReasonFilter: a purge filter selected the tag and it is older than
	// the cutoff.
	ReasonFilter ReasonCode = "filter"
	// ReasonUntagged: the purge's untagged pass selected the manifest: no
	// tags (left) and older than the cutoff.
	ReasonUntagged ReasonCode = "untagged"
	// ReasonRetention: untagged retention selected the manifest.
	ReasonRetention ReasonCode = "untagged-retention"
	// ReasonWithSubject: the manifest is a referrer of a manifest that
	// goes (Ref), and goes with it.
	ReasonWithSubject ReasonCode = "with-subject"
)

// Reasons an item stays.
const (
	// ReasonNotSelected: no delete rule selects the item.
	ReasonNotSelected ReasonCode = "not-selected"
	// ReasonNewer: updated after the cutoff (or untagged too recently for
	// retention).
	ReasonNewer ReasonCode = "newer-than-cutoff"
	// ReasonKeepNewest: among the purge's keep newest.
	ReasonKeepNewest ReasonCode = "keep-newest"
	// ReasonKeepRule: a keep rule (Rule) protects it.
	ReasonKeepRule ReasonCode = "keep-rule"
	// ReasonLocked: writeEnabled or deleteEnabled is false.
	ReasonLocked ReasonCode = "locked"
	// ReasonRepositoryLocked: the repository's writeEnabled is false.
	ReasonRepositoryLocked ReasonCode = "repository-locked"
	// ReasonTagged: the manifest keeps at least one tag.
	ReasonTagged ReasonCode = "tagged"
	// ReasonChildOfKept: an index that stays (Ref) lists the manifest.
	ReasonChildOfKept ReasonCode = "child-of-kept-index"
	// ReasonReferrer: the manifest has a subject (Ref) that stays;
	// referrers go only with their subject.
	ReasonReferrer ReasonCode = "referrer"
	// ReasonReferrerKept: a referrer (Ref) of the manifest, at any depth,
	// must stay (locked, still tagged, or a child of an index that stays),
	// and deleting the manifest would delete it too.
	ReasonReferrerKept ReasonCode = "referrer-kept"
	// ReasonBeforePolicy: the manifest became untagged before retention was
	// enabled.
	ReasonBeforePolicy ReasonCode = "untagged-before-policy"
	// ReasonNoTime: the item has no time to judge its age by.
	ReasonNoTime ReasonCode = "no-time"
	// ReasonMatchError: a pattern match failed (timed out); nothing is
	// deleted on an error.
	ReasonMatchError ReasonCode = "match-error"
)

// Reason says why a Decision was made.
type Reason struct {
	// Code classifies the reason.
	Code ReasonCode `json:"code"`
	// Rule names the rule that decided: a purge filter as written,
	// "keep[2]", "untaggedRetention".
	Rule string `json:"rule,omitempty"`
	// Ref is the manifest the decision depends on: the kept index, the
	// subject, the referrer that must stay.
	Ref digest.Digest `json:"ref,omitempty"`
	// Time is the item's time the rule judged: last update, untagged
	// since, last pull.
	Time time.Time `json:"time,omitzero"`
	// Cutoff is the limit Time was compared with: the purge's cutoff, the
	// retention's due time, a keep rule's horizon.
	Cutoff time.Time `json:"cutoff,omitzero"`
	// Detail adds what the fields above cannot say: a match error, why a
	// referrer must stay.
	Detail string `json:"detail,omitempty"`
}

// String describes the reason for people.
func (r Reason) String() string {
	s := string(r.Code)
	if r.Rule != "" {
		s += " (" + r.Rule + ")"
	}
	if r.Ref != "" {
		s += " " + r.Ref.String()
	}
	if !r.Time.IsZero() {
		s += ": " + r.Time.UTC().Format(time.RFC3339)
		if !r.Cutoff.IsZero() {
			s += " vs " + r.Cutoff.UTC().Format(time.RFC3339)
		}
	}
	if r.Detail != "" {
		s += ": " + r.Detail
	}
	return s
}

// Decision is the verdict on one tag or manifest.
type Decision struct {
	// Kind says whether Tag or Digest names the item.
	Kind Kind `json:"kind"`
	// Tag is the tag's name (tags only).
	Tag string `json:"tag,omitempty"`
	// Digest is the manifest, or the manifest the tag points to.
	Digest digest.Digest `json:"digest"`
	// Delete is the verdict.
	Delete bool `json:"delete"`
	// Unlock: the item is locked and goes because the purge includes
	// locked items; unlock it first.
	Unlock bool `json:"unlock,omitempty"`
	// Stage orders deletions: every deletion of a stage may run at once,
	// after every deletion of the stages before. Tags are stage 0; an index
	// goes in an earlier stage than its children. Kept items have stage -1.
	Stage int `json:"stage"`
	// Reason explains the verdict.
	Reason Reason `json:"reason"`
}

// Plan is the outcome of evaluating a Snapshot: every tag and manifest,
// deletions first in the order they are to run (by Stage), then what stays.
type Plan struct {
	// Repository is the snapshot's repository.
	Repository string `json:"repository"`
	// Time is the time the plan was evaluated at.
	Time time.Time `json:"time"`
	// Decisions lists every item of the snapshot once.
	Decisions []Decision `json:"decisions"`
	// Untagged counts the manifests that lose their last tag through the
	// plan's tag deletions.
	Untagged int `json:"untagged"`
}

// Deletions returns the deletions in order.
func (p *Plan) Deletions() []Decision {
	for i, d := range p.Decisions {
		if !d.Delete {
			return p.Decisions[:i:i]
		}
	}
	return p.Decisions
}

// Stages returns the deletions grouped by stage, in order: each group is a
// part of Deletions (a stage's deletions are next to each other), not a
// copy.
func (p *Plan) Stages() [][]Decision {
	var out [][]Decision
	dels := p.Deletions()
	start := 0
	for i := range dels {
		if i+1 == len(dels) || dels[i+1].Stage != dels[i].Stage {
			out = append(out, dels[start:i+1:i+1])
			start = i + 1
		}
	}
	return out
}

// Counts returns how many tags and manifests the plan deletes.
func (p *Plan) Counts() (tags, manifests int) {
	for _, d := range p.Deletions() {
		if d.Kind == KindTag {
			tags++
		} else {
			manifests++
		}
	}
	return tags, manifests
}

// String summarizes the plan for logs.
func (p *Plan) String() string {
	t, m := p.Counts()
	return fmt.Sprintf("%s: delete %d tags and %d manifests, %d manifests become untagged, %d items stay",
		p.Repository, t, m, p.Untagged, len(p.Decisions)-t-m)
}
