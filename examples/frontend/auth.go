package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/regkit/regkit/registry/httpapi"
)

// The headers the upstream proxy sets.
const (
	headerUser      = "X-Frontend-User"
	headerGroups    = "X-Frontend-Groups"
	headerExpires   = "X-Frontend-Expires"
	headerSignature = "X-Frontend-Signature"
)

// errBadSignature is why a request's identity headers are refused.
var errBadSignature = errors.New("frontend: missing, expired or invalid identity signature")

// identity is a caller as the proxy vouched for them.
type identity struct {
	User   string   `json:"user"`
	Groups []string `json:"groups"`
}

// signer signs and verifies identity headers with a shared secret.
type signer struct {
	secret []byte
	now    func() time.Time
}

func (s signer) mac(user, groups, expires string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(user + "\n" + groups + "\n" + expires))
	return m.Sum(nil)
}

// sign sets the identity headers on h, valid for ttl.
func (s signer) sign(h http.Header, id identity, ttl time.Duration) {
	groups := strings.Join(id.Groups, ",")
	exp := strconv.FormatInt(s.now().Add(ttl).Unix(), 10)
	h.Set(headerUser, id.User)
	h.Set(headerGroups, groups)
	h.Set(headerExpires, exp)
	h.Set(headerSignature, hex.EncodeToString(s.mac(id.User, groups, exp)))
}

// verify returns the identity the headers of r carry, or errBadSignature.
func (s signer) verify(r *http.Request) (identity, error) {
	user, groups, exp := r.Header.Get(headerUser), r.Header.Get(headerGroups), r.Header.Get(headerExpires)
	sig, err := hex.DecodeString(r.Header.Get(headerSignature))
	if err != nil || user == "" || !hmac.Equal(sig, s.mac(user, groups, exp)) {
		return identity{}, errBadSignature
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !s.now().Before(time.Unix(unix, 0)) {
		return identity{}, errBadSignature
	}
	id := identity{User: user}
	for _, g := range strings.Split(groups, ",") {
		if g = strings.TrimSpace(g); g != "" {
			id.Groups = append(id.Groups, g)
		}
	}
	return id, nil
}

// groupAuthorizer is the frontend's httpapi.Authorizer: pulls for anyone
// signed in, writes under the caller's own namespaces, the catalog for the
// admin group.
type groupAuthorizer struct {
	signer     signer
	adminGroup string
}

// Authorize implements httpapi.Authorizer.
func (a groupAuthorizer) Authorize(_ context.Context, r *http.Request, acc httpapi.Access) error {
	id, err := a.signer.verify(r)
	if err != nil {
		// 401: the proxy did not vouch for this request.
		return &httpapi.Challenge{Scheme: "Basic", Realm: "frontend"}
	}
	if acc.Repository == "" {
		if len(acc.Actions) == 0 || a.isAdmin(id) {
			return nil // the /v2/ check, or the catalog for an admin
		}
		return fmt.Errorf("%w: %s may not list the catalog", httpapi.ErrDenied, id.User)
	}
	for _, act := range acc.Actions {
		if isRead(act) {
			continue
		}
		if !a.mayWrite(id, acc.Repository) {
			return fmt.Errorf("%w: %s may not %s %s", httpapi.ErrDenied, id.User, act, acc.Repository)
		}
	}
	return nil
}

func (a groupAuthorizer) isAdmin(id identity) bool {
	for _, g := range id.Groups {
		if g == a.adminGroup {
			return true
		}
	}
	return false
}

// namespaces are the repository prefixes id may write under.
func (a groupAuthorizer) namespaces(id identity) []string {
	ns := []string{"users/" + id.User + "/"}
	for _, g := range id.Groups {
		ns = append(ns, g+"/")
	}
	return ns
}

func (a groupAuthorizer) mayWrite(id identity, repo string) bool {
	for _, p := range a.namespaces(id) {
		if strings.HasPrefix(repo, p) {
			return true
		}
	}
	return false
}

func isRead(a httpapi.Action) bool {
	switch a {
	case httpapi.ActionPull, httpapi.ActionContentRead, httpapi.ActionMetadataRead:
		return true
	}
	return false
}
