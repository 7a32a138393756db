package token

import (
	"context"
	"crypto/subtle"
	"fmt"
	"slices"
	"strings"

	"github.com/regkit/regkit/internal/errdef"
)

// Authority is where identities and rights come from (registry/access.Service
// satisfies it through a thin adapter: its actions are plain strings here).
type Authority interface {
	// Authenticate checks a username and password; returns the subject (opaque stable id,
	// e.g. "admin", "token:ci") or an error wrapping errdef.ErrUnauthorized.
	Authenticate(ctx context.Context, username, password string) (subject string, err error)
	// Allowed returns the actions subject holds now on repository; repository "" asks for
	// registry-level rights ("registry/catalog"). Subject "" is the anonymous caller.
	// An error wrapping errdef.ErrUnauthorized means the subject is gone or disabled.
	Allowed(ctx context.Context, subject, repository string) ([]string, error)
}

// The rights an Authority hands out, ACR's repository permissions plus the
// registry-level catalog right.
const (
	RightContentRead    = "content/read"    // pull
	RightContentWrite   = "content/write"   // push
	RightContentDelete  = "content/delete"  // delete a manifest or repository
	RightMetadataRead   = "metadata/read"   // list tags and manifests, read properties
	RightMetadataWrite  = "metadata/write"  // untag, change attributes
	RightDeletedRead    = "deleted/read"    // list soft-deleted items
	RightDeletedRestore = "deleted/restore" // restore soft-deleted items
	RightCatalog        = "registry/catalog"
)

// repositoryRights are every right that applies to one repository, in claim order.
var repositoryRights = []string{
	RightContentRead, RightContentWrite, RightContentDelete,
	RightMetadataRead, RightMetadataWrite, RightDeletedRead, RightDeletedRestore,
}

// ErrUnauthorized is the class of bad credentials and refused tokens.
var ErrUnauthorized = errdef.ErrUnauthorized

// Open returns the Authority of an open registry: any username and password
// authenticate (the subject is the username), and every caller, anonymous
// included, holds every right on every repository and the catalog.
func Open() Authority { return openAuthority{} }

type openAuthority struct{}

func (openAuthority) Authenticate(_ context.Context, username, _ string) (string, error) {
	return username, nil
}

func (openAuthority) Allowed(_ context.Context, _, repository string) ([]string, error) {
	if repository == "" {
		return []string{RightCatalog}, nil
	}
	return slices.Clone(repositoryRights), nil
}

// StaticUser is one user of a Static authority.
type StaticUser struct {
	// Password is compared in constant time.
	Password string
	// Rights maps repository patterns to rights, as Static.Anonymous does.
	Rights map[string][]string
}

// Static is a fixed Authority for tests and small setups. Rights map a
// repository pattern to the rights held on it: an exact name, a prefix
// ending in "/*" (ACR's scope-map wildcard: "team/*" matches "team/app" and
// deeper), or "*" for every repository; the key "" holds registry-level
// rights (RightCatalog). Rules matching one repository add up. A user's
// subject is its name.
type Static struct {
	// Users maps a username to its password and rights.
	Users map[string]StaticUser
	// Anonymous are the rights of callers without credentials.
	Anonymous map[string][]string
}

// Authenticate checks username and password against Users.
func (s Static) Authenticate(_ context.Context, username, password string) (string, error) {
	u, ok := s.Users[username]
	if !ok || username == "" {
		// Compare anyway so that a wrong name costs what a wrong password does.
		subtle.ConstantTimeCompare([]byte(password), []byte(password))
		return "", fmt.Errorf("token: unknown user or wrong password: %w", errdef.ErrUnauthorized)
	}
	if subtle.ConstantTimeCompare([]byte(password), []byte(u.Password)) != 1 {
		return "", fmt.Errorf("token: unknown user or wrong password: %w", errdef.ErrUnauthorized)
	}
	return username, nil
}

// Allowed returns the rights subject holds on repository.
func (s Static) Allowed(_ context.Context, subject, repository string) ([]string, error) {
	rules := s.Anonymous
	if subject != "" {
		u, ok := s.Users[subject]
		if !ok {
			return nil, fmt.Errorf("token: unknown subject %q: %w", subject, errdef.ErrUnauthorized)
		}
		rules = u.Rights
	}
	var out []string
	for pattern, rights := range rules {
		if !matchPattern(pattern, repository) {
			continue
		}
		for _, r := range rights {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// matchPattern reports whether a Static rights key applies to repository.
func matchPattern(pattern, repository string) bool {
	switch {
	case repository == "" || pattern == "":
		return pattern == repository
	case pattern == "*":
		return true
	case strings.HasSuffix(pattern, "/*"):
		return strings.HasPrefix(repository, pattern[:len(pattern)-1])
	}
	return pattern == repository
}
