package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regkit/regkit/registry"
)

// Service is the access model of one registry: scope maps, tokens, the
// admin user and the anonymous pull setting, stored in the registry's
// metadata store (registry.State, namespace Namespace), with the
// authentication and authorization a token service asks of it. All
// methods are safe for concurrent use.
//
// A Service keeps the whole model in memory and rereads it only on its own
// writes: use one Service per Registry, and do not change the model
// through another one (another process cannot: the registry's store is
// held by one process at a time).
type Service struct {
	st    *registry.State
	now   func() time.Time
	hash  HashParams
	cache *authCache
	// sem bounds the argon2id hashes running at once.
	sem chan struct{}
	// salt keys the credential cache, so its keys are worthless outside
	// this process.
	salt [32]byte

	// decoy is the hash an unknown user name or a disabled token is
	// checked against, so that a refusal costs as long as a wrong password
	// and does not tell which names exist.
	decoyOnce sync.Once
	decoy     string

	// mu serializes writes, so views are published in commit order.
	mu   sync.Mutex
	view atomic.Pointer[view]
}

type options struct {
	now         func() time.Time
	hash        HashParams
	cacheSize   int
	concurrency int
}

// Option configures a Service.
type Option func(*options)

// WithClock replaces time.Now (password expiry, creation times), for tests.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithHashParams sets the argon2id cost of new password hashes (default
// DefaultHashParams). Stored hashes keep the parameters they were made
// with. Lower costs are for tests and small devices only.
func WithHashParams(p HashParams) Option { return func(o *options) { o.hash = p } }

// WithCacheSize bounds how many recently verified credentials Authenticate
// remembers (default 10,000; 0 turns the cache off, so every call hashes).
func WithCacheSize(n int) Option { return func(o *options) { o.cacheSize = n } }

// WithHashConcurrency bounds how many password hashes run at once (default
// GOMAXPROCS): each takes HashParams.Memory KiB while it runs, so this caps
// the memory a flood of wrong passwords can take. Others wait their turn.
func WithHashConcurrency(n int) Option { return func(o *options) { o.concurrency = n } }

// New returns the access model of reg, loading it from reg's metadata
// store. reg must stay open while the Service is used; once it closes,
// writes fail with an error wrapping registry.ErrUnavailable (reads are
// answered from memory).
func New(ctx context.Context, reg *registry.Registry, opts ...Option) (*Service, error) {
	if reg == nil {
		return nil, fmt.Errorf("access: New needs a registry: %w", registry.ErrInvalid)
	}
	o := options{now: time.Now, hash: DefaultHashParams, cacheSize: 10000, concurrency: runtime.GOMAXPROCS(0)}
	for _, opt := range opts {
		opt(&o)
	}
	if o.hash.Time < 1 || o.hash.Threads < 1 || o.hash.Memory < 8*uint32(o.hash.Threads) || o.hash.Time > 100 {
		return nil, fmt.Errorf("access: hash parameters %+v: want time 1 to 100, threads 1 or more, memory at least 8 KiB per thread: %w", o.hash, registry.ErrInvalid)
	}
	if o.cacheSize < 0 || o.concurrency < 1 {
		return nil, fmt.Errorf("access: cache size %d, hash concurrency %d: %w", o.cacheSize, o.concurrency, registry.ErrInvalid)
	}
	st, err := reg.State(Namespace)
	if err != nil {
		return nil, err
	}
	s := &Service{st: st, now: o.now, hash: o.hash, sem: make(chan struct{}, o.concurrency), cache: newAuthCache(o.cacheSize)}
	if _, err := rand.Read(s.salt[:]); err != nil {
		return nil, fmt.Errorf("access: %w: %w", registry.ErrUnavailable, err)
	}
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Authenticate checks a username and password (the admin user's, or a
// token's name and one of its passwords) and returns the subject: the
// stable opaque id SubjectAdmin ("admin") or "token:NAME". Bad
// credentials, a disabled token, and an expired or removed password fail
// with an error wrapping ErrBadCredentials and so errdef.ErrUnauthorized.
//
// A password verified recently is recognized from an in-memory cache in
// about a microsecond (keyed by a salted SHA-256 of username and password,
// never the password itself); the cache entry is checked against the
// current model on every hit, so disabling a token, removing or
// regenerating its password, or replacing the admin user takes effect on
// the next call. Otherwise the password is checked against its argon2id
// hash (tens of milliseconds). Failures are not cached.
func (s *Service) Authenticate(ctx context.Context, username, password string) (subject string, err error) {
	if username == "" || password == "" || len(username) > 50 || len(password) > MaxPasswordLen {
		return "", fmt.Errorf("access: %w", ErrBadCredentials)
	}
	key := s.cacheKey(username, password)
	v := s.view.Load()
	if e, ok := s.cache.get(key); ok {
		if subject, ok := v.check(e, s.now()); ok {
			return subject, nil
		}
		s.cache.remove(key)
	}
	e, err := s.verify(ctx, v, username, password)
	if err != nil {
		return "", err
	}
	s.cache.put(key, e)
	subject, _ = v.check(e, s.now())
	return subject, nil
}

// verify checks credentials against their hashes and returns what to
// cache.
func (s *Service) verify(ctx context.Context, v *view, username, password string) (authEntry, error) {
	if a := v.state.admin; a != nil && strings.EqualFold(a.Username, username) {
		ok, err := s.verifyPassword(ctx, a.Hash, password)
		if err != nil {
			return authEntry{}, err
		}
		if !ok {
			return authEntry{}, fmt.Errorf("access: admin user %s: wrong password: %w", clip(username), ErrBadCredentials)
		}
		return authEntry{admin: true, stamp: a.Hash}, nil
	}
	k := nameKey(username)
	t, ok := v.state.tokens[k]
	if !ok {
		s.spendDecoy(ctx, password)
		return authEntry{}, fmt.Errorf("access: %q is neither a token nor the admin user: %w", clip(username), ErrBadCredentials)
	}
	if t.Status != StatusEnabled {
		s.spendDecoy(ctx, password)
		return authEntry{}, fmt.Errorf("access: token %s is disabled: %w", t.Name, ErrBadCredentials)
	}
	now := s.now()
	expired := false
	for _, sl := range Slots() {
		p := t.Passwords[sl]
		if p == nil {
			continue
		}
		if !p.Expiry.IsZero() && !now.Before(p.Expiry) {
			expired = true
			continue
		}
		ok, err := s.verifyPassword(ctx, p.Hash, password)
		if err != nil {
			return authEntry{}, err
		}
		if ok {
			return authEntry{token: k, slot: sl, stamp: p.Hash}, nil
		}
	}
	if expired {
		return authEntry{}, fmt.Errorf("access: token %s: wrong or expired password: %w", t.Name, ErrBadCredentials)
	}
	return authEntry{}, fmt.Errorf("access: token %s: wrong password: %w", t.Name, ErrBadCredentials)
}

// spendDecoy checks password against a hash nobody's password matches, at
// the cost of a real check.
func (s *Service) spendDecoy(ctx context.Context, password string) {
	s.decoyOnce.Do(func() {
		var b [16]byte
		_, _ = rand.Read(b[:])
		s.decoy, _ = s.hashPassword(ctx, hex.EncodeToString(b[:]))
	})
	if s.decoy != "" {
		_, _ = s.verifyPassword(ctx, s.decoy, password)
	}
}

// check reports whether a cached verification still holds in v at now,
// and for whom.
func (v *view) check(e authEntry, now time.Time) (string, bool) {
	if e.admin {
		a := v.state.admin
		return SubjectAdmin, a != nil && a.Hash == e.stamp
	}
	t, ok := v.state.tokens[e.token]
	if !ok || t.Status != StatusEnabled {
		return "", false
	}
	p := t.Passwords[e.slot]
	if p == nil || p.Hash != e.stamp || (!p.Expiry.IsZero() && !now.Before(p.Expiry)) {
		return "", false
	}
	return tokenSubject + t.Name, true
}

func (s *Service) cacheKey(username, password string) [32]byte {
	h := sha256.New()
	h.Write(s.salt[:])
	h.Write([]byte(strings.ToLower(username)))
	h.Write([]byte{0})
	h.Write([]byte(password))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// adminActions are the admin user's rights on every repository: all.
var adminActions = actionSet(1<<len(allActions) - 1)

// anonymousActions are what anonymous pull grants on every repository.
var anonymousActions = ContentRead.bit() | MetadataRead.bit()

// Allowed returns the actions subject holds now on repository, in the
// order of Actions(). The repository "" asks for registry-level rights:
// the catalog, returned as ActionCatalog, for the admin user (and, with
// anonymous pull enabled, the anonymous caller). Subject "" is the
// anonymous caller: with anonymous pull enabled it holds content/read and
// metadata/read on every repository (pull, list tags and manifests, read
// properties, as ACR's anonymous pull allows), otherwise nothing. A token holds what
// its scope map's rules matching the repository grant together, whether or
// not the repository exists. A disabled, deleted or unknown token, and an
// unknown subject, hold nothing (nil, nil).
//
// Allowed reads only memory (no transaction, no allocation beyond the
// returned slice) and sees every change this Service committed before.
func (s *Service) Allowed(ctx context.Context, subject, repository string) ([]Action, error) {
	set, err := s.allowed(ctx, subject, repository)
	return set.list(), err
}

// allowed is Allowed as a set, with catalogBit for ActionCatalog.
func (s *Service) allowed(ctx context.Context, subject, repository string) (actionSet, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	v := s.view.Load()
	switch {
	case subject == "":
		switch {
		case !v.state.anonymous:
			return 0, nil
		case repository == "":
			return catalogBit, nil
		}
		return anonymousActions, nil
	case subject == SubjectAdmin:
		if v.state.admin == nil {
			return 0, nil
		}
		if repository == "" {
			return catalogBit, nil
		}
		return adminActions, nil
	}
	name, ok := TokenName(subject)
	if !ok || repository == "" {
		return 0, nil
	}
	t, ok := v.state.tokens[nameKey(name)]
	if !ok || t.Status != StatusEnabled {
		return 0, nil
	}
	m := v.matchers[nameKey(t.ScopeMap)]
	if m == nil {
		return 0, nil
	}
	return m.match(repository), nil
}
