package token

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/httpapi"
)

// Authorizer returns the httpapi.Authorizer that enforces the Service's
// tokens on /v2/ and /acr/v1/ requests:
//
//   - "Authorization: Bearer" with an access token: the signature (by a key
//     of the ring), expiry, issuer and audience are checked, then the
//     request's access against the token's claims and against what the
//     Authority gives the token's subject now, so a disabled identity or a
//     narrowed scope map bites on the next request.
//   - "Authorization: Basic", as ACR accepts on every request: the
//     Authority authenticates the pair (or the null username carries a
//     refresh token), then the subject's rights are checked.
//   - No credentials: only pulls the anonymous caller holds proceed. The
//     /v2/ check, the catalog, metadata reads, and every write and delete
//     get a Bearer challenge naming the scope they need, so a client's
//     body-less probe is answered 401 before any write happens.
//
// A token without the needed claim gets a challenge (401, insufficient
// scope), as ACR answers; an authenticated subject without the right gets
// 403 DENIED; the anonymous caller gets a challenge. The repository is
// never looked up, so the answers are the same whether it exists or not.
func (s *Service) Authorizer() httpapi.Authorizer { return authorizer{s} }

type authorizer struct{ s *Service }

// AuthError is the error the Authorizer answers a refused request with:
// a challenge and the reason. It wraps the *httpapi.Challenge (so
// errors.As finds it and the status is 401) or, with no challenge,
// errdef.ErrDenied (403).
type AuthError struct {
	// Challenge is set when the client should (re)authenticate.
	Challenge *httpapi.Challenge
	// Reason is "invalid_token", "insufficient_scope", "invalid_credentials",
	// "authentication_required" or "denied".
	Reason string
	// Detail explains the refusal without naming what the caller may not see.
	Detail string
}

// Error returns the reason and detail.
func (e *AuthError) Error() string { return e.Reason + ": " + e.Detail }

// Unwrap returns the challenge, or errdef.ErrDenied.
func (e *AuthError) Unwrap() error {
	if e.Challenge != nil {
		return e.Challenge
	}
	return errdef.ErrDenied
}

// need is what one request needs, in rights and in claims.
type need struct {
	kind   int      // needBase, needCatalog, needRepo
	rights []string // rights the Authority must give
	oci    []string // claim actions from the OCI vocabulary
	acr    []string // claim actions from ACR's vocabulary
	ok     bool     // every action was understood
}

const (
	needBase = iota
	needCatalog
	needRepo
)

// ociClaim maps the OCI actions to claims and rights.
var ociClaim = map[httpapi.Action][2]string{
	httpapi.ActionPull:   {ClaimPull, RightContentRead},
	httpapi.ActionPush:   {ClaimPush, RightContentWrite},
	httpapi.ActionDelete: {ClaimDelete, RightContentDelete},
}

func needOf(a httpapi.Access) need {
	n := need{ok: true}
	switch {
	case a.Repository == "" && len(a.Actions) == 0:
		n.kind = needBase
		return n
	case a.Repository == "":
		n.kind = needCatalog
		n.rights = []string{RightCatalog}
		return n
	}
	n.kind = needRepo
	var ociRights []string
	for _, x := range a.Actions {
		act := string(x)
		if p, ok := ociClaim[x]; ok {
			n.oci = append(n.oci, p[0])
			ociRights = append(ociRights, p[1])
			continue
		}
		// ACR's vocabulary: a right ("metadata/write") or its claim
		// ("metadata_write").
		right, claim := act, claimFor(act)
		if claim == "" {
			right, claim = rightFor(act), act
		}
		if right == "" {
			n.ok = false // unknown action: nobody holds it
			continue
		}
		n.acr = append(n.acr, claim)
		n.rights = append(n.rights, right)
	}
	if len(n.rights) == 0 {
		n.rights = ociRights
	}
	return n
}

// scope renders what the request needs as a challenge scope: ACR's
// vocabulary on /acr/ paths (as ACR names metadata_write there), the OCI
// one elsewhere.
func (n need) scope(a httpapi.Access, acrPath bool) string {
	switch n.kind {
	case needBase:
		return ""
	case needCatalog:
		return "registry:catalog:*"
	}
	acts := n.oci
	if len(acts) == 0 || (acrPath && len(n.acr) > 0) {
		acts = n.acr
	}
	return "repository:" + a.Repository + ":" + strings.Join(acts, ",")
}

// claimsAllow reports whether a token's claims cover the request: all of
// its OCI claim actions or all of its ACR ones.
func (n need) claimsAllow(c *Claims, repo string) bool {
	switch n.kind {
	case needBase:
		return true
	case needCatalog:
		return c.Allows("registry", "catalog", ClaimAll)
	}
	all := func(acts []string) bool {
		if len(acts) == 0 {
			return false
		}
		for _, a := range acts {
			if !c.Allows("repository", repo, a) {
				return false
			}
		}
		return true
	}
	return n.ok && (all(n.oci) || all(n.acr))
}

// anonymousPull reports whether a request without credentials may proceed
// on the anonymous caller's rights: only pulls of content.
func (n need) anonymousPull() bool {
	if n.kind != needRepo || !n.ok {
		return false
	}
	for _, r := range n.rights {
		if r != RightContentRead {
			return false
		}
	}
	return len(n.rights) > 0
}

func (z authorizer) Authorize(ctx context.Context, r *http.Request, a httpapi.Access) error {
	s := z.s
	n := needOf(a)
	service := s.serviceFor(r)
	challenge := func(reason, detail string) error {
		return &AuthError{
			Challenge: &httpapi.Challenge{
				Scheme:    "Bearer",
				Realm:     s.realmFor(r),
				Service:   service,
				Scope:     n.scope(a, strings.HasPrefix(r.URL.Path, "/acr/")),
				ErrorCode: bearerError(reason),
			},
			Reason: reason,
			Detail: detail,
		}
	}
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	var subject string
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		c, err := s.Verify(strings.TrimSpace(cred), service)
		if err != nil {
			return challenge("invalid_token", err.Error())
		}
		if !n.claimsAllow(c, a.Repository) {
			// A token never gives less than no token: a pull the anonymous
			// caller may make passes (a cross-repository mount's source
			// read, with a token scoped to the target only).
			if n.anonymousPull() {
				if held, err := s.authority.Allowed(ctx, "", a.Repository); err == nil && containsAll(held, n.rights) {
					return nil
				}
			}
			return challenge("insufficient_scope", "the token does not grant "+describe(n, a))
		}
		subject = c.Subject
	case strings.EqualFold(scheme, "Basic"):
		user, pass, ok := r.BasicAuth()
		if !ok {
			return challenge("invalid_credentials", "malformed Basic credentials")
		}
		sub, err := s.authenticate(ctx, service, user, pass)
		if errors.Is(err, errdef.ErrUnauthorized) {
			return challenge("invalid_credentials", "unknown user or wrong password")
		}
		if err != nil {
			return err
		}
		subject = sub
	default:
		if !n.anonymousPull() {
			return challenge("authentication_required", "authentication required for "+describe(n, a))
		}
	}
	if n.kind == needBase {
		return nil
	}
	held, err := s.authority.Allowed(ctx, subject, a.Repository)
	if errors.Is(err, errdef.ErrUnauthorized) {
		return challenge("invalid_token", "the identity is no longer valid")
	}
	if err != nil {
		return fmt.Errorf("token: rights of %q: %w", subject, err)
	}
	if n.ok && containsAll(held, n.rights) {
		return nil
	}
	if subject == "" {
		return challenge("authentication_required", "authentication required for "+describe(n, a))
	}
	return &AuthError{Reason: "denied", Detail: "requested access to the resource is denied"}
}

// bearerError is the RFC 6750 error code a challenge carries for reason.
func bearerError(reason string) string {
	switch reason {
	case "invalid_token", "insufficient_scope":
		return reason
	}
	return ""
}

func containsAll(held, want []string) bool {
	for _, w := range want {
		if !slices.Contains(held, w) {
			return false
		}
	}
	return true
}

// describe names what a request needs, for error messages.
func describe(n need, a httpapi.Access) string {
	switch n.kind {
	case needBase:
		return "the registry"
	case needCatalog:
		return "the catalog"
	}
	return n.scope(a, false)
}
