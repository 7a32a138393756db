package access

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/regkit/regkit/registry"
)

// Rule grants actions on a repository, on every repository below a prefix
// (Repository "samples/*") or on every repository ("*"). The repositories
// need not exist yet.
type Rule struct {
	// Repository is a repository name, a name followed by "/*", or "*"
	// (see ValidateRepository).
	Repository string `json:"repository"`
	// Actions are the actions granted, in the order of Actions().
	Actions []Action `json:"actions"`
}

// ScopeMap is a named set of rules a token takes its rights from. The
// rules matching a repository add up: a token holds on "samples/a/b" what
// "*", "samples/*", "samples/a/*" and "samples/a/b" grant together.
type ScopeMap struct {
	// Name is 5 to 50 letters, digits, '-' and '_', unique without regard
	// to case; names starting with '_' are the system scope maps'.
	Name string `json:"name"`
	// Description is free text (at most MaxDescription bytes).
	Description string `json:"description,omitempty"`
	// System marks one of ACR's built-in scope maps: read-only, present in
	// every registry.
	System bool `json:"system,omitempty"`
	// Created is when it was created (zero for a system scope map).
	Created time.Time `json:"created,omitzero"`
	// Rules are the rules, one per repository, sorted by repository.
	Rules []Rule `json:"rules"`
}

// ScopeMapUpdate changes a user-defined scope map.
type ScopeMapUpdate struct {
	// Description, when not nil, replaces the description.
	Description *string
	// Add grants more actions: each rule's actions join those the map
	// already grants on its repository.
	Add []Rule
	// Remove takes actions away: each rule's actions leave its repository's
	// rule (a rule left without actions goes); a rule with no actions
	// removes its repository's rule whole. Remove applies after Add.
	Remove []Rule
}

// Limits of a scope map.
const (
	// MaxDescription is the longest description, in bytes (ACR's 256).
	MaxDescription = 256
	// MaxRules is the most rules one scope map holds.
	MaxRules = 1000
)

// The system scope maps: built in, read-only, granting their actions on
// every repository, as ACR defines them.
const (
	// SystemAdmin: every read, write and delete action.
	SystemAdmin = "_repositories_admin"
	// SystemPull: pull.
	SystemPull = "_repositories_pull"
	// SystemPullMetadataRead: pull and read metadata (list tags).
	SystemPullMetadataRead = "_repositories_pull_metadata_read"
	// SystemPush: pull and push.
	SystemPush = "_repositories_push"
	// SystemPushMetadataWrite: pull, push, read and write metadata.
	SystemPushMetadataWrite = "_repositories_push_metadata_write"
)

// systemMaps returns the system scope maps, by name order.
func systemMaps() []ScopeMap {
	m := func(name, desc string, as ...Action) ScopeMap {
		return ScopeMap{Name: name, Description: desc, System: true, Rules: []Rule{{Repository: "*", Actions: setOf(as).list()}}}
	}
	return []ScopeMap{
		m(SystemAdmin, "Can perform all read, write and delete operations on the registry",
			ContentRead, ContentWrite, ContentDelete, MetadataRead, MetadataWrite),
		m(SystemPull, "Can pull any repository of the registry", ContentRead),
		m(SystemPullMetadataRead, "Can perform all read operations on the registry", ContentRead, MetadataRead),
		m(SystemPush, "Can push to any repository of the registry", ContentRead, ContentWrite),
		m(SystemPushMetadataWrite, "Can perform all read and write operations on the registry",
			ContentRead, ContentWrite, MetadataRead, MetadataWrite),
	}
}

// ValidateName checks a scope map or token name as ACR does: 5 to 50
// ASCII letters, digits, hyphens and underscores. Anything else fails with
// an error wrapping ErrInvalidName.
func ValidateName(name string) error {
	if len(name) < 5 || len(name) > 50 {
		return fmt.Errorf("access: name %q: want 5 to 50 characters: %w", clip(name), ErrInvalidName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("access: name %q: want only letters, digits, '-' and '_': %w", clip(name), ErrInvalidName)
		}
	}
	return nil
}

// nameKey is the case-folded name records are stored and looked up under.
func nameKey(name string) string { return strings.ToLower(name) }

// normalize merges rules by repository (their actions add up), validates
// every one, and returns them sorted by repository.
func normalize(rules []Rule) (map[string]actionSet, error) {
	m := map[string]actionSet{}
	for _, r := range rules {
		if err := ValidateRepository(r.Repository); err != nil {
			return nil, err
		}
		if len(r.Actions) == 0 {
			return nil, fmt.Errorf("access: rule for %s has no actions: %w", clip(r.Repository), ErrInvalidAction)
		}
		for _, a := range r.Actions {
			if !a.Valid() {
				return nil, fmt.Errorf("access: rule for %s: %q: %w", clip(r.Repository), clip(string(a)), ErrInvalidAction)
			}
		}
		m[r.Repository] |= setOf(r.Actions)
	}
	return m, nil
}

// rulesOf lists m as sorted rules.
func rulesOf(m map[string]actionSet) []Rule {
	out := make([]Rule, 0, len(m))
	for repo, s := range m {
		if s != 0 {
			out = append(out, Rule{Repository: repo, Actions: s.list()})
		}
	}
	slices.SortFunc(out, func(a, b Rule) int { return strings.Compare(a.Repository, b.Repository) })
	return out
}

// matcher answers which actions a scope map grants on a repository, with
// no allocation: one map lookup for the name and one per slash in it.
type matcher struct {
	exact map[string]actionSet
	// below maps a prefix with its trailing slash ("samples/") to what
	// "samples/*" grants.
	below map[string]actionSet
	// all is what "*" grants.
	all actionSet
}

func newMatcher(rules []Rule) *matcher {
	m := &matcher{exact: map[string]actionSet{}, below: map[string]actionSet{}}
	for _, r := range rules {
		s := setOf(r.Actions)
		switch {
		case r.Repository == "*":
			m.all |= s
		case strings.HasSuffix(r.Repository, "/*"):
			m.below[strings.TrimSuffix(r.Repository, "*")] |= s
		default:
			m.exact[r.Repository] |= s
		}
	}
	return m
}

// match returns what the rules grant on repo together.
func (m *matcher) match(repo string) actionSet {
	s := m.all | m.exact[repo]
	if len(m.below) > 0 {
		for i := 0; i < len(repo); i++ {
			if repo[i] == '/' {
				s |= m.below[repo[:i+1]]
			}
		}
	}
	return s
}

// scopeMapRecord is a user-defined scope map as stored.
type scopeMapRecord struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
	Rules       []Rule    `json:"rules"`
}

func (r *scopeMapRecord) public() ScopeMap {
	return ScopeMap{Name: r.Name, Description: r.Description, Created: r.Created, Rules: slices.Clone(r.Rules)}
}

// CreateScopeMap creates a user-defined scope map from m's name,
// description and rules (rules on one repository merge) and returns it.
// It fails with an error wrapping ErrInvalidName, ErrInvalidRepository,
// ErrInvalidAction or registry.ErrInvalid on bad input, ErrSystemScopeMap
// for a name starting with '_', and ErrScopeMapExists when the name is
// taken.
func (s *Service) CreateScopeMap(ctx context.Context, m ScopeMap) (*ScopeMap, error) {
	if err := ValidateName(m.Name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(m.Name, "_") {
		return nil, fmt.Errorf("access: scope map %q: names starting with '_' are reserved for system scope maps: %w", m.Name, ErrSystemScopeMap)
	}
	if err := checkDescription(m.Description); err != nil {
		return nil, err
	}
	set, err := normalize(m.Rules)
	if err != nil {
		return nil, err
	}
	if len(set) > MaxRules {
		return nil, fmt.Errorf("access: scope map %s: %d rules, over the limit of %d: %w", m.Name, len(set), MaxRules, registry.ErrTooLarge)
	}
	var out ScopeMap
	err = s.write(ctx, func(st *state) error {
		if _, ok := st.scopeMaps[nameKey(m.Name)]; ok {
			return fmt.Errorf("access: scope map %s: %w", m.Name, ErrScopeMapExists)
		}
		rec := &scopeMapRecord{Name: m.Name, Description: m.Description, Created: s.now(), Rules: rulesOf(set)}
		st.putScopeMap(rec)
		out = rec.public()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ScopeMap returns the scope map called name (system or user-defined), or
// an error wrapping ErrScopeMapNotFound.
func (s *Service) ScopeMap(ctx context.Context, name string) (*ScopeMap, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v := s.view.Load()
	if sm, ok := v.system[nameKey(name)]; ok {
		sm.Rules = slices.Clone(sm.Rules)
		return &sm, nil
	}
	rec, ok := v.state.scopeMaps[nameKey(name)]
	if !ok {
		return nil, fmt.Errorf("access: scope map %q: %w", clip(name), ErrScopeMapNotFound)
	}
	out := rec.public()
	return &out, nil
}

// ScopeMaps lists every scope map: the system ones, then the user-defined
// ones, each by name.
func (s *Service) ScopeMaps(ctx context.Context) ([]ScopeMap, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v := s.view.Load()
	out := systemMaps()
	for _, k := range sortedKeys(v.state.scopeMaps) {
		out = append(out, v.state.scopeMaps[k].public())
	}
	return out, nil
}

// UpdateScopeMap changes the user-defined scope map called name and
// returns it. Tokens using it hold the new rights from their next request.
// It fails as CreateScopeMap does, with ErrScopeMapNotFound when there is
// no such map, and ErrSystemScopeMap for a system one.
func (s *Service) UpdateScopeMap(ctx context.Context, name string, u ScopeMapUpdate) (*ScopeMap, error) {
	if isSystem(name) {
		return nil, fmt.Errorf("access: scope map %s: %w", name, ErrSystemScopeMap)
	}
	if u.Description != nil {
		if err := checkDescription(*u.Description); err != nil {
			return nil, err
		}
	}
	add, err := normalize(u.Add)
	if err != nil {
		return nil, err
	}
	remove := map[string]actionSet{}
	for _, r := range u.Remove {
		if err := ValidateRepository(r.Repository); err != nil {
			return nil, err
		}
		set := actionSet(0xff)
		if len(r.Actions) > 0 {
			for _, a := range r.Actions {
				if !a.Valid() {
					return nil, fmt.Errorf("access: rule for %s: %q: %w", clip(r.Repository), clip(string(a)), ErrInvalidAction)
				}
			}
			set = setOf(r.Actions)
		}
		remove[r.Repository] |= set
	}
	var out ScopeMap
	err = s.write(ctx, func(st *state) error {
		old, ok := st.scopeMaps[nameKey(name)]
		if !ok {
			return fmt.Errorf("access: scope map %q: %w", clip(name), ErrScopeMapNotFound)
		}
		rec := *old
		if u.Description != nil {
			rec.Description = *u.Description
		}
		set := map[string]actionSet{}
		for _, r := range old.Rules {
			set[r.Repository] = setOf(r.Actions)
		}
		for repo, a := range add {
			set[repo] |= a
		}
		for repo, a := range remove {
			set[repo] &^= a
		}
		rec.Rules = rulesOf(set)
		if len(rec.Rules) > MaxRules {
			return fmt.Errorf("access: scope map %s: %d rules, over the limit of %d: %w", rec.Name, len(rec.Rules), MaxRules, registry.ErrTooLarge)
		}
		st.putScopeMap(&rec)
		out = rec.public()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteScopeMap deletes the user-defined scope map called name. It fails
// with an error wrapping ErrScopeMapInUse while a token uses it,
// ErrScopeMapNotFound when there is none and ErrSystemScopeMap for a system
// one.
func (s *Service) DeleteScopeMap(ctx context.Context, name string) error {
	if isSystem(name) {
		return fmt.Errorf("access: scope map %s: %w", name, ErrSystemScopeMap)
	}
	return s.write(ctx, func(st *state) error {
		k := nameKey(name)
		if _, ok := st.scopeMaps[k]; !ok {
			return fmt.Errorf("access: scope map %q: %w", clip(name), ErrScopeMapNotFound)
		}
		var users []string
		for _, tk := range sortedKeys(st.tokens) {
			if nameKey(st.tokens[tk].ScopeMap) == k {
				users = append(users, st.tokens[tk].Name)
			}
		}
		if len(users) > 0 {
			return fmt.Errorf("access: scope map %s is used by token %s: %w", name, strings.Join(users, ", "), ErrScopeMapInUse)
		}
		st.deleteScopeMap(k)
		return nil
	})
}

func isSystem(name string) bool {
	for _, m := range systemMaps() {
		if strings.EqualFold(m.Name, name) {
			return true
		}
	}
	return false
}

func checkDescription(d string) error {
	if len(d) > MaxDescription {
		return fmt.Errorf("access: description of %d bytes, over the limit of %d: %w", len(d), MaxDescription, registry.ErrInvalid)
	}
	return nil
}
