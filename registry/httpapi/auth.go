package httpapi

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/regkit/regkit/internal/errdef"
)

// Action is something a request wants to do to a repository.
type Action string

// The OCI token-scope actions and ACR's repository permissions. Each request
// asks for one OCI action and the matching ACR one, so an Authorizer can
// speak either vocabulary.
const (
	ActionPull   Action = "pull"
	ActionPush   Action = "push"
	ActionDelete Action = "delete"

	ActionContentRead   Action = "content/read"
	ActionContentWrite  Action = "content/write"
	ActionContentDelete Action = "content/delete"
	ActionMetadataRead  Action = "metadata/read"
	ActionMetadataWrite Action = "metadata/write"

	// ACR's soft-delete permissions: list soft-deleted items, restore
	// them.
	ActionDeletedRead    Action = "deleted/read"
	ActionDeletedRestore Action = "deleted/restore"
)

// Access is what one request asks for: actions on a repository. Repository
// is empty for registry-wide requests (the /v2/ check, the catalog).
type Access struct {
	Repository string
	Actions    []Action
}

// Scope renders the access in token-scope form, "repository:NAME:a,b"; the
// catalog is "registry:catalog:*". An access with OCI actions (the /v2/
// routes) names only those; one with ACR permissions only (the /acr/v1/
// routes) names them with ACR's scope actions: content/read is "pull",
// content/write "push", content/delete "delete", metadata/read
// "metadata_read", metadata/write "metadata_write", deleted/read
// "deleted_read", deleted/restore "deleted_restore".
func (a Access) Scope() string {
	if a.Repository == "" {
		if len(a.Actions) == 0 {
			return ""
		}
		return "registry:catalog:*"
	}
	var oci, acr []string
	for _, x := range a.Actions {
		if name, ok := acrScopeAction(x); ok {
			if !slices.Contains(acr, name) {
				acr = append(acr, name)
			}
		} else {
			oci = append(oci, string(x))
		}
	}
	if len(oci) == 0 {
		oci = acr
	}
	return "repository:" + a.Repository + ":" + strings.Join(oci, ",")
}

// acrScopeAction names an ACR permission as ACR's token scopes do.
func acrScopeAction(x Action) (string, bool) {
	switch x {
	case ActionContentRead:
		return "pull", true
	case ActionContentWrite:
		return "push", true
	case ActionContentDelete:
		return "delete", true
	case ActionMetadataRead:
		return "metadata_read", true
	case ActionMetadataWrite:
		return "metadata_write", true
	case ActionDeletedRead:
		return "deleted_read", true
	case ActionDeletedRestore:
		return "deleted_restore", true
	}
	return "", false
}

// Authorizer decides whether a request may proceed. It returns nil to allow,
// a *Challenge to ask the client to authenticate (401 with
// WWW-Authenticate), or an error wrapping ErrDenied to refuse (403).
type Authorizer interface {
	Authorize(ctx context.Context, r *http.Request, access Access) error
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, r *http.Request, access Access) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, r *http.Request, access Access) error {
	return f(ctx, r, access)
}

// AllowAll is the default Authorizer: every request proceeds.
func AllowAll() Authorizer {
	return AuthorizerFunc(func(context.Context, *http.Request, Access) error { return nil })
}

// ErrDenied is the class an Authorizer wraps to refuse a request.
var ErrDenied = errdef.ErrDenied

// Challenge asks the client to authenticate. It is an error that wraps
// errdef.ErrUnauthorized; the handler answers 401 with a WWW-Authenticate
// header built from it.
type Challenge struct {
	// Scheme is "Basic" or "Bearer".
	Scheme string
	// Realm is the realm; for Bearer, the token endpoint's URL.
	Realm string
	// Service names the registry to the token endpoint (Bearer only).
	Service string
	// Scope is the access asked for (Bearer only), e.g. Access.Scope().
	Scope string
	// ErrorCode is RFC 6750's error code (Bearer only): "invalid_token" for a
	// token that is malformed, expired or signed by another key,
	// "insufficient_scope" for one that lacks the scope; empty when the
	// request carried no credentials.
	ErrorCode string
}

// Error describes the challenge.
func (c *Challenge) Error() string { return "authentication required: " + c.String() }

// Unwrap makes a Challenge match errdef.ErrUnauthorized.
func (c *Challenge) Unwrap() error { return errdef.ErrUnauthorized }

// String renders the WWW-Authenticate header value.
func (c *Challenge) String() string {
	s := c.Scheme + " realm=" + quote(c.Realm)
	if c.Scheme == "Bearer" {
		if c.Service != "" {
			s += ",service=" + quote(c.Service)
		}
		if c.Scope != "" {
			s += ",scope=" + quote(c.Scope)
		}
		if c.ErrorCode != "" {
			s += ",error=" + quote(c.ErrorCode)
		}
	}
	return s
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// StaticCredentials returns an Authorizer for tests and small setups: HTTP
// Basic authentication against a fixed user→password map. With
// anonymousPull set, pulls (and the catalog and /v2/ check) need no
// credentials. Everything else needs a valid user, and a request without
// one gets a Basic challenge.
func StaticCredentials(realm string, users map[string]string, anonymousPull bool) Authorizer {
	return AuthorizerFunc(func(_ context.Context, r *http.Request, access Access) error {
		user, pass, ok := r.BasicAuth()
		if ok {
			want, known := users[user]
			if known && subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1 {
				return nil
			}
			return &Challenge{Scheme: "Basic", Realm: realm}
		}
		if anonymousPull && readOnly(access) {
			return nil
		}
		return &Challenge{Scheme: "Basic", Realm: realm}
	})
}

func readOnly(a Access) bool {
	for _, x := range a.Actions {
		switch x {
		case ActionPull, ActionContentRead, ActionMetadataRead:
		default:
			return false
		}
	}
	return true
}

// BearerChallenge returns an Authorizer that asks every request without an
// Authorization header for a token from realm, naming service and the
// request's scope, and passes the rest to verify (which checks the token
// and the access).
func BearerChallenge(realm, service string, verify func(ctx context.Context, token string, access Access) error) Authorizer {
	return AuthorizerFunc(func(ctx context.Context, r *http.Request, access Access) error {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			return &Challenge{Scheme: "Bearer", Realm: realm, Service: service, Scope: access.Scope()}
		}
		if err := verify(ctx, token, access); err != nil {
			return fmt.Errorf("httpapi: token refused: %w", err)
		}
		return nil
	})
}
