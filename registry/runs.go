package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
)

// RunRecord is what one purge, retention sweep or stored-policy run decided
// and did, kept for the run history window (WithRunHistory).
type RunRecord struct {
	// ID identifies the run.
	ID string `json:"id"`
	// Kind names what ran: "purge", "retention" or "policy:NAME".
	Kind string `json:"kind"`
	// Started is when the run evaluated its plans; Finished when it ended.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// DryRun: the run deleted nothing.
	DryRun bool `json:"dryRun"`
	// Repositories counts the repositories evaluated.
	Repositories int `json:"repositories"`
	// Deleted, Skipped and Untagged are the result's counts.
	Deleted  int `json:"deleted"`
	Skipped  int `json:"skipped"`
	Untagged int `json:"untagged"`
	// Items lists the first MaxRunItems deletions and skips (skips first).
	Items []PurgeItem `json:"items,omitempty"`
	// Truncated: Items holds only part of them.
	Truncated bool `json:"truncated,omitempty"`
	// Error is the failure that stopped the run, if one did.
	Error string `json:"error,omitempty"`
}

// MaxRunItems bounds the items a RunRecord keeps, so a run over a large
// registry leaves a record of bounded size (its counts stay exact).
const MaxRunItems = 1000

// WithRunHistory sets how long run records are kept (default 7 days).
func WithRunHistory(d time.Duration) Option { return func(o *options) { o.runHistory = d } }

// recordRun stores the record of a run and drops records older than the
// history window. It is best effort: a failure to record does not fail the
// run (the store's failure shows in the run's own error or the next one).
func (r *Registry) recordRun(kind string, started time.Time, res *PurgeResult, runErr error) {
	var id [8]byte
	_, _ = rand.Read(id[:])
	rec := RunRecord{
		ID: hex.EncodeToString(id[:]), Kind: kind, Started: started, Finished: r.now(),
		DryRun: res.DryRun, Repositories: len(res.Plans),
		Deleted: len(res.Deleted), Skipped: len(res.Skipped), Untagged: res.Untagged,
	}
	if runErr != nil {
		rec.Error = runErr.Error()
	}
	for _, list := range [][]PurgeItem{res.Skipped, res.Deleted} {
		for _, it := range list {
			if len(rec.Items) == MaxRunItems {
				rec.Truncated = true
				break
			}
			rec.Items = append(rec.Items, it)
		}
	}
	_ = r.update(context.Background(), func(t *txn) error {
		if err := schema.Runs.Put(t, started, rec.ID, &rec); err != nil {
			return err
		}
		if r.opts.runHistory > 0 {
			_, err := schema.Runs.Prune(t, t.now.Add(-r.opts.runHistory), 1000)
			return err
		}
		return nil
	})
}

// Runs returns the records of past runs, newest first, at most n (n <= 0:
// all kept).
func (r *Registry) Runs(ctx context.Context, n int) ([]RunRecord, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer r.leave()
	var out []RunRecord
	err := r.view(ctx, func(tx meta.Tx) error {
		out = out[:0]
		return schema.Runs.Scan(tx, func() any { return &RunRecord{} }, func(rec any) bool {
			out = append(out, *rec.(*RunRecord))
			return n <= 0 || len(out) < n
		})
	})
	return out, err
}

// policiesSetting names the stored policies in the metadata store.
const policiesSetting = "policies"

// Policies returns the stored policies by name.
func (r *Registry) Policies(ctx context.Context) (map[string]policy.Policy, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer r.leave()
	var ps map[string]policy.Policy
	err := r.view(ctx, func(tx meta.Tx) error {
		ps = map[string]policy.Policy{}
		_, err := schema.Settings.Get(tx, policiesSetting, &ps)
		return err
	})
	return ps, err
}

// SetPolicy stores p under name, to be run by every Sweep (the background
// sweep runs it each WithSweepInterval), or removes the stored policy when
// p is nil. A policy that does not compile fails with ErrInvalid and changes
// nothing.
func (r *Registry) SetPolicy(ctx context.Context, name string, p *policy.Policy) error {
	if err := r.enter(); err != nil {
		return err
	}
	defer r.leave()
	if name == "" {
		return errorf(ErrInvalid, "a stored policy needs a name")
	}
	if p != nil {
		if _, err := policy.Compile(*p, policy.CompileOptions{}); err != nil {
			return fmt.Errorf("registry: policy %q: %w", name, err)
		}
	}
	return r.update(ctx, func(t *txn) error {
		ps := map[string]policy.Policy{}
		if _, err := schema.Settings.Get(t, policiesSetting, &ps); err != nil {
			return err
		}
		if p == nil {
			delete(ps, name)
		} else {
			ps[name] = *p
		}
		return schema.Settings.Put(t, policiesSetting, ps)
	})
}

// Sweep runs untagged retention (when enabled) and then every stored
// policy, in name order, each as its own run with its own record, and
// returns their results. It stops at the first run that fails. Before them
// (except on a dry run) it drops the tag history older than its window
// (PruneTagHistory).
func (r *Registry) Sweep(ctx context.Context, opts PurgeOptions) ([]*PurgeResult, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer r.leave()
	if !opts.DryRun {
		if _, err := r.PruneTagHistory(ctx); err != nil {
			return nil, err
		}
	}
	res, err := r.SweepRetention(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := []*PurgeResult{res}
	ps, err := r.Policies(ctx)
	if err != nil {
		return out, err
	}
	names := make([]string, 0, len(ps))
	for n := range ps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		res, err := r.purge(ctx, "policy:"+n, ps[n], opts)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}
