package registry

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
	orasreg "oras.land/oras-go/v2/registry"
)

// ErrCacheRuleUnknown is the error of a cache rule name no rule has.
var ErrCacheRuleUnknown error = errdef.New("cache rule unknown", ErrNotFound)

// MaxCacheRules is how many cache rules a registry holds, as many as ACR
// allows.
const MaxCacheRules = 1000

// CacheRule makes a local repository, or every repository under a prefix, a
// pull-through cache of an upstream repository (ACR's cache rules; the
// pull-through proxies of distribution and zot). A pull of a tag or digest
// the repository lacks fetches the artifact from the upstream, stores it
// and serves it; see the package documentation, "Artifact cache".
//
// The rule's credentials, when set, are those the registry presents to the
// upstream. The registry must be able to present them, so Username and
// Password are stored as given, in clear, in the metadata store: protect
// the store as a credentials file, or name a CredentialSet that the host
// resolves (WithCacheCredentials) from a secret store at each use instead.
type CacheRule struct {
	// Name identifies the rule: 1 to 50 letters, digits and '-', starting
	// with a letter or digit.
	Name string `json:"name"`
	// TargetRepository is the local repository ("ubuntu", "lib/app") or a
	// wildcard ("hub/*": every repository under "hub/", at any depth).
	TargetRepository string `json:"targetRepository"`
	// SourceRepository is the upstream repository, "host[:port]/path"
	// ("docker.io/library/ubuntu"), with a trailing "/*" when the target
	// is a wildcard: the part of a local name under the target's prefix
	// replaces the "*" ("hub/*" to "docker.io/*" serves hub/library/ubuntu
	// from docker.io/library/ubuntu).
	SourceRepository string `json:"sourceRepository"`
	// Username and Password are credentials for the upstream (Basic, and
	// the Bearer token flow), stored as given. Both or neither.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// CredentialSet names credentials the host resolves at use through
	// WithCacheCredentials (ACR's credentialSetResourceId). Not with
	// Username and Password.
	CredentialSet string `json:"credentialSet,omitempty"`
	// PlainHTTP talks HTTP to an upstream without TLS.
	PlainHTTP bool `json:"plainHttp,omitempty"`
	// CreatedAt and UpdatedAt are set by the registry.
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// cacheRulesSetting names the setting in the metadata store.
const cacheRulesSetting = "cacheRules"

// validate checks a rule on its own.
func (c *CacheRule) validate() error {
	if !validRuleName(c.Name) {
		return errorf(ErrInvalid, "cache rule name %q: want 1 to 50 letters, digits and '-', starting with a letter or digit", truncate(c.Name))
	}
	tgt, wild := strings.CutSuffix(c.TargetRepository, "/*")
	if err := ValidateName(tgt); err != nil {
		return errorf(ErrInvalid, "cache rule %q: target repository %q: %w", c.Name, truncate(c.TargetRepository), err)
	}
	src, srcWild := strings.CutSuffix(c.SourceRepository, "/*")
	if wild != srcWild {
		return errorf(ErrInvalid, "cache rule %q: the target and the source must both end in /* or neither", c.Name)
	}
	ref, err := orasreg.ParseReference(src + "/x")
	if !wild {
		ref, err = orasreg.ParseReference(src)
	}
	if err != nil || ref.Reference != "" || !wild && !strings.Contains(src, "/") {
		return errorf(ErrInvalid, "cache rule %q: source repository %q: want host[:port]/repository", c.Name, truncate(c.SourceRepository))
	}
	if (c.Username == "") != (c.Password == "") {
		return errorf(ErrInvalid, "cache rule %q: set both username and password, or neither", c.Name)
	}
	if c.CredentialSet != "" && c.Username != "" {
		return errorf(ErrInvalid, "cache rule %q: a credential set or a username and password, not both", c.Name)
	}
	return nil
}

func validRuleName(s string) bool {
	if s == "" || len(s) > 50 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// CacheRules returns the cache rules, by name, credentials included.
func (r *Registry) CacheRules(ctx context.Context) ([]CacheRule, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer r.leave()
	var rules []CacheRule
	err := r.view(ctx, func(tx meta.Tx) error {
		rules = nil
		_, err := schema.Settings.Get(tx, cacheRulesSetting, &rules)
		return err
	})
	return rules, err
}

// SetCacheRule creates the rule, or replaces the one of the same name, and
// returns it as stored. A rule whose target repository another rule has
// fails with an error wrapping ErrAlreadyExists; an invalid one with
// ErrInvalid. Content cached under a replaced rule stays.
func (r *Registry) SetCacheRule(ctx context.Context, rule CacheRule) (CacheRule, error) {
	if err := r.enter(); err != nil {
		return CacheRule{}, err
	}
	defer r.leave()
	if err := rule.validate(); err != nil {
		return CacheRule{}, err
	}
	r.settingsMu.Lock()
	defer r.settingsMu.Unlock()
	var stored []CacheRule
	err := r.update(ctx, func(t *txn) error {
		var rules []CacheRule
		if _, err := schema.Settings.Get(t, cacheRulesSetting, &rules); err != nil {
			return err
		}
		rule.CreatedAt, rule.UpdatedAt = t.now, t.now
		i := slices.IndexFunc(rules, func(c CacheRule) bool { return c.Name == rule.Name })
		for _, c := range rules {
			if c.Name != rule.Name && c.TargetRepository == rule.TargetRepository {
				return errorf(ErrAlreadyExists, "cache rule %q: rule %q has target %q", rule.Name, c.Name, c.TargetRepository)
			}
		}
		switch {
		case i >= 0:
			rule.CreatedAt = rules[i].CreatedAt
			rules[i] = rule
		case len(rules) >= MaxCacheRules:
			return errorf(ErrTooLarge, "cache rule %q: the registry holds %d rules already", rule.Name, MaxCacheRules)
		default:
			rules = append(rules, rule)
			slices.SortFunc(rules, func(a, b CacheRule) int { return strings.Compare(a.Name, b.Name) })
		}
		stored = rules
		return schema.Settings.Put(t, cacheRulesSetting, rules)
	})
	if err != nil {
		return CacheRule{}, err
	}
	r.cacheRules.Store(compileCacheRules(stored))
	return rule, nil
}

// DeleteCacheRule removes the rule called name (ErrCacheRuleUnknown when
// there is none). What the rule cached stays, as ordinary content.
func (r *Registry) DeleteCacheRule(ctx context.Context, name string) error {
	if err := r.enter(); err != nil {
		return err
	}
	defer r.leave()
	r.settingsMu.Lock()
	defer r.settingsMu.Unlock()
	var stored []CacheRule
	err := r.update(ctx, func(t *txn) error {
		var rules []CacheRule
		if _, err := schema.Settings.Get(t, cacheRulesSetting, &rules); err != nil {
			return err
		}
		i := slices.IndexFunc(rules, func(c CacheRule) bool { return c.Name == name })
		if i < 0 {
			return errorf(ErrCacheRuleUnknown, "%q", truncate(name))
		}
		rules = slices.Delete(rules, i, i+1)
		stored = rules
		return schema.Settings.Put(t, cacheRulesSetting, rules)
	})
	if err != nil {
		return err
	}
	r.cacheRules.Store(compileCacheRules(stored))
	return nil
}

// loadCacheRules reads the stored cache rules, at New.
func (r *Registry) loadCacheRules(ctx context.Context) error {
	var rules []CacheRule
	err := r.meta.View(ctx, func(tx meta.Tx) error {
		rules = nil
		_, err := schema.Settings.Get(tx, cacheRulesSetting, &rules)
		return err
	})
	if err != nil {
		return err
	}
	r.cacheRules.Store(compileCacheRules(rules))
	return nil
}

// cacheRuleSet is the rules in force, ready to match; nil when there are
// none, so that a registry without rules pays one atomic load per pull.
type cacheRuleSet struct {
	exact map[string]*CacheRule
	// wild are the wildcard rules, longest prefix first.
	wild []wildRule
	// upstreams are the upstream targets made so far, by rule and
	// upstream repository: they keep their auth tokens between fetches.
	upstreams *upstreamCache
}

type wildRule struct {
	prefix string // the target without "*": "hub/"
	rule   *CacheRule
}

func compileCacheRules(rules []CacheRule) *cacheRuleSet {
	if len(rules) == 0 {
		return nil
	}
	s := &cacheRuleSet{exact: map[string]*CacheRule{}, upstreams: newUpstreamCache()}
	for i := range rules {
		c := &rules[i]
		if p, ok := strings.CutSuffix(c.TargetRepository, "*"); ok {
			s.wild = append(s.wild, wildRule{prefix: p, rule: c})
		} else {
			s.exact[c.TargetRepository] = c
		}
	}
	slices.SortFunc(s.wild, func(a, b wildRule) int { return len(b.prefix) - len(a.prefix) })
	return s
}

// match returns the rule covering repository name and the length of the
// name's part the rule's target matched (-1 for an exact rule). An exact
// rule wins over wildcards, a longer prefix over a shorter.
func (s *cacheRuleSet) match(name string) (*CacheRule, int, bool) {
	if c, ok := s.exact[name]; ok {
		return c, -1, true
	}
	for _, w := range s.wild {
		if strings.HasPrefix(name, w.prefix) {
			return w.rule, len(w.prefix), true
		}
	}
	return nil, 0, false
}

// upstreamOf maps repository name to its upstream repository under rule
// (as match found it).
func upstreamOf(rule *CacheRule, name string, matched int) string {
	if matched < 0 {
		return rule.SourceRepository
	}
	return strings.TrimSuffix(rule.SourceRepository, "*") + name[matched:]
}
