package token

import (
	"fmt"
	"slices"
	"strings"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry"
)

// ErrInvalidScope is the class of a malformed scope (it wraps
// errdef.ErrInvalid); the token endpoint answers 400.
var ErrInvalidScope = errdef.New("invalid scope", errdef.ErrInvalid)

// Limits on what one token request may ask for.
const (
	// MaxScopes is the most resource scopes one request may name.
	MaxScopes = 64
	// MaxScopeLength is the longest single scope string, in bytes.
	MaxScopeLength = 1024
)

// The claim actions: the words of token scopes and of the "access" claim.
// Docker's pull, push and delete, ACR's metadata and soft-delete actions,
// and "*" for everything.
const (
	ClaimPull           = "pull"
	ClaimPush           = "push"
	ClaimDelete         = "delete"
	ClaimMetadataRead   = "metadata_read"
	ClaimMetadataWrite  = "metadata_write"
	ClaimDeletedRead    = "deleted_read"
	ClaimDeletedRestore = "deleted_restore"
	ClaimAll            = "*"
)

// claimRight pairs each repository claim action with the right it needs.
var claimRight = [][2]string{
	{ClaimPull, RightContentRead},
	{ClaimPush, RightContentWrite},
	{ClaimDelete, RightContentDelete},
	{ClaimMetadataRead, RightMetadataRead},
	{ClaimMetadataWrite, RightMetadataWrite},
	{ClaimDeletedRead, RightDeletedRead},
	{ClaimDeletedRestore, RightDeletedRestore},
}

// Scope is one resource scope of a token request:
// "repository:samples/hello:pull,push" or "registry:catalog:*".
type Scope struct {
	// Type is the resource type, "repository" or "registry".
	Type string
	// Class is the optional resource class, "plugin" in "repository(plugin)".
	Class string
	// Name is the resource name: a repository name, or "catalog".
	Name string
	// Actions are the actions asked for.
	Actions []string
}

// String renders the scope in token-request form.
func (s Scope) String() string {
	t := s.Type
	if s.Class != "" {
		t += "(" + s.Class + ")"
	}
	return t + ":" + s.Name + ":" + strings.Join(s.Actions, ",")
}

// ParseScopes parses a scope parameter: resource scopes separated by spaces
// (each "type[(class)]:name:action[,action...]"). The name may hold a colon
// (a host with a port), so the type ends at the first colon and the actions
// start after the last. Repository names follow the OCI grammar; actions are
// lower-case words with underscores, or "*". Unknown types and actions parse
// (they are granted nothing). Errors wrap ErrInvalidScope.
func ParseScopes(param string) ([]Scope, error) {
	var out []Scope
	for _, f := range strings.Fields(param) {
		if len(out) == MaxScopes {
			return nil, fmt.Errorf("token: more than %d scopes: %w", MaxScopes, ErrInvalidScope)
		}
		s, err := parseScope(f)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func parseScope(f string) (Scope, error) {
	bad := func(why string) (Scope, error) {
		return Scope{}, fmt.Errorf("token: scope %q: %s: %w", clip(f), why, ErrInvalidScope)
	}
	if len(f) > MaxScopeLength {
		return bad(fmt.Sprintf("longer than %d bytes", MaxScopeLength))
	}
	first := strings.IndexByte(f, ':')
	last := strings.LastIndexByte(f, ':')
	if first < 0 || first == last {
		return bad(`want "type:name:actions"`)
	}
	var s Scope
	s.Type, s.Name = f[:first], f[first+1:last]
	if open := strings.IndexByte(s.Type, '('); open >= 0 {
		if !strings.HasSuffix(s.Type, ")") {
			return bad("unclosed resource class")
		}
		s.Type, s.Class = s.Type[:open], s.Type[open+1:len(s.Type)-1]
		if !isWord(s.Class, false) {
			return bad("bad resource class")
		}
	}
	if !isWord(s.Type, false) {
		return bad("bad resource type")
	}
	switch {
	case s.Name == "":
		return bad("empty resource name")
	case s.Type == "repository":
		if err := registry.ValidateName(s.Name); err != nil {
			return bad("bad repository name")
		}
	default:
		for i := 0; i < len(s.Name); i++ {
			if c := s.Name[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
				return bad("bad resource name")
			}
		}
	}
	for _, a := range strings.Split(f[last+1:], ",") {
		if a != ClaimAll && !isWord(a, true) {
			return bad(fmt.Sprintf("bad action %q", clip(a)))
		}
		if !slices.Contains(s.Actions, a) {
			s.Actions = append(s.Actions, a)
		}
	}
	return s, nil
}

// isWord reports whether s is a non-empty run of lower-case letters (and,
// when underscore is set, underscores and hyphens; digits are allowed in
// types for names like "artifact-repository").
func isWord(s string, underscore bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
		case c == '_' && underscore:
		case c == '-':
		case c >= '0' && c <= '9' && !underscore:
		default:
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
