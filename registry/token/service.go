package token

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry"
)

// Defaults, as ACR issues them: access tokens live 75 minutes, refresh
// tokens 3 hours.
const (
	DefaultLifetime        = 75 * time.Minute
	DefaultRefreshLifetime = 3 * time.Hour
	// DefaultIssuer is the "iss" claim unless WithIssuer says otherwise.
	DefaultIssuer = "regkit"
	// NullUsername is the username (ACR's null GUID) that marks the password
	// as a refresh token, as docker login does with an ACR refresh token.
	NullUsername = "00000000-0000-0000-0000-000000000000"
	// maxTokenLength bounds a token the Service will try to parse.
	maxTokenLength = 16 << 10
	// maxCached bounds the verified-token cache.
	maxCached = 8192
)

// Service issues and verifies the registry's tokens. Build one with New.
// It is safe for concurrent use.
type Service struct {
	authority       Authority
	verifier        IdentityVerifier
	keys            *keyring
	service         string
	realm           string
	issuer          string
	lifetime        time.Duration
	refreshLifetime time.Duration
	now             func() time.Time
	parser          *jwt.Parser
	cache           tokenCache
}

// Option configures a Service.
type Option func(*Service)

// WithAuthority sets where identities and rights come from. Without it no
// credentials authenticate and the anonymous caller holds nothing.
func WithAuthority(a Authority) Option { return func(s *Service) { s.authority = a } }

// WithKeyDir keeps the signing keys in dir (created with mode 0700; each key
// a PKCS#8 PEM file of mode 0600 named after its kid). A first key is made
// when the folder has none. Without it keys live in memory and tokens die
// with the process.
func WithKeyDir(dir string) Option { return func(s *Service) { s.keys.store = dirStore{dir} } }

// WithKeyState keeps the signing keys in a registry's metadata store, under
// st (a namespace of the host's choosing, e.g. reg.State("token")), in place
// of a folder. Every frontend of a registry whose metadata store is shared
// (registry/meta/postgres, registry.WithSharedStore) then signs with the
// same newest key and verifies the others' tokens: a rotation by one is
// read by the rest within a minute, and a token signed by a key not yet
// known makes a Service reread the keys at once. The private keys are then
// as safe as the metadata store: whoever can write it can mint tokens.
func WithKeyState(st *registry.State) Option {
	return func(s *Service) { s.keys.store = stateStore{st} }
}

// WithAlgorithm sets the algorithm of new keys (default ES256). Keys already
// in the folder keep theirs.
func WithAlgorithm(a Algorithm) Option { return func(s *Service) { s.keys.alg = a } }

// WithService sets the service name, the audience of every token. Default:
// the Host of each request, lower-cased.
func WithService(name string) Option { return func(s *Service) { s.service = name } }

// WithRealm sets the realm of Bearer challenges, the absolute URL of the
// token endpoint. Default: built from each request's scheme and host
// ("https://HOST/oauth2/token"; https when the request came over TLS or
// says so in X-Forwarded-Proto).
func WithRealm(url string) Option { return func(s *Service) { s.realm = url } }

// WithIssuer sets the "iss" claim (default DefaultIssuer).
func WithIssuer(iss string) Option { return func(s *Service) { s.issuer = iss } }

// WithLifetime sets how long access tokens live (default DefaultLifetime).
func WithLifetime(d time.Duration) Option { return func(s *Service) { s.lifetime = d } }

// WithRefreshLifetime sets how long refresh tokens live (default
// DefaultRefreshLifetime).
func WithRefreshLifetime(d time.Duration) Option {
	return func(s *Service) { s.refreshLifetime = d }
}

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithIdentityVerifier enables POST /oauth2/exchange: v turns an identity
// token from the host's identity provider into a subject.
func WithIdentityVerifier(v IdentityVerifier) Option { return func(s *Service) { s.verifier = v } }

// New builds a Service. With WithKeyDir it reads (or creates) the keys.
func New(opts ...Option) (*Service, error) {
	s := &Service{
		authority:       Static{},
		keys:            &keyring{alg: ES256},
		issuer:          DefaultIssuer,
		lifetime:        DefaultLifetime,
		refreshLifetime: DefaultRefreshLifetime,
		now:             time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	if s.lifetime <= 0 || s.refreshLifetime <= 0 {
		return nil, fmt.Errorf("token: lifetimes must be positive: %w", errdef.ErrInvalid)
	}
	if s.authority == nil {
		return nil, fmt.Errorf("token: nil authority: %w", errdef.ErrInvalid)
	}
	s.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{string(ES256), string(EdDSA)}),
		jwt.WithTimeFunc(s.now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(s.issuer),
	)
	if err := s.keys.load(s.now()); err != nil {
		return nil, err
	}
	return s, nil
}

// maxLife is the longest lifetime of any token: how long a retired key
// must keep verifying.
func (s *Service) maxLife() time.Duration { return max(s.lifetime, s.refreshLifetime) }

// Rotate makes a new key the signer. Older keys keep verifying the tokens
// they signed until those expire; keys whose tokens have all expired are
// deleted.
func (s *Service) Rotate() (KeyInfo, error) { return s.keys.rotate(s.now(), s.maxLife()) }

// RemoveKey deletes a retired key at once (a key thought compromised):
// every token it signed stops verifying. The signing key cannot be removed;
// Rotate first. Errors wrap errdef.ErrNotFound or errdef.ErrPrecondition.
func (s *Service) RemoveKey(kid string) error {
	if err := s.keys.remove(kid); err != nil {
		return err
	}
	s.cache.clear()
	return nil
}

// Keys describes the keys, oldest first; the last one signs.
func (s *Service) Keys() []KeyInfo { return s.keys.list() }

// IssueAccess issues an access token for subject ("" is anonymous) with the
// audience service, granting the intersection of scopes and what the
// Authority gives subject now. Asking for more than subject holds is not an
// error: the token grants less.
func (s *Service) IssueAccess(ctx context.Context, subject, service string, scopes []Scope) (string, *Claims, error) {
	grants, err := s.grant(ctx, subject, scopes)
	if err != nil {
		return "", nil, err
	}
	c := s.claims(subject, service, grantAccess, s.lifetime)
	c.Access = grants
	tok, err := s.keys.signerAt(s.now()).sign(c)
	return tok, c, err
}

// IssueRefresh issues a refresh token for subject with the audience service.
func (s *Service) IssueRefresh(subject, service, tenant string) (string, *Claims, error) {
	c := s.claims(subject, service, grantRefresh, s.refreshLifetime)
	c.Tenant = tenant
	tok, err := s.keys.signerAt(s.now()).sign(c)
	return tok, c, err
}

func (s *Service) claims(subject, service, grant string, life time.Duration) *Claims {
	now := s.now()
	var id [16]byte
	_, _ = rand.Read(id[:])
	return &Claims{
		Issuer:    s.issuer,
		Subject:   subject,
		Audience:  service,
		IssuedAt:  now.Unix(),
		NotBefore: now.Unix(),
		ExpiresAt: now.Add(life).Unix(),
		ID:        hex.EncodeToString(id[:]),
		Version:   claimVersion,
		GrantType: grant,
	}
}

// grant intersects scopes with subject's rights.
func (s *Service) grant(ctx context.Context, subject string, scopes []Scope) ([]Grant, error) {
	rights := map[string][]string{}
	held := func(repo string) ([]string, error) {
		if r, ok := rights[repo]; ok {
			return r, nil
		}
		r, err := s.authority.Allowed(ctx, subject, repo)
		if err != nil {
			return nil, err
		}
		rights[repo] = r
		return r, nil
	}
	var out []Grant
	add := func(typ, name string, actions ...string) {
		i := slices.IndexFunc(out, func(g Grant) bool { return g.Type == typ && g.Name == name })
		if i < 0 {
			out = append(out, Grant{Type: typ, Name: name})
			i = len(out) - 1
		}
		for _, a := range actions {
			if !slices.Contains(out[i].Actions, a) {
				out[i].Actions = append(out[i].Actions, a)
			}
		}
	}
	for _, sc := range scopes {
		switch {
		case sc.Type == "registry" && sc.Class == "" && sc.Name == "catalog":
			r, err := held("")
			if err != nil {
				return nil, err
			}
			if slices.Contains(r, RightCatalog) {
				add("registry", "catalog", ClaimAll)
			}
		case sc.Type == "repository" && sc.Class == "":
			r, err := held(sc.Name)
			if err != nil {
				return nil, err
			}
			var acts []string
			for _, a := range sc.Actions {
				for _, p := range claimRight {
					if (a == ClaimAll || a == p[0]) && slices.Contains(r, p[1]) {
						acts = append(acts, p[0])
					}
				}
			}
			if len(acts) > 0 {
				add("repository", sc.Name, acts...)
			}
		}
	}
	for i := range out {
		slices.SortFunc(out[i].Actions, func(a, b string) int { return claimOrder(a) - claimOrder(b) })
	}
	return out, nil
}

func claimOrder(a string) int {
	for i, p := range claimRight {
		if p[0] == a {
			return i
		}
	}
	return len(claimRight)
}

// Verify checks an access token: signature by a known key, expiry,
// issuer, and audience service. Errors wrap ErrUnauthorized.
func (s *Service) Verify(tok, service string) (*Claims, error) {
	if c, ok := s.cache.get(s, tok, service); ok {
		return c, nil
	}
	c, kid, err := s.parse(tok, service, grantAccess)
	if err != nil {
		return nil, err
	}
	s.cache.put(tok, c, kid)
	return c, nil
}

// verifyRefresh checks a refresh token and returns its subject.
func (s *Service) verifyRefresh(tok, service string) (*Claims, error) {
	c, _, err := s.parse(tok, service, grantRefresh)
	return c, err
}

func (s *Service) parse(tok, service, grant string) (*Claims, string, error) {
	if len(tok) > maxTokenLength {
		return nil, "", fmt.Errorf("token: longer than %d bytes: %w", maxTokenLength, ErrUnauthorized)
	}
	c := new(Claims)
	var kid string
	_, err := s.parser.ParseWithClaims(tok, c, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		k := s.keys.lookup(kid)
		if k == nil {
			k = s.keys.reloadFor(kid, s.now())
		}
		if k == nil {
			return nil, errors.New("signed by an unknown key")
		}
		if t.Method.Alg() != k.method.Alg() {
			return nil, errors.New("algorithm does not match the key")
		}
		return k.pub, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("token: %w: %w", ErrUnauthorized, err)
	}
	switch {
	case c.GrantType != grant:
		return nil, "", fmt.Errorf("token: a %s where a %s was expected: %w", c.GrantType, grant, ErrUnauthorized)
	case !strings.EqualFold(c.Audience, service):
		return nil, "", fmt.Errorf("token: issued for service %q, not %q: %w", clip(c.Audience), clip(service), ErrUnauthorized)
	}
	return c, kid, nil
}

// tokenCache remembers verified access tokens, so that the many requests
// of one pull pay for one signature check. Entries are re-checked for
// expiry, audience and the key's presence on every use.
type tokenCache struct {
	mu sync.RWMutex
	m  map[string]cached
}

type cached struct {
	c   *Claims
	kid string
}

func (tc *tokenCache) get(s *Service, tok, service string) (*Claims, bool) {
	tc.mu.RLock()
	e, ok := tc.m[tok]
	tc.mu.RUnlock()
	if !ok {
		return nil, false
	}
	now := s.now().Unix()
	if now >= e.c.ExpiresAt || now < e.c.NotBefore || !strings.EqualFold(e.c.Audience, service) || s.keys.lookup(e.kid) == nil {
		return nil, false
	}
	return e.c, true
}

func (tc *tokenCache) put(tok string, c *Claims, kid string) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.m == nil || len(tc.m) >= maxCached {
		tc.m = make(map[string]cached)
	}
	tc.m[tok] = cached{c: c, kid: kid}
}

func (tc *tokenCache) clear() {
	tc.mu.Lock()
	tc.m = nil
	tc.mu.Unlock()
}

// serviceFor returns the service name for a request.
func (s *Service) serviceFor(r *http.Request) string {
	if s.service != "" {
		return s.service
	}
	return strings.ToLower(r.Host)
}

// realmFor returns the realm (token endpoint URL) for a request.
func (s *Service) realmFor(r *http.Request) string {
	if s.realm != "" {
		return s.realm
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/oauth2/token"
}

// authenticate checks a username and password: the null username carries a
// refresh token, anything else goes to the Authority.
func (s *Service) authenticate(ctx context.Context, service, username, password string) (string, error) {
	if username == NullUsername {
		c, err := s.verifyRefresh(password, service)
		if err != nil {
			return "", err
		}
		return c.Subject, nil
	}
	sub, err := s.authority.Authenticate(ctx, username, password)
	if err != nil {
		return "", err
	}
	return sub, nil
}
