package access

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry"
)

// Action is one right on a repository, named as ACR names it in scope maps
// ("content/read"), or the registry-level ActionCatalog.
type Action string

// The repository actions of ACR's scope maps.
const (
	// ContentRead: pull an artifact (manifests and blobs).
	ContentRead Action = "content/read"
	// ContentWrite: push an artifact (with ContentRead).
	ContentWrite Action = "content/write"
	// ContentDelete: delete a manifest or the repository.
	ContentDelete Action = "content/delete"
	// MetadataRead: list tags and manifests, read their properties.
	MetadataRead Action = "metadata/read"
	// MetadataWrite: untag, change attributes (writeEnabled, deleteEnabled, ...).
	MetadataWrite Action = "metadata/write"
	// DeletedRead: list soft-deleted artifacts (/acr/v1/_deleted/).
	DeletedRead Action = "deleted/read"
	// DeletedRestore: restore a soft-deleted artifact.
	DeletedRestore Action = "deleted/restore"
)

// ActionCatalog is the registry-level right to list the catalog of every
// repository. Allowed returns it, for the repository "", to the admin user
// only: ACR's repository-scoped tokens cannot list the catalog. It is not a
// scope map action.
const ActionCatalog Action = "registry/catalog"

// actionSet is a set of repository actions, one bit each in the order of
// allActions.
type actionSet uint8

// allActions lists the repository actions in the order of their bits and of
// every list this package returns.
var allActions = [...]Action{ContentRead, ContentWrite, ContentDelete, MetadataRead, MetadataWrite, DeletedRead, DeletedRestore}

// Actions returns every repository action a scope map may grant, in a
// stable order.
func Actions() []Action { return append([]Action(nil), allActions[:]...) }

// bit returns a's bit, or 0 when a is no repository action.
func (a Action) bit() actionSet {
	for i, b := range allActions {
		if a == b {
			return 1 << i
		}
	}
	return 0
}

// Valid reports whether a is a repository action (not ActionCatalog).
func (a Action) Valid() bool { return a.bit() != 0 }

// catalogBit stands for ActionCatalog in the sets Service.allowed returns.
const catalogBit actionSet = 1 << 7

// list returns the actions of s in order (ActionCatalog last).
func (s actionSet) list() []Action {
	if s == 0 {
		return nil
	}
	out := make([]Action, 0, bits.OnesCount8(uint8(s)))
	for i, a := range allActions {
		if s&(1<<i) != 0 {
			out = append(out, a)
		}
	}
	if s&catalogBit != 0 {
		out = append(out, ActionCatalog)
	}
	return out
}

// stringLists holds, for every set, its actions as strings, so that
// StringAuthority answers without allocating. Filled once, never changed.
var stringLists = func() (t [1 << 8][]string) {
	for s := range t {
		for _, a := range actionSet(s).list() {
			t[s] = append(t[s], string(a))
		}
		t[s] = slices.Clip(t[s])
	}
	return t
}()

// setOf returns the set of the (valid) actions in as.
func setOf(as []Action) actionSet {
	var s actionSet
	for _, a := range as {
		s |= a.bit()
	}
	return s
}

// Errors of this package. Each belongs to one class of regkit's errors
// (registry.ErrInvalid, ErrNotFound, ...), so errors.Is works with either.
var (
	// ErrInvalidAction: an action outside the repository actions.
	ErrInvalidAction = errdef.New("invalid action", registry.ErrInvalid)
	// ErrInvalidRepository: a scope map rule's repository is neither a
	// repository name, nor a name followed by "/*", nor "*".
	ErrInvalidRepository = errdef.New("invalid scope map repository", registry.ErrInvalid)
	// ErrInvalidName: a scope map, token or admin name outside ACR's rules.
	ErrInvalidName = errdef.New("invalid name", registry.ErrInvalid)
	// ErrScopeMapNotFound: no scope map by that name.
	ErrScopeMapNotFound = errdef.New("scope map not found", registry.ErrNotFound)
	// ErrScopeMapExists: a scope map by that name exists (names compare
	// without regard to case).
	ErrScopeMapExists = errdef.New("scope map already exists", registry.ErrAlreadyExists)
	// ErrScopeMapInUse: a token uses the scope map, so it cannot be deleted.
	ErrScopeMapInUse = errdef.New("scope map is in use by a token", registry.ErrPrecondition)
	// ErrSystemScopeMap: system scope maps cannot be created, changed or
	// deleted.
	ErrSystemScopeMap = errdef.New("system scope maps are read-only", registry.ErrPrecondition)
	// ErrTokenNotFound: no token by that name.
	ErrTokenNotFound = errdef.New("token not found", registry.ErrNotFound)
	// ErrTokenExists: a token (or the admin user) by that name exists.
	ErrTokenExists = errdef.New("token already exists", registry.ErrAlreadyExists)
	// ErrBadCredentials: Authenticate refused the username and password.
	// The error says why (unknown user, wrong password, disabled token,
	// expired password); tell the client only that it failed.
	ErrBadCredentials = errdef.New("bad credentials", errdef.ErrUnauthorized)
)

// ParseAction parses one repository action ("content/read"). Anything
// else, ActionCatalog included, fails with an error wrapping
// ErrInvalidAction.
func ParseAction(s string) (Action, error) {
	a := Action(s)
	if !a.Valid() {
		return "", fmt.Errorf("access: %q: want one of %s: %w", clip(s), joinActions(allActions[:]), ErrInvalidAction)
	}
	return a, nil
}

// ParseActions parses a comma-separated list of actions
// ("content/read,content/write"), each once or more (duplicates merge);
// blanks around commas are allowed. An empty list, or one with an invalid
// action, fails with an error wrapping ErrInvalidAction.
func ParseActions(s string) ([]Action, error) {
	var set actionSet
	for _, part := range strings.Split(s, ",") {
		a, err := ParseAction(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		set |= a.bit()
	}
	return set.list(), nil
}

// ParseRule parses a scope map rule from a repository pattern and a
// comma-separated list of actions, as regadm's --repository REPO ACTIONS
// takes it. It fails with an error wrapping ErrInvalidRepository or
// ErrInvalidAction.
func ParseRule(repository, actions string) (Rule, error) {
	if err := ValidateRepository(repository); err != nil {
		return Rule{}, err
	}
	as, err := ParseActions(actions)
	if err != nil {
		return Rule{}, fmt.Errorf("access: rule for %s: %w", clip(repository), err)
	}
	return Rule{Repository: repository, Actions: as}, nil
}

// ValidateRepository checks a scope map rule's repository: a repository
// name (registry.ValidateName: it need not exist), a name followed by "/*"
// (every repository below it, at any depth, not the name itself), or "*"
// (every repository). ACR allows one wildcard, only at the end and only
// after a slash: "a/*/b", "a*" and "a/*/*" are refused with an error
// wrapping ErrInvalidRepository.
func ValidateRepository(p string) error {
	if p == "*" {
		return nil
	}
	name := p
	if base, ok := strings.CutSuffix(p, "/*"); ok {
		name = base
	}
	if strings.Contains(name, "*") {
		return fmt.Errorf("access: repository %q: a wildcard may only end the name, after a slash (%q), or stand alone (%q): %w", clip(p), "samples/*", "*", ErrInvalidRepository)
	}
	if err := registry.ValidateName(name); err != nil {
		return fmt.Errorf("access: repository %q: %w: %w", clip(p), ErrInvalidRepository, err)
	}
	return nil
}

func joinActions(as []Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// clip shortens s for error messages.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}
