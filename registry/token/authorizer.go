package token

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
// Every refusal is a challenge (401), as ACR answers: a token without the
// needed claim, and an identity (by token or Basic) without the right, get
// error="insufficient_scope" and the scope they lack, in ACR's vocabulary
// where the right is one of ACR's (a tag list with a pull-only token:
// "repository:NAME:metadata_read"); the anonymous caller gets the scope the
// request needs. The repository is never looked up, so the answers are the
// same whether it exists or not.
func (s *Service) Authorizer() httpapi.Authorizer { return authorizer{s} }

type authorizer struct{ s *Service }

// AuthError is the error the Authorizer answers a refused request with:
// a challenge and the reason. It wraps the *httpapi.Challenge (so
// errors.As finds it and the status is 401); an AuthError without a
// challenge (not one the Authorizer makes) wraps errdef.ErrDenied (403).
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

// need is what one request needs, in rights and in claims, as bit sets
// over rightNames (so that working it out allocates nothing on the hot
// path of every request).
type need struct {
	kind   int  // needBase, needCatalog, needRepo
	rights bits // rights the Authority must give
	oci    bits // claim actions from the OCI vocabulary (pull, push, delete)
	acr    bits // claim actions from ACR's vocabulary, by their right
	ok     bool // every action was understood
}

const (
	needBase = iota
	needCatalog
	needRepo
)

// bits is a set of rights, bit i standing for rightNames[i].
type bits uint16

// rightNames are the rights in the order of claimRight, then the catalog.
var rightNames = [...]string{
	RightContentRead, RightContentWrite, RightContentDelete,
	RightMetadataRead, RightMetadataWrite, RightDeletedRead, RightDeletedRestore,
	RightCatalog,
}

// rightBit returns the bit of a right, or 0 when it is none.
func rightBit(right string) bits {
	for i, r := range rightNames {
		if r == right {
			return 1 << i
		}
	}
	return 0
}

// claimBit returns the bit of the right a claim action needs, or 0.
func claimBit(claim string) bits {
	for i, p := range claimRight {
		if p[0] == claim {
			return 1 << i
		}
	}
	return 0
}

// ociBit returns the bit of the right an OCI action needs, or 0 when a is
// not one of the OCI actions.
func ociBit(a httpapi.Action) bits {
	switch a {
	case httpapi.ActionPull:
		return rightBit(RightContentRead)
	case httpapi.ActionPush:
		return rightBit(RightContentWrite)
	case httpapi.ActionDelete:
		return rightBit(RightContentDelete)
	}
	return 0
}

// setOf returns the set of the rights in held (unknown ones left out).
func setOf(held []string) bits {
	var b bits
	for _, r := range held {
		b |= rightBit(r)
	}
	return b
}

// claims returns the claim actions of the rights in b, in rightNames order.
func (b bits) claims() []string {
	var out []string
	for i, p := range claimRight {
		if b&(1<<i) != 0 {
			out = append(out, p[0])
		}
	}
	return out
}

func needOf(a httpapi.Access) need {
	n := need{ok: true}
	switch {
	case a.Repository == "" && len(a.Actions) == 0:
		n.kind = needBase
		return n
	case a.Repository == "":
		n.kind = needCatalog
		n.rights = rightBit(RightCatalog)
		return n
	}
	n.kind = needRepo
	var ociRights bits
	for _, x := range a.Actions {
		if b := ociBit(x); b != 0 {
			n.oci |= b
			ociRights |= b
			continue
		}
		// ACR's vocabulary: a right ("metadata/write") or its claim
		// ("metadata_write").
		b := rightBit(string(x))
		if b == 0 || b == rightBit(RightCatalog) {
			b = claimBit(string(x))
		}
		if b == 0 {
			n.ok = false // unknown action: nobody holds it
			continue
		}
		n.acr |= b
		n.rights |= b
	}
	if n.rights == 0 {
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
	if acts == 0 || (acrPath && n.acr != 0) {
		acts = n.acr
	}
	return "repository:" + a.Repository + ":" + strings.Join(acts.claims(), ",")
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
	all := func(acts bits) bool {
		if acts == 0 {
			return false
		}
		for i, p := range claimRight {
			if acts&(1<<i) != 0 && !c.Allows("repository", repo, p[0]) {
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
	return n.kind == needRepo && n.ok && n.rights == rightBit(RightContentRead)
}

func (z authorizer) Authorize(ctx context.Context, r *http.Request, a httpapi.Access) error {
	s := z.s
	n := needOf(a)
	service := s.serviceFor(r)
	challenge := func(reason, detail string) *AuthError {
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
				if held, err := s.authority.Allowed(ctx, "", a.Repository); err == nil && setOf(held)&n.rights == n.rights {
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
	missing := n.rights &^ setOf(held)
	if n.ok && missing == 0 {
		return nil
	}
	if subject == "" {
		return challenge("authentication_required", "authentication required for "+describe(n, a))
	}
	// An identity without the right is challenged for what it lacks, in
	// ACR's vocabulary ("metadata_read" for a tag list with a pull-only
	// token), as ACR answers.
	ch := challenge("insufficient_scope", "the identity does not hold "+describe(n, a))
	if n.kind == needRepo && n.ok {
		ch.Challenge.Scope = "repository:" + a.Repository + ":" + strings.Join(missing.claims(), ",")
	}
	return ch
}

// bearerError is the RFC 6750 error code a challenge carries for reason.
func bearerError(reason string) string {
	switch reason {
	case "invalid_token", "insufficient_scope":
		return reason
	}
	return ""
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
