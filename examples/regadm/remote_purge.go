package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/tag"
)

// defaultRemoteConcurrency is the requests at once of a purge over
// -registry without --concurrency: acr purge's default, GOMAXPROCS
// clamped to 1..32.
func defaultRemoteConcurrency() int {
	return min(max(runtime.GOMAXPROCS(0), 1), maxConcurrency)
}

// remoteNote says what differs over -registry, for a verb's help.
func remoteNote(verb string) string {
	switch verb {
	case "purge":
		return `Over -registry the purge reads the server's ACR API (/acr/v1/) and
deletes through it, with the same rules and output as on a data folder, but:
the API has no last-pull times (keep rules by pull see none), no
untagged-since times, and does not list items with listEnabled=false (those
are read only when a listed item names them); referrers are found with one
/v2/ referrers request per manifest; each deletion is re-checked with a read
just before it (a tag that moved, a manifest tagged, locked or given a
referrer since is skipped) but, unlike on a data folder, not in one
transaction with it; an untagged manifest is read once more before it goes,
so a referrer whose subject is absent is skipped then (a dry run lists it).
Refusals by the server (404, 405, 409, 412) are skips, not failures.`
	case "policy apply":
		return `Over -registry, see "regadm help purge" for what differs; a policy with
"untaggedRetention" needs -data (the API has no untagged-since times).`
	}
	return ""
}

// remotePurge runs pol against the server as Registry.Purge runs it on a
// data folder: every repository the policy applies to in turn, snapshot,
// evaluate at now, delete stage by stage.
type remotePurge struct {
	c    *remoteRegistry
	ev   *policy.Evaluator
	opts registry.PurgeOptions
	now  time.Time

	mu   sync.Mutex // guards res, prog, tagsLeft
	res  *registry.PurgeResult
	prog registry.PurgeProgress
	// reported is prog's item count when Progress was last called.
	reported int
	// tagsLeft counts, per manifest of the repository at work, its tags
	// not yet deleted by this run.
	tagsLeft map[digest.Digest]int
}

// purgeRemote runs pol over -registry and returns its result (also a
// partial one beside an error).
func (e *env) purgeRemote(ctx context.Context, pol policy.Policy, opts registry.PurgeOptions) (*registry.PurgeResult, error) {
	if pol.UntaggedRetention != nil {
		return nil, usagef("%s: a policy with \"untaggedRetention\" needs -data: the API has no untagged-since times", e.verb)
	}
	c, err := e.remote()
	if err != nil {
		return nil, err
	}
	ev, err := policy.Compile(pol, policy.CompileOptions{MatchTimeout: opts.MatchTimeout})
	if err != nil {
		return nil, usagef("%s: %w", e.verb, err)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = defaultRemoteConcurrency()
	}
	now := time.Now
	if e.now != nil {
		now = e.now
	}
	p := &remotePurge{c: c, ev: ev, opts: opts, now: now()}
	p.res = &registry.PurgeResult{DryRun: opts.DryRun, Time: p.now}
	names, err := c.catalog(ctx)
	if err != nil {
		return nil, fmt.Errorf("list repositories: %w", err)
	}
	var repos []string
	for _, n := range names {
		if ev.Applies(n) {
			repos = append(repos, n)
		}
	}
	p.prog.Repositories = len(repos)
	for _, name := range repos {
		if err := ctx.Err(); err != nil {
			return p.res, err
		}
		snap, err := p.snapshot(ctx, name)
		if statusOf(err) == http.StatusNotFound {
			continue // deleted since the listing
		}
		if err != nil {
			return p.res, fmt.Errorf("read %s: %w", name, err)
		}
		plan := ev.Evaluate(snap, p.now)
		p.mu.Lock()
		p.res.Plans = append(p.res.Plans, plan)
		p.prog.Repository = name
		p.mu.Unlock()
		if opts.DryRun {
			for _, d := range plan.Deletions() {
				p.res.Deleted = append(p.res.Deleted, registry.PurgeItem{Repository: name, Decision: d})
			}
			p.res.Untagged += plan.Untagged
			p.prog.Deleted = len(p.res.Deleted)
		} else if err := p.execute(ctx, snap, plan); err != nil {
			return p.res, err
		}
		p.mu.Lock()
		p.prog.RepositoriesDone++
		p.progressLocked(true)
		p.mu.Unlock()
	}
	return p.res, nil
}

// snapshot builds repository name's policy.Snapshot from the API: its
// attributes, tag and manifest listings, the items those name that the
// listings leave out (listEnabled=false), and each manifest's referrers.
func (p *remotePurge) snapshot(ctx context.Context, name string) (*policy.Snapshot, error) {
	c := p.c
	repo, err := c.repository(ctx, name)
	if err != nil {
		return nil, err
	}
	tags, err := c.tags(ctx, name)
	if err != nil {
		return nil, err
	}
	mans, err := c.manifests(ctx, name)
	if err != nil {
		return nil, err
	}
	s := &policy.Snapshot{Repository: name, Attributes: repo.Attributes}
	haveTag := map[string]bool{}
	for _, t := range tags {
		haveTag[t.Name] = true
		s.Tags = append(s.Tags, snapTag(t))
	}
	index := map[digest.Digest]int{}
	for _, m := range mans {
		index[m.Digest] = len(s.Manifests)
		s.Manifests = append(s.Manifests, snapManifest(m))
	}
	// Unlisted tags of listed manifests, and unlisted manifests that
	// listed tags or indexes name: read them one by one.
	for _, m := range mans {
		for _, tn := range m.Tags {
			if haveTag[tn] {
				continue
			}
			t, err := c.tag(ctx, name, tn)
			if statusOf(err) == http.StatusNotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			haveTag[tn] = true
			s.Tags = append(s.Tags, snapTag(t))
		}
	}
	var missing []digest.Digest
	want := func(d digest.Digest) {
		if _, ok := index[d]; !ok && !slices.Contains(missing, d) {
			missing = append(missing, d)
		}
	}
	for _, t := range s.Tags {
		want(t.Digest)
	}
	for _, m := range s.Manifests {
		for _, ch := range m.Children {
			want(ch)
		}
	}
	if err := p.addManifests(ctx, s, index, missing); err != nil {
		return nil, err
	}
	return s, p.addReferrers(ctx, s, index)
}

// addManifests reads the manifests of ds one by one into s, and those
// their children name.
func (p *remotePurge) addManifests(ctx context.Context, s *policy.Snapshot, index map[digest.Digest]int, ds []digest.Digest) error {
	for len(ds) > 0 {
		d := ds[0]
		ds = ds[1:]
		if _, ok := index[d]; ok {
			continue
		}
		m, err := p.c.manifest(ctx, s.Repository, d)
		if statusOf(err) == http.StatusNotFound {
			continue
		}
		if err != nil {
			return err
		}
		index[d] = len(s.Manifests)
		s.Manifests = append(s.Manifests, snapManifest(m))
		for _, ch := range m.References {
			ds = append(ds, ch.Digest)
		}
	}
	return nil
}

// addReferrers asks the referrers of every manifest, concurrently, and
// sets their subjects; referrers not read yet are read.
func (p *remotePurge) addReferrers(ctx context.Context, s *policy.Snapshot, index map[digest.Digest]int) error {
	done := map[digest.Digest]bool{}
	for {
		var todo []digest.Digest
		for _, m := range s.Manifests {
			if !done[m.Digest] {
				todo = append(todo, m.Digest)
			}
		}
		if len(todo) == 0 {
			return nil
		}
		subjects := make([][]referrer, len(todo))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(p.opts.Concurrency)
		for i, d := range todo {
			done[d] = true
			g.Go(func() error {
				descs, err := p.c.referrers(gctx, s.Repository, d)
				if statusOf(err) == http.StatusNotFound {
					return nil
				}
				for _, r := range descs {
					subjects[i] = append(subjects[i], referrer{r.Digest, r.ArtifactType})
				}
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		var missing []digest.Digest
		for _, rs := range subjects {
			for _, r := range rs {
				if _, ok := index[r.digest]; !ok {
					missing = append(missing, r.digest)
				}
			}
		}
		if err := p.addManifests(ctx, s, index, missing); err != nil {
			return err
		}
		for i, rs := range subjects {
			for _, r := range rs {
				if j, ok := index[r.digest]; ok {
					s.Manifests[j].Subject = todo[i]
					if r.artifactType != "" {
						s.Manifests[j].ArtifactType = r.artifactType
					}
				}
			}
		}
	}
}

// referrer is one entry of a referrers answer.
type referrer struct {
	digest       digest.Digest
	artifactType string
}

func snapTag(t acrTag) policy.Tag {
	return policy.Tag{Name: t.Name, Digest: t.Digest, CreatedAt: t.CreatedTime, UpdatedAt: t.LastUpdateTime, Attributes: t.Attributes}
}

func snapManifest(m acrManifest) policy.Manifest {
	pm := policy.Manifest{
		Digest: m.Digest, MediaType: m.MediaType, ArtifactType: m.ConfigMediaType,
		CreatedAt: m.CreatedTime, UpdatedAt: m.LastUpdateTime, Attributes: m.Attributes,
	}
	for _, ch := range m.References {
		pm.Children = append(pm.Children, ch.Digest)
	}
	return pm
}

// execute carries out one plan stage by stage, at most Concurrency
// requests at once. Referrers the plan sends with their subject go with
// it: the server deletes them with the subject.
func (p *remotePurge) execute(ctx context.Context, snap *policy.Snapshot, plan *policy.Plan) error {
	p.mu.Lock()
	p.tagsLeft = map[digest.Digest]int{}
	for _, t := range snap.Tags {
		p.tagsLeft[t.Digest]++
	}
	p.mu.Unlock()
	with := map[digest.Digest][]policy.Decision{}
	for _, d := range plan.Deletions() {
		if d.Reason.Code == policy.ReasonWithSubject {
			with[d.Reason.Ref] = append(with[d.Reason.Ref], d)
		}
	}
	for _, stage := range plan.Stages() {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(p.opts.Concurrency)
		for _, d := range stage {
			if d.Reason.Code == policy.ReasonWithSubject {
				continue
			}
			g.Go(func() error {
				if d.Kind == policy.KindTag {
					untagged, err := p.deleteTag(gctx, plan.Repository, d)
					return p.record(plan.Repository, d, nil, untagged, err)
				}
				return p.record(plan.Repository, d, with[d.Digest], false, p.deleteManifest(gctx, plan.Repository, d, with[d.Digest]))
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// skip is a planned deletion the server's current state no longer allows.
type skip struct{ reason string }

func (s *skip) Error() string { return s.reason }

// skipped turns the server's refusals (gone, locked, conflict, failed
// precondition) into a skip; other errors stay failures.
func skipped(err error) error {
	switch statusOf(err) {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusConflict, http.StatusPreconditionFailed:
		return &skip{reason: "the server refused: " + err.Error()}
	}
	return err
}

// deleteTag untags d if the tag still points where the snapshot saw it
// and is not newly locked, and reports whether its manifest lost its last
// tag by this run.
func (p *remotePurge) deleteTag(ctx context.Context, name string, d policy.Decision) (bool, error) {
	t, err := p.c.tag(ctx, name, d.Tag)
	switch {
	case statusOf(err) == http.StatusNotFound:
		return false, &skip{reason: "the tag is gone"}
	case err != nil:
		return false, err
	case t.Digest != d.Digest:
		return false, &skip{reason: fmt.Sprintf("the tag moved to %s since the snapshot", t.Digest)}
	case t.Attributes.Locked() && !d.Unlock:
		return false, &skip{reason: "the tag was locked since the snapshot"}
	}
	if d.Unlock && t.Attributes.Locked() {
		if _, err := p.c.setAttributes(ctx, ref{repo: name, tag: d.Tag}, unlockPatch()); err != nil {
			return false, skipped(err)
		}
	}
	if err := p.c.untag(ctx, name, d.Tag); err != nil {
		return false, skipped(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tagsLeft[d.Digest]--
	return p.tagsLeft[d.Digest] == 0, nil
}

// deleteManifest deletes d with the referrers planned to go with it, after
// checking over the API what the plan assumed: the manifest and each
// referrer untagged, unlocked (or planned to be unlocked), no referrer
// arrived; an untagged manifest not known as a referrer is read to make
// sure it has no subject.
func (p *remotePurge) deleteManifest(ctx context.Context, name string, d policy.Decision, refs []policy.Decision) error {
	planned := map[digest.Digest]policy.Decision{d.Digest: d}
	for _, rd := range refs {
		planned[rd.Digest] = rd
	}
	graph, err := p.referrerGraph(ctx, name, d.Digest)
	if err != nil {
		return skipped(err)
	}
	for _, g := range graph {
		if _, ok := planned[g]; !ok {
			return &skip{reason: fmt.Sprintf("referrer %s arrived since the snapshot", g)}
		}
	}
	var unlock []digest.Digest
	for _, g := range append([]digest.Digest{d.Digest}, graph...) {
		m, err := p.c.manifest(ctx, name, g)
		switch {
		case statusOf(err) == http.StatusNotFound && g == d.Digest:
			return &skip{reason: "the manifest is gone"}
		case statusOf(err) == http.StatusNotFound:
			continue
		case err != nil:
			return err
		case len(m.Tags) > 0:
			return &skip{reason: fmt.Sprintf("manifest %s was tagged since the snapshot", g)}
		case m.Attributes.Locked() && planned[g].Unlock:
			unlock = append(unlock, g)
		case m.Attributes.Locked():
			return &skip{reason: fmt.Sprintf("manifest %s was locked since the snapshot", g)}
		}
	}
	if subj, err := p.c.subjectOf(ctx, name, d.Digest); err != nil {
		return skipped(err)
	} else if subj != "" {
		return &skip{reason: fmt.Sprintf("it is a referrer of %s, which the repository does not hold: referrers go only with their subject", subj)}
	}
	for _, g := range unlock {
		if _, err := p.c.setAttributes(ctx, ref{repo: name, digest: g}, unlockPatch()); err != nil {
			return skipped(err)
		}
	}
	return skipped(p.c.deleteManifest(ctx, name, d.Digest))
}

// referrerGraph returns the referrers of d at every depth, as the server
// has them now.
func (p *remotePurge) referrerGraph(ctx context.Context, name string, d digest.Digest) ([]digest.Digest, error) {
	var out []digest.Digest
	seen := map[digest.Digest]bool{d: true}
	queue := []digest.Digest{d}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		descs, err := p.c.referrers(ctx, name, cur)
		if err != nil {
			return nil, err
		}
		for _, r := range descs {
			if !seen[r.Digest] {
				seen[r.Digest] = true
				out = append(out, r.Digest)
				queue = append(queue, r.Digest)
			}
		}
	}
	return out, nil
}

// unlockPatch sets writeEnabled and deleteEnabled true, as acr purge does
// before deleting a locked item with --include-locked.
func unlockPatch() tag.Patch {
	t := true
	return tag.Patch{WriteEnabled: &t, DeleteEnabled: &t}
}

// record adds the outcome of one deletion (and of the referrers that went
// with it) to the result; a skip is recorded, any other error returned.
func (p *remotePurge) record(name string, d policy.Decision, refs []policy.Decision, untagged bool, err error) error {
	var s *skip
	if err != nil && !errors.As(err, &s) {
		return fmt.Errorf("delete %s in %s: %w", itemName(d), name, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s != nil {
		// As on a data folder: the referrers that were to go with d stay
		// with it and are not listed apart.
		p.res.Skipped = append(p.res.Skipped, registry.PurgeItem{Repository: name, Decision: d, Error: s.reason})
		p.prog.Skipped = len(p.res.Skipped)
	} else {
		p.res.Deleted = append(p.res.Deleted, registry.PurgeItem{Repository: name, Decision: d})
		for _, rd := range refs {
			p.res.Deleted = append(p.res.Deleted, registry.PurgeItem{Repository: name, Decision: rd})
		}
		p.prog.Deleted = len(p.res.Deleted)
		if untagged {
			p.res.Untagged++
		}
	}
	p.progressLocked(false)
	return nil
}

// progressLocked calls the Progress callback after each repository and
// every 256 items, as Registry.Purge does.
func (p *remotePurge) progressLocked(force bool) {
	if p.opts.Progress == nil {
		return
	}
	n := p.prog.Deleted + p.prog.Skipped
	if !force && n-p.reported < 256 {
		return
	}
	p.reported = n
	p.opts.Progress(p.prog)
}

// executeRemote runs pol over -registry with a progress line on a
// terminal, and writes the result as execute does.
func (e *env) executeRemote(ctx context.Context, o runOptions, what string, pol policy.Policy) error {
	opts := registry.PurgeOptions{DryRun: o.dryRun, Concurrency: o.concurrency}
	var pr *progress
	if e.terminal {
		pr = newProgress(e.stderr, time.Now)
		opts.Progress = pr.update
	}
	res, err := e.purgeRemote(ctx, pol, opts)
	if pr != nil {
		pr.clear()
	}
	if isUsage(err) {
		return err
	}
	if res != nil {
		if werr := e.printResult(res, o.verbose); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	if err != nil {
		return fmt.Errorf("%s on %s: %w", what, e.registry, err)
	}
	return nil
}
