package registry

import (
	"context"
	"time"

	"github.com/regkit/regkit/policy"
)

// PurgeOptions are the knobs of one Purge or retention sweep.
type PurgeOptions struct {
	// DryRun evaluates and reports the same plan without deleting.
	DryRun bool
	// Concurrency bounds the deletions running at once (0: GOMAXPROCS;
	// clamped to 1..32, as acr purge does).
	Concurrency int
	// MatchTimeout bounds each pattern match (0: policy.DefaultMatchTimeout).
	MatchTimeout time.Duration
	// Progress, when set, is called after each repository and each batch
	// of deletions, from one goroutine at a time.
	Progress func(PurgeProgress)
}

// PurgeProgress reports how far a purge got.
type PurgeProgress struct {
	// Repository is the repository being worked on.
	Repository string
	// RepositoriesDone of Repositories are finished.
	RepositoriesDone, Repositories int
	// Deleted and Skipped count items so far.
	Deleted, Skipped int
}

// PurgeResult reports what a purge decided and did.
type PurgeResult struct {
	// DryRun: nothing was deleted; Deleted lists what would have been.
	DryRun bool `json:"dryRun"`
	// Time is the time the plans were evaluated at.
	Time time.Time `json:"time"`
	// Plans holds the plan of every repository a rule applied to.
	Plans []*policy.Plan `json:"plans"`
	// Deleted lists every tag and manifest deleted, in order.
	Deleted []PurgeItem `json:"deleted"`
	// Skipped lists planned deletions not carried out, each with why.
	Skipped []PurgeItem `json:"skipped"`
	// Untagged counts manifests that lost their last tag.
	Untagged int `json:"untagged"`
}

// PurgeItem is one planned deletion and its outcome.
type PurgeItem struct {
	// Repository holds the item.
	Repository string `json:"repository"`
	// Decision is the plan's verdict and reason.
	policy.Decision
	// Error says why a planned deletion was skipped (the tag moved, the
	// manifest was tagged or locked since the snapshot).
	Error string `json:"error,omitempty"`
}

// Purge evaluates p over every repository it applies to and deletes what
// the plans say, one transaction per deletion that re-checks what the plan
// assumed.
func (r *Registry) Purge(ctx context.Context, p policy.Policy, opts PurgeOptions) (*PurgeResult, error) {
	return nil, errorf(ErrUnsupported, "purge is being built")
}

// Snapshot returns the policy snapshot of repository name.
func (r *Registry) Snapshot(ctx context.Context, name string) (*policy.Snapshot, error) {
	return nil, errorf(ErrUnsupported, "snapshot is being built")
}

// RetentionPolicy is the registry's untagged-manifest retention setting.
type RetentionPolicy struct {
	// Enabled turns the policy on.
	Enabled bool `json:"enabled"`
	// Days a manifest stays untagged before it goes (0 to 365).
	Days int `json:"days"`
	// EnabledAt is when it was last turned on: only manifests untagged
	// since then go.
	EnabledAt time.Time `json:"enabledAt,omitzero"`
}

// Retention returns the untagged retention setting.
func (r *Registry) Retention(ctx context.Context) (RetentionPolicy, error) {
	return RetentionPolicy{}, errorf(ErrUnsupported, "retention is being built")
}

// SetRetention changes the untagged retention setting and returns it.
func (r *Registry) SetRetention(ctx context.Context, enabled bool, days int) (RetentionPolicy, error) {
	return RetentionPolicy{}, errorf(ErrUnsupported, "retention is being built")
}

// SweepRetention deletes the manifests the retention setting says are due.
func (r *Registry) SweepRetention(ctx context.Context, opts PurgeOptions) (*PurgeResult, error) {
	return nil, errorf(ErrUnsupported, "retention is being built")
}

// LockRule makes tags created with writeEnabled=false (Harbor's immutability
// rules, with ACR's attributes).
type LockRule struct {
	// Repositories is an anchored pattern; empty means every repository.
	Repositories string `json:"repositories,omitempty"`
	// Tags is a pattern matched anywhere in the tag's name unless
	// anchored; empty means every tag.
	Tags string `json:"tags,omitempty"`
	// LockDelete also sets deleteEnabled=false.
	LockDelete bool `json:"lockDelete,omitempty"`
}

// LockRules returns the lock rules.
func (r *Registry) LockRules(ctx context.Context) ([]LockRule, error) {
	return nil, errorf(ErrUnsupported, "lock rules are being built")
}

// SetLockRules replaces the lock rules.
func (r *Registry) SetLockRules(ctx context.Context, rules []LockRule) error {
	return errorf(ErrUnsupported, "lock rules are being built")
}
