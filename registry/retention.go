package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
)

// RetentionPolicy is the registry's untagged-manifest retention setting, as
// ACR has it: once enabled, a manifest that stays untagged for Days days is
// deleted by the next sweep.
type RetentionPolicy struct {
	// Enabled turns the policy on.
	Enabled bool `json:"enabled"`
	// Days a manifest stays untagged before it goes (0 to 365; ACR's
	// default, 7, when never set).
	Days int `json:"days"`
	// EnabledAt is when it was last turned on: only manifests untagged at
	// or after it go, as in ACR.
	EnabledAt time.Time `json:"enabledAt,omitzero"`
}

// retentionSetting names the setting in the metadata store.
const retentionSetting = "retention"

// WithSweepInterval sets how often the background sweep (Sweep: untagged
// retention while enabled, and every stored policy) runs (default one
// minute; 0 turns the background sweep off, leaving Sweep to the host).
func WithSweepInterval(d time.Duration) Option {
	return func(o *options) { o.retentionInterval = d }
}

// Retention returns the untagged retention setting (disabled, 7 days, when
// never set).
func (r *Registry) Retention(ctx context.Context) (RetentionPolicy, error) {
	if err := r.enter(); err != nil {
		return RetentionPolicy{}, err
	}
	defer r.leave()
	var p RetentionPolicy
	err := r.view(ctx, func(tx meta.Tx) error {
		var err error
		p, err = loadRetention(tx)
		return err
	})
	return p, err
}

func loadRetention(tx meta.Tx) (RetentionPolicy, error) {
	p := RetentionPolicy{Days: 7}
	_, err := schema.Settings.Get(tx, retentionSetting, &p)
	return p, err
}

// SetRetention changes the untagged retention setting, persisted in the
// metadata store, and returns it. Turning it on records the time (only
// manifests untagged from then on go); changing the days of an enabled
// policy keeps that time. Days outside 0..365 fail with ErrInvalid.
func (r *Registry) SetRetention(ctx context.Context, enabled bool, days int) (RetentionPolicy, error) {
	if err := r.enter(); err != nil {
		return RetentionPolicy{}, err
	}
	defer r.leave()
	if days < 0 || days > policy.MaxRetentionDays {
		return RetentionPolicy{}, errorf(ErrInvalid, "retention days %d: want 0 to %d", days, policy.MaxRetentionDays)
	}
	var p RetentionPolicy
	err := r.update(ctx, func(t *txn) error {
		old, err := loadRetention(t)
		if err != nil {
			return err
		}
		p = RetentionPolicy{Enabled: enabled, Days: days, EnabledAt: old.EnabledAt}
		switch {
		case enabled && !old.Enabled:
			p.EnabledAt = t.now
		case !enabled:
			p.EnabledAt = time.Time{}
		}
		return schema.Settings.Put(t, retentionSetting, &p)
	})
	return p, err
}

// SweepRetention deletes the manifests the retention setting says are due:
// untagged since the policy was enabled, for at least its days, and neither
// locked (writeEnabled or deleteEnabled false), nor a referrer whose
// subject stays, nor a child of an index that stays. It runs through the
// same plans and deletions as Purge (opts.DryRun reports without
// deleting) and looks only at repositories holding a manifest due.
func (r *Registry) SweepRetention(ctx context.Context, opts PurgeOptions) (*PurgeResult, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer r.leave()
	now := r.now()
	var (
		set   RetentionPolicy
		repos []string
	)
	err := r.view(ctx, func(tx meta.Tx) error {
		var err error
		if set, err = loadRetention(tx); err != nil || !set.Enabled {
			return err
		}
		seen := map[string]bool{}
		repos = repos[:0]
		until := now.Add(-time.Duration(set.Days)*24*time.Hour + 1)
		return schema.Untagged.Scan(tx, set.EnabledAt, until, func(_ time.Time, repo string, _ digest.Digest) bool {
			if !seen[repo] {
				seen[repo] = true
				repos = append(repos, repo)
			}
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	if !set.Enabled {
		return &PurgeResult{DryRun: opts.DryRun, Time: now}, nil
	}
	ev, err := policy.Compile(policy.Policy{UntaggedRetention: &policy.UntaggedRetention{Days: set.Days, EnabledAt: set.EnabledAt}}, policy.CompileOptions{})
	if err != nil {
		return nil, fmt.Errorf("registry: retention: %w", err)
	}
	return r.runPlans(ctx, "retention", ev, repos, opts)
}
