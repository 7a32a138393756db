package registry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/tag"
)

// How a purge carries out a plan. A stage's deletions go in key order, in
// groups of up to opts.concurrency(): a group is queued at once (each
// deletion still its own transaction, re-checking the plan), so the group
// shares commits and flushes (updateEach). While one group commits, the
// next is prepared: the blobs and children of its manifests are read in a
// read transaction, off the writers' path (a detail is fixed by the
// manifest's bytes, so what is read there still holds in the deleting
// transaction, which re-reads nothing but the hot record).

// deletion is one planned deletion of a tag or manifest, with the referrers
// the plan sends with a manifest, what was read ahead, and its outcome.
type deletion struct {
	d    policy.Decision
	refs []policy.Decision
	// dets holds the detail references of d (dets[0]) and of refs
	// (dets[1:]), read ahead; nil, or a nil entry, where they were not
	// (the manifest was not there then).
	dets     []*schema.DetailRefs
	untagged bool // a tag deletion left its manifest untagged
}

// execute carries out one plan stage by stage.
func (run *purgeRun) execute(ctx context.Context, plan *policy.Plan) error {
	// Referrers go in their subject's transaction, not on their own.
	with := map[digest.Digest][]policy.Decision{}
	for _, d := range plan.Deletions() {
		if d.Reason.Code == policy.ReasonWithSubject {
			with[d.Reason.Ref] = append(with[d.Reason.Ref], d)
		}
	}
	for _, stage := range plan.Stages() {
		dels := make([]deletion, 0, len(stage))
		for _, d := range stage {
			switch {
			case d.Reason.Code == policy.ReasonWithSubject:
			case d.Kind == policy.KindTag:
				dels = append(dels, deletion{d: d})
			default:
				dels = append(dels, deletion{d: d, refs: with[d.Digest]})
			}
		}
		// In key order: each checkpoint then rewrites a run of pages of
		// the manifest tables instead of pages all over them. A stage's
		// deletions are independent of each other, and ran concurrently
		// in any order anyway.
		slices.SortFunc(dels, func(a, b deletion) int {
			return cmp.Or(strings.Compare(a.d.Tag, b.d.Tag), strings.Compare(string(a.d.Digest), string(b.d.Digest)))
		})
		if err := run.stage(ctx, plan.Repository, dels); err != nil {
			return err
		}
	}
	return nil
}

// stage deletes dels, group by group, preparing each group while the one
// before it commits.
func (run *purgeRun) stage(ctx context.Context, name string, dels []deletion) error {
	size := run.opts.concurrency()
	g, gctx := errgroup.WithContext(ctx)
	ready := make(chan []deletion, 1)
	g.Go(func() error {
		defer close(ready)
		for i := 0; i < len(dels); i += size {
			group := dels[i:min(i+size, len(dels))]
			if err := run.r.readAhead(gctx, name, group); err != nil {
				return err
			}
			select {
			case ready <- group:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	g.Go(func() error {
		fns := make([]func(*txn) error, 0, size)
		for group := range ready {
			fns = fns[:0]
			for i := range group {
				fns = append(fns, deleteFn(name, &group[i]))
			}
			errs := run.r.updateEach(gctx, fns)
			for i := range group {
				group[i].dets = nil // done with: let it go
				if err := run.record(name, &group[i], skipped(errs[i])); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return g.Wait()
}

// readAhead reads the detail references of the manifests group deletes.
func (r *Registry) readAhead(ctx context.Context, name string, group []deletion) error {
	if !slices.ContainsFunc(group, func(del deletion) bool { return del.d.Kind != policy.KindTag }) {
		return nil
	}
	return r.view(ctx, func(tx meta.Tx) error {
		for i := range group {
			del := &group[i]
			if del.d.Kind == policy.KindTag {
				continue
			}
			del.dets = make([]*schema.DetailRefs, 1+len(del.refs))
			for j := range del.dets {
				d := del.d.Digest
				if j > 0 {
					d = del.refs[j-1].Digest
				}
				// A manifest's detail is written and deleted with its
				// record, in the same transaction.
				refs, found, err := schema.Details.Refs(tx, name, d)
				if err != nil {
					return err
				}
				if found {
					del.dets[j] = &refs
				}
			}
		}
		return nil
	})
}

// deleteFn returns the write function of one deletion.
func deleteFn(name string, del *deletion) func(*txn) error {
	if del.d.Kind == policy.KindTag {
		return func(t *txn) error { return deleteTag(t, name, del) }
	}
	return func(t *txn) error { return deletePlanned(t, name, del) }
}

// skip is a planned deletion the current state no longer allows.
type skip struct{ reason string }

func (s *skip) Error() string { return s.reason }

// skipped turns the refusals a deletion may meet into a skip, and leaves
// failures of the store as they are.
func skipped(err error) error {
	var s *skip
	if errors.As(err, &s) {
		return s
	}
	for _, class := range []error{ErrLocked, ErrPrecondition, ErrNotFound, ErrConflict} {
		if errors.Is(err, class) {
			return &skip{reason: err.Error()}
		}
	}
	return err
}

// deleteTag untags one tag of the plan if it still points where the
// snapshot saw it.
func deleteTag(t *txn, name string, del *deletion) error {
	d := del.d
	del.untagged = false
	repo, err := loadRepo(t, name)
	if err != nil {
		return err
	}
	rec, ok, err := schema.Tags.Get(t, name, d.Tag)
	switch {
	case err != nil:
		return err
	case !ok:
		return &skip{reason: "the tag is gone"}
	case rec.Digest != d.Digest:
		return &skip{reason: fmt.Sprintf("the tag moved to %s since the snapshot", rec.Digest)}
	}
	if d.Unlock {
		rec.Attributes.WriteEnabled, rec.Attributes.DeleteEnabled = true, true
	} else if rec.Attributes.Locked() {
		return &skip{reason: "the tag was locked since the snapshot"}
	}
	if err := tag.CheckUntag(repo.item(), tag.Tag(d.Tag, rec.Attributes)); err != nil {
		return err
	}
	if err := removeTag(t, repo, d.Tag, rec.Digest); err != nil {
		return err
	}
	m, ok, err := schema.Manifests.Get(t, name, rec.Digest)
	if err != nil {
		return err
	}
	del.untagged = ok && m.Tags == 0
	t.emit(Event{Action: ActionUntag, Repository: name, Tag: d.Tag, Digest: rec.Digest})
	return repo.save(t)
}

// deletePlanned deletes one manifest of the plan with the referrers the
// plan sends with it, if nothing the plan assumed changed.
func deletePlanned(t *txn, name string, del *deletion) error {
	d, refs := del.d, del.refs
	repo, err := loadRepo(t, name)
	if err != nil {
		return err
	}
	graph, err := referrersGraph(t, name, d.Digest)
	if err != nil {
		return err
	}
	if len(graph) != 1+len(refs) {
		return &skip{reason: fmt.Sprintf("its referrers changed since the snapshot (%d, planned %d)", len(graph)-1, len(refs))}
	}
	// The records read here go on to deleteGraph; a referrer already gone
	// leaves the graph.
	live := graph[:0:0]
	recs := make([]*schema.Manifest, 0, len(graph))
	dets := make([]*schema.DetailRefs, 0, len(graph))
	for _, g := range graph {
		pd, ok, at := d, g == d.Digest, 0
		for i := 0; !ok && i < len(refs); i++ {
			pd, ok, at = refs[i], refs[i].Digest == g, i+1
		}
		if !ok {
			return &skip{reason: fmt.Sprintf("referrer %s arrived since the snapshot", g)}
		}
		rec, found, err := schema.Manifests.Get(t, name, g)
		switch {
		case err != nil:
			return err
		case !found && g == d.Digest:
			return &skip{reason: "the manifest is gone"}
		case !found:
			continue
		case rec.Tags > 0:
			return &skip{reason: fmt.Sprintf("manifest %s was tagged since the snapshot", g)}
		case pd.Unlock:
			rec.Attributes.WriteEnabled, rec.Attributes.DeleteEnabled = true, true
			if err := schema.Manifests.Put(t, name, g, &rec); err != nil {
				return err
			}
		case rec.Attributes.Locked():
			return &skip{reason: fmt.Sprintf("manifest %s was locked since the snapshot", g)}
		}
		live = append(live, g)
		recs = append(recs, &rec)
		var det *schema.DetailRefs
		if at < len(del.dets) {
			det = del.dets[at]
		}
		dets = append(dets, det)
	}
	return deleteGraph(t, repo, live, recs, dets)
}
