package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/singleflight"
	"oras.land/oras-go/v2"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
)

// Artifact cache errors. Both are in class ErrUnavailable; httpapi answers
// ErrUpstreamUnavailable with 503 and ErrBadUpstream with 502.
var (
	// ErrUpstreamUnavailable: the cache's upstream could not be reached or
	// failed (a server error, a rate limit, a broken connection). Nothing
	// was stored; a later pull tries again.
	ErrUpstreamUnavailable error = errdef.New("cache upstream unavailable", ErrUnavailable)
	// ErrBadUpstream: the upstream refused the registry (its credentials
	// or permissions) or sent what the registry will not store (bytes that
	// do not match their digest, an invalid or oversized manifest). Nothing
	// was stored.
	ErrBadUpstream error = errdef.New("cache upstream failed", ErrUnavailable)
)

// DefaultCacheTagTTL is how long a tag fetched through a cache rule is
// served before it is re-checked upstream, unless WithCacheTagTTL says.
const DefaultCacheTagTTL = 5 * time.Minute

// cacheFetchTimeout bounds one upstream fetch, which runs on after the pull
// that started it gives up (others may wait for it).
const cacheFetchTimeout = 30 * time.Minute

// CacheUpstream is what a cache fetch reads from: the rule, the upstream
// repository and the options NewRemote would get, credentials resolved.
type CacheUpstream struct {
	// Rule is the name of the cache rule.
	Rule string
	// Repository is the upstream repository, "host[:port]/path".
	Repository string
	// Options are the transport settings and credentials of the rule.
	Options RemoteOptions
}

// CacheUpstreamFunc makes the upstream target of a cache rule, by default
// NewRemote(u.Repository, u.Options). The registry keeps the target it
// returns for later fetches of the same upstream repository (so its auth
// tokens are reused) until the rules change or the upstream refuses it.
type CacheUpstreamFunc func(ctx context.Context, u CacheUpstream) (oras.ReadOnlyTarget, error)

// CacheCredentialFunc resolves a cache rule's CredentialSet to a username
// and password, each time an upstream target is made.
type CacheCredentialFunc func(ctx context.Context, credentialSet string) (username, password string, err error)

// WithCacheTagTTL sets how long a tag fetched through a cache rule is served
// before the next pull re-checks it upstream (one HEAD when it has not
// moved); DefaultCacheTagTTL by default, and zero re-checks at every pull.
// A pull by digest never re-checks: a digest names the same bytes forever.
func WithCacheTagTTL(d time.Duration) Option { return func(o *options) { o.cacheTagTTL = d } }

// WithCacheUpstream replaces how cache rules reach their upstreams: a
// transport of the host's, a proxy, or any oras-go target (tests point it
// at httptest servers).
func WithCacheUpstream(fn CacheUpstreamFunc) Option {
	return func(o *options) { o.cacheUpstream = fn }
}

// WithCacheCredentials resolves the CredentialSet of cache rules (from a
// secret store of the host's). Without it a rule that names a credential
// set fails its fetches with ErrBadUpstream.
func WithCacheCredentials(fn CacheCredentialFunc) Option {
	return func(o *options) { o.cacheCredentials = fn }
}

// pullThrough is the state of the artifact cache besides its rules: the
// fetches in flight and when each cached tag was last checked upstream.
type pullThrough struct {
	flights singleflight.Group
	mu      sync.RWMutex
	checked map[string]map[string]time.Time // repository -> tag -> last check
}

func newPullThrough() *pullThrough {
	return &pullThrough{checked: map[string]map[string]time.Time{}}
}

// fresh reports whether tag tg of repository name was checked upstream
// within ttl of now.
func (p *pullThrough) fresh(name, tg string, now time.Time, ttl time.Duration) bool {
	p.mu.RLock()
	at, ok := p.checked[name][tg]
	p.mu.RUnlock()
	return ok && now.Sub(at) < ttl
}

func (p *pullThrough) markChecked(name, tg string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tags := p.checked[name]
	if tags == nil {
		tags = map[string]time.Time{}
		p.checked[name] = tags
	}
	tags[tg] = now
}

// upstreamCache keeps the upstream targets of one rule set.
type upstreamCache struct {
	mu      sync.Mutex
	targets map[string]oras.ReadOnlyTarget
}

func newUpstreamCache() *upstreamCache {
	return &upstreamCache{targets: map[string]oras.ReadOnlyTarget{}}
}

// pullThrough finishes a manifest read of ms in a repository a cache rule
// covers: a miss fetches from the upstream, a tag past its TTL is
// re-checked. m and err are the local read's.
func (ms *Manifests) pullThrough(ctx context.Context, rs *cacheRuleSet, ref string, opts GetOptions, withBytes bool, m *Manifest, err error) (*Manifest, error) {
	rule, matched, ok := rs.match(ms.repo.name)
	if !ok {
		return m, err
	}
	r := ms.repo.reg
	isTag := !strings.Contains(ref, ":")
	upstream := func() string { return upstreamOf(rule, ms.repo.name, matched) }
	switch {
	case err == nil && !isTag:
		return m, nil
	case err == nil:
		if r.pull.fresh(ms.repo.name, ref, r.now(), r.opts.cacheTagTTL) {
			return m, nil
		}
		// Past its TTL: re-check. An upstream that fails or cannot be
		// reached leaves the cached tag served as it is.
		if ferr := r.cacheFetch(ctx, rs, rule, upstream(), ms.repo.name, ref); ferr != nil {
			return m, nil
		}
	case errors.Is(err, ErrManifestUnknown):
		if ferr := r.cacheFetch(ctx, rs, rule, upstream(), ms.repo.name, ref); ferr != nil {
			return nil, ferr
		}
	default:
		return m, err
	}
	return ms.get(ctx, ref, opts, withBytes)
}

// cacheFetch brings ref (a tag or a digest) of repository name up to date
// with the upstream: one fetch at a time per repository and reference,
// which every concurrent caller waits for. The fetch is an Import, which
// stores every blob and child before the manifest and sets the tag last,
// so a failed fetch leaves nothing a client could half read. It goes on
// when the caller that started it gives up, until done or Close.
func (r *Registry) cacheFetch(ctx context.Context, rs *cacheRuleSet, rule *CacheRule, upstream, name, ref string) error {
	key := name + ":" + ref
	if strings.Contains(ref, ":") {
		key = name + "@" + ref
	}
	ch := r.pull.flights.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cacheFetchTimeout)
		defer cancel()
		go func() {
			select {
			case <-r.stop:
				cancel()
			case <-fctx.Done():
			}
		}()
		return nil, r.fetchUpstream(fctx, rs, rule, upstream, name, ref)
	})
	select {
	case res := <-ch:
		return res.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fetchUpstream is one fetch of cacheFetch.
func (r *Registry) fetchUpstream(ctx context.Context, rs *cacheRuleSet, rule *CacheRule, upstream, name, ref string) error {
	isTag := !strings.Contains(ref, ":")
	// A fetch that finished after this caller's miss may have done the
	// work: look again before asking the upstream.
	have, err := r.localRef(ctx, name, ref)
	if err != nil {
		return err
	}
	switch {
	case !isTag && have != "":
		return nil
	case isTag && have != "" && r.pull.fresh(name, ref, r.now(), r.opts.cacheTagTTL):
		return nil
	}
	src, err := r.upstreamTarget(ctx, rs, rule, upstream)
	if err != nil {
		return err
	}
	checked := r.now()
	desc, err := src.Resolve(ctx, ref)
	if err != nil {
		return r.upstreamErr(rs, rule, upstream, name, ref, sourceErr(fmt.Sprintf("resolve %q", ref), err), true)
	}
	if !isTag && desc.Digest.String() != ref {
		return errorf(ErrBadUpstream, "cache: %s resolved %s to %s", upstream, ref, desc.Digest)
	}
	if isTag && desc.Digest == have {
		r.pull.markChecked(name, ref, checked)
		return nil
	}
	target := name
	if isTag {
		target = name + ":" + ref
	}
	src = resolvedSource{ReadOnlyTarget: src, ref: ref, desc: desc}
	if _, err := r.Import(ctx, src, ref, target, ImportOptions{Force: isTag}); err != nil {
		return r.upstreamErr(rs, rule, upstream, name, ref, err, false)
	}
	if isTag {
		r.pull.markChecked(name, ref, checked)
	}
	return nil
}

// localRef returns the digest ref names in repository name, "" when the
// repository lacks it.
func (r *Registry) localRef(ctx context.Context, name, ref string) (digest.Digest, error) {
	if err := r.enter(); err != nil {
		return "", err
	}
	defer r.leave()
	var out digest.Digest
	err := r.view(ctx, func(tx meta.Tx) error {
		out = ""
		dgst := digest.Digest(ref)
		if !strings.Contains(ref, ":") {
			rec, ok, err := schema.Tags.Get(tx, name, ref)
			if err != nil || !ok {
				return err
			}
			dgst = rec.Digest
		}
		ok, err := schema.Manifests.Has(tx, name, dgst)
		if ok {
			out = dgst
		}
		return err
	})
	return out, err
}

// upstreamTarget returns the target of upstream repository upstream, made
// once per rule set.
func (r *Registry) upstreamTarget(ctx context.Context, rs *cacheRuleSet, rule *CacheRule, upstream string) (oras.ReadOnlyTarget, error) {
	uc := rs.upstreams
	key := rule.Name + " " + upstream
	uc.mu.Lock()
	t, ok := uc.targets[key]
	uc.mu.Unlock()
	if ok {
		return t, nil
	}
	u := CacheUpstream{Rule: rule.Name, Repository: upstream, Options: RemoteOptions{
		PlainHTTP: rule.PlainHTTP, Username: rule.Username, Password: rule.Password}}
	if rule.CredentialSet != "" {
		if r.opts.cacheCredentials == nil {
			return nil, errorf(ErrBadUpstream, "cache rule %q: credential set %q: no resolver configured (WithCacheCredentials)", rule.Name, rule.CredentialSet)
		}
		user, pass, err := r.opts.cacheCredentials(ctx, rule.CredentialSet)
		if err != nil {
			return nil, fmt.Errorf("registry: cache rule %q: credential set %q: %w: %w", rule.Name, rule.CredentialSet, ErrBadUpstream, err)
		}
		u.Options.Username, u.Options.Password = user, pass
	}
	mk := r.opts.cacheUpstream
	if mk == nil {
		mk = defaultCacheUpstream
	}
	t, err := mk(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("registry: cache rule %q: upstream %s: %w: %w", rule.Name, upstream, ErrBadUpstream, err)
	}
	uc.mu.Lock()
	uc.targets[key] = t
	uc.mu.Unlock()
	return t, nil
}

func defaultCacheUpstream(_ context.Context, u CacheUpstream) (oras.ReadOnlyTarget, error) {
	repo, _, err := NewRemote(u.Repository, u.Options)
	return repo, err
}

// upstreamErr turns an import's error into the cache's: a reference the
// upstream lacks (root: the error is of resolving the reference itself) is
// ErrManifestUnknown, an upstream that failed is
// ErrUpstreamUnavailable, one that refused the registry or sent bad bytes
// is ErrBadUpstream; the registry's own errors (a lock, a closed store)
// stay. A refused target is dropped, so the next fetch makes it anew
// (with credentials resolved again).
func (r *Registry) upstreamErr(rs *cacheRuleSet, rule *CacheRule, upstream, name, ref string, err error, root bool) error {
	if err == nil || !isSourceError(err) {
		return err
	}
	what := fmt.Sprintf("registry: cache: %s %s from %s", name, ref, upstream)
	switch {
	case root && errors.Is(err, ErrNotFound):
		return fmt.Errorf("%s: %w: %w", what, ErrManifestUnknown, err)
	case errors.Is(err, ErrSourceFailed):
		return fmt.Errorf("%s: %w: %w", what, ErrUpstreamUnavailable, err)
	case errors.Is(err, errdef.ErrUnauthorized), errors.Is(err, errdef.ErrDenied):
		rs.upstreams.mu.Lock()
		delete(rs.upstreams.targets, rule.Name+" "+upstream)
		rs.upstreams.mu.Unlock()
	}
	return fmt.Errorf("%s: %w: %w", what, ErrBadUpstream, err)
}

// resolvedSource answers Resolve of the one reference the cache resolved
// already, so an import does not ask the upstream twice.
type resolvedSource struct {
	oras.ReadOnlyTarget
	ref  string
	desc ocispec.Descriptor
}

func (s resolvedSource) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if ref == s.ref {
		return s.desc, nil
	}
	return s.ReadOnlyTarget.Resolve(ctx, ref)
}
