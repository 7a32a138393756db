package registry

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/internal/schema"
)

// WithPullRecording records the last pull of every manifest and tag, for
// pull-based retention rules (policy.ByPulled). Pulls are gathered in memory
// and written in one transaction every interval (default one minute), off
// the request path, so a manifest costs at most one metadata write per
// interval; a crash loses at most the last interval's pulls, and Close
// writes what is pending. 0 turns recording off.
func WithPullRecording(interval time.Duration) Option {
	return func(o *options) { o.pullInterval = interval }
}

// pullKey names a pulled manifest (ref is its digest) or tag (ref is the
// tag; a tag never contains ':', a digest always does).
type pullKey struct{ repo, ref string }

// pullShard is one lock's share of the pending pulls.
type pullShard struct {
	mu sync.Mutex
	m  map[pullKey]time.Time
}

// pullRecorder gathers pulls until the next flush.
type pullRecorder struct {
	shards [16]pullShard
}

func newPullRecorder() *pullRecorder {
	p := &pullRecorder{}
	for i := range p.shards {
		p.shards[i].m = map[pullKey]time.Time{}
	}
	return p
}

// record notes that ref of repo was pulled at now. It costs one map write
// under one of 16 locks, and allocates only for a key new in this interval.
func (p *pullRecorder) record(repo, ref string, now time.Time) {
	if p == nil || ref == "" {
		return
	}
	s := &p.shards[int(ref[len(ref)-1])%len(p.shards)]
	s.mu.Lock()
	s.m[pullKey{repo, ref}] = now
	s.mu.Unlock()
}

// take returns the pending pulls and starts a new interval.
func (p *pullRecorder) take() map[pullKey]time.Time {
	out := map[pullKey]time.Time{}
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.Lock()
		m := s.m
		if len(m) > 0 {
			s.m = map[pullKey]time.Time{}
		}
		s.mu.Unlock()
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// recordPull notes a pull of dgst in repo through ref (a tag or the digest).
func (r *Registry) recordPull(repo, ref string, dgst digest.Digest) {
	if r.pulls == nil {
		return
	}
	now := r.now()
	r.pulls.record(repo, string(dgst), now)
	if ref != string(dgst) && !strings.Contains(ref, ":") {
		r.pulls.record(repo, ref, now)
	}
}

// flushPulls writes the pending pulls in one transaction. Records of
// manifests and tags deleted since their pull are dropped, never written.
func (r *Registry) flushPulls(ctx context.Context) error {
	if r.pulls == nil {
		return nil
	}
	pending := r.pulls.take()
	if len(pending) == 0 {
		return nil
	}
	return r.update(ctx, func(t *txn) error {
		for k, at := range pending {
			if strings.Contains(k.ref, ":") {
				ok, err := schema.Manifests.Has(t, k.repo, digest.Digest(k.ref))
				if err != nil {
					return err
				}
				if ok {
					if err := schema.Pulls.Put(t, k.repo, schema.PullManifest, k.ref, at); err != nil {
						return err
					}
				}
				continue
			}
			rec, ok, err := schema.Tags.Get(t, k.repo, k.ref)
			if err != nil {
				return err
			}
			if ok && !rec.UpdatedAt.After(at) {
				if err := schema.Pulls.Put(t, k.repo, schema.PullTag, k.ref, at); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
