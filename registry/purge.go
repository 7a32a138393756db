package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
)

// PurgeOptions are the knobs of one Purge or retention sweep.
type PurgeOptions struct {
	// DryRun evaluates and reports the same plans without deleting.
	DryRun bool
	// Concurrency bounds the deletions in flight at once (0: 32, acr
	// purge's maximum; at most 64). Each deletion is its own transaction;
	// they are queued a group of Concurrency at a time and share a commit
	// (group commit, up to 64 a batch), so in process more in flight
	// means fewer flushes, not more CPU: the default is not GOMAXPROCS as
	// acr purge's is over HTTP. Within a stage deletions go in key order,
	// not the plan's.
	Concurrency int
	// MatchTimeout bounds each pattern match (0: policy.DefaultMatchTimeout).
	MatchTimeout time.Duration
	// Progress, when set, is called after each repository and after every
	// 256 deletions, from one goroutine at a time.
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
	// Deleted lists every tag and manifest deleted (referrers deleted with
	// their subject included), in the order they went.
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
	// Error says why a planned deletion was skipped: the tag moved or went,
	// the manifest was tagged, locked or given a referrer since the
	// snapshot, an index still holds it.
	Error string `json:"error,omitempty"`
}

// Purge evaluates p over every repository it applies to and carries out the
// plans, repository by repository: it takes a snapshot, asks p, and deletes
// stage by stage (tags, then manifests, an index before its children),
// with at most opts.Concurrency deletions at once. Each deletion is its own
// transaction that re-checks what the plan assumed: a tag that moved, a
// manifest tagged, locked or given a new referrer after the snapshot is
// skipped and reported, never deleted. Locks hold: locked items go only
// when p includes locked ones, and are unlocked in the deleting
// transaction, as acr purge does. Referrers go with their subject. With
// opts.DryRun the same plans are reported and nothing is deleted.
//
// An invalid p fails with an error wrapping ErrInvalid before anything is
// read. A failure of the store stops the purge and returns the result so
// far with the error.
func (r *Registry) Purge(ctx context.Context, p policy.Policy, opts PurgeOptions) (*PurgeResult, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer r.leave()
	return r.purge(ctx, "purge", p, opts)
}

// purge runs p as Purge does, recording the run under kind.
func (r *Registry) purge(ctx context.Context, kind string, p policy.Policy, opts PurgeOptions) (*PurgeResult, error) {
	ev, err := policy.Compile(p, policy.CompileOptions{MatchTimeout: opts.MatchTimeout})
	if err != nil {
		return nil, fmt.Errorf("registry: purge: %w", err)
	}
	var repos []string
	err = r.view(ctx, func(tx meta.Tx) error {
		repos = repos[:0]
		return schema.Repos.Scan(tx, "", func(name string, _ *schema.Repo) bool {
			if ev.Applies(name) {
				repos = append(repos, name)
			}
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	return r.runPlans(ctx, kind, ev, repos, opts)
}

// Snapshot returns repository name as policy sees it, read in one
// transaction: every tag and manifest with its times, attributes, subject
// and children. It fails with ErrNameUnknown when the repository does not
// exist.
func (r *Registry) Snapshot(ctx context.Context, name string) (*policy.Snapshot, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer r.leave()
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	return r.snapshot(ctx, name)
}

func (r *Registry) snapshot(ctx context.Context, name string) (*policy.Snapshot, error) {
	var s *policy.Snapshot
	err := r.view(ctx, func(tx meta.Tx) error {
		repo, ok, err := schema.Repos.Get(tx, name)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrNameUnknown, "repository %q", name)
		}
		s = &policy.Snapshot{Repository: name, Attributes: repo.Attributes}
		s.Tags = make([]policy.Tag, 0, repo.TagCount)
		s.Manifests = make([]policy.Manifest, 0, repo.ManifestCount)
		err = schema.Tags.Scan(tx, name, "", func(tn string, rec *schema.Tag) bool {
			s.Tags = append(s.Tags, policy.Tag{Name: tn, Digest: rec.Digest, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt, Attributes: rec.Attributes})
			return true
		})
		if err != nil {
			return err
		}
		index := map[digest.Digest]int{}
		err = schema.Manifests.Scan(tx, name, "", func(d digest.Digest, rec *schema.Manifest) bool {
			index[d] = len(s.Manifests)
			s.Manifests = append(s.Manifests, policy.Manifest{
				Digest: d, MediaType: rec.MediaType, ArtifactType: rec.ArtifactType,
				CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt, UntaggedSince: rec.UntaggedSince,
				Attributes: rec.Attributes, Subject: rec.Subject,
			})
			return true
		})
		if err != nil {
			return err
		}
		err = schema.Children.ScanRepo(tx, name, func(child, parent digest.Digest) bool {
			if i, ok := index[parent]; ok {
				s.Manifests[i].Children = append(s.Manifests[i].Children, child)
			}
			return true
		})
		if err != nil {
			return err
		}
		tags := make(map[string]int, len(s.Tags))
		for i := range s.Tags {
			tags[s.Tags[i].Name] = i
		}
		return schema.Pulls.ScanRepo(tx, name, func(kind, ref string, at time.Time) bool {
			if i, ok := index[digest.Digest(ref)]; ok && kind == schema.PullManifest {
				s.Manifests[i].LastPulled = at
			} else if i, ok := tags[ref]; ok && kind == schema.PullTag {
				s.Tags[i].LastPulled = at
			}
			return true
		})
	})
	return s, err
}

// purgeRun is the state of one Purge or sweep.
type purgeRun struct {
	r    *Registry
	opts PurgeOptions
	res  *PurgeResult

	mu       sync.Mutex // guards res and prog
	prog     PurgeProgress
	reported int
}

// runPlans snapshots, evaluates and carries out each of repos in turn, and
// leaves a record of the run (kind names it: purge, retention, policy:NAME).
func (r *Registry) runPlans(ctx context.Context, kind string, ev *policy.Evaluator, repos []string, opts PurgeOptions) (res *PurgeResult, err error) {
	now := r.now()
	run := &purgeRun{r: r, opts: opts, res: &PurgeResult{DryRun: opts.DryRun, Time: now}}
	defer func() { r.recordRun(kind, now, run.res, err) }()
	run.prog.Repositories = len(repos)
	for _, name := range repos {
		if err := ctx.Err(); err != nil {
			return run.res, err
		}
		snap, err := r.snapshot(ctx, name)
		if errors.Is(err, ErrNameUnknown) {
			continue // deleted since the listing
		}
		if err != nil {
			return run.res, err
		}
		plan := ev.Evaluate(snap, now)
		run.res.Plans = append(run.res.Plans, plan)
		run.prog.Repository = name
		// Every deletion is listed, as done or skipped: room for all at once.
		n := len(plan.Deletions())
		run.res.Deleted = slices.Grow(run.res.Deleted, n)
		if opts.DryRun {
			for _, d := range plan.Deletions() {
				run.res.Deleted = append(run.res.Deleted, PurgeItem{Repository: name, Decision: d})
			}
			run.res.Untagged += plan.Untagged
			run.prog.Deleted = len(run.res.Deleted)
		} else if err := run.execute(ctx, plan); err != nil {
			return run.res, err
		}
		run.prog.RepositoriesDone++
		run.progress(true)
	}
	return run.res, nil
}

// concurrency returns the number of deletions to run at once.
func (o PurgeOptions) concurrency() int {
	if o.Concurrency <= 0 {
		return 32
	}
	return min(o.Concurrency, 64)
}

// record adds the outcome of one deletion (and of the referrers that went
// with it) to the result. A skip is recorded; any other error is returned.
func (run *purgeRun) record(name string, del *deletion, err error) error {
	d, refs := del.d, del.refs
	var s *skip
	if err != nil && !errors.As(err, &s) {
		return err
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	if s != nil {
		run.res.Skipped = append(run.res.Skipped, PurgeItem{Repository: name, Decision: d, Error: s.reason})
		run.prog.Skipped++
	} else {
		run.res.Deleted = append(run.res.Deleted, PurgeItem{Repository: name, Decision: d})
		for _, rd := range refs {
			run.res.Deleted = append(run.res.Deleted, PurgeItem{Repository: name, Decision: rd})
		}
		run.prog.Deleted = len(run.res.Deleted)
		if del.untagged {
			run.res.Untagged++
		}
	}
	run.progressLocked(false)
	return nil
}

func (run *purgeRun) progress(force bool) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.progressLocked(force)
}

// progressLocked calls the Progress callback after each repository and
// every 256 items.
func (run *purgeRun) progressLocked(force bool) {
	if run.opts.Progress == nil {
		return
	}
	n := run.prog.Deleted + run.prog.Skipped
	if !force && n-run.reported < 256 {
		return
	}
	run.reported = n
	run.opts.Progress(run.prog)
}
