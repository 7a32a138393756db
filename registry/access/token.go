package access

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/regkit/regkit/registry"
)

// Status is a token's status.
type Status string

// The token statuses.
const (
	StatusEnabled  Status = "enabled"
	StatusDisabled Status = "disabled"
)

// ParseStatus parses "enabled" or "disabled"; anything else fails with an
// error wrapping registry.ErrInvalid.
func ParseStatus(s string) (Status, error) {
	switch Status(s) {
	case StatusEnabled, StatusDisabled:
		return Status(s), nil
	}
	return "", fmt.Errorf("access: status %q: want enabled or disabled: %w", clip(s), registry.ErrInvalid)
}

// Slot names one of a token's two passwords.
type Slot string

// The password slots, as ACR names them.
const (
	Password1 Slot = "password1"
	Password2 Slot = "password2"
)

// Slots lists the password slots in order.
func Slots() []Slot { return []Slot{Password1, Password2} }

func (sl Slot) check() error {
	if sl != Password1 && sl != Password2 {
		return fmt.Errorf("access: password slot %q: want password1 or password2: %w", clip(string(sl)), registry.ErrInvalid)
	}
	return nil
}

// Token is a token as listed: never a password or its hash.
type Token struct {
	// Name is the user name clients log in with: 5 to 50 letters, digits,
	// '-' and '_', unique without regard to case.
	Name string `json:"name"`
	// ScopeMap names the scope map the token takes its rights from.
	ScopeMap string `json:"scopeMap"`
	// Status is enabled or disabled; a disabled token authenticates
	// nothing and holds no rights.
	Status Status `json:"status"`
	// Created is when the token was created.
	Created time.Time `json:"created"`
	// Passwords describes the passwords set, in slot order.
	Passwords []PasswordInfo `json:"passwords"`
}

// PasswordInfo describes a token password without revealing it.
type PasswordInfo struct {
	// Slot is password1 or password2.
	Slot Slot `json:"name"`
	// Created is when it was generated.
	Created time.Time `json:"created"`
	// Expiry is when it stops working; zero: never.
	Expiry time.Time `json:"expiry,omitzero"`
}

// TokenUpdate changes a token; nil fields stay as they are.
type TokenUpdate struct {
	// ScopeMap, when not nil, moves the token to another scope map.
	ScopeMap *string
	// Status, when not nil, enables or disables the token.
	Status *Status
}

// tokenRecord is a token as stored.
type tokenRecord struct {
	Name      string                   `json:"name"`
	ScopeMap  string                   `json:"scopeMap"`
	Status    Status                   `json:"status"`
	Created   time.Time                `json:"created"`
	Passwords map[Slot]*passwordRecord `json:"passwords,omitempty"`
}

// passwordRecord is one stored password: its argon2id hash.
type passwordRecord struct {
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
	Expiry  time.Time `json:"expiry,omitzero"`
}

func (r *tokenRecord) public() Token {
	t := Token{Name: r.Name, ScopeMap: r.ScopeMap, Status: r.Status, Created: r.Created, Passwords: []PasswordInfo{}}
	for _, sl := range Slots() {
		if p := r.Passwords[sl]; p != nil {
			t.Passwords = append(t.Passwords, PasswordInfo{Slot: sl, Created: p.Created, Expiry: p.Expiry})
		}
	}
	return t
}

// scopeMapName returns the stored name of the scope map called name
// (system or user-defined), or an error wrapping ErrScopeMapNotFound.
func (st *state) scopeMapName(name string) (string, error) {
	for _, m := range systemMaps() {
		if strings.EqualFold(m.Name, name) {
			return m.Name, nil
		}
	}
	if rec, ok := st.scopeMaps[nameKey(name)]; ok {
		return rec.Name, nil
	}
	return "", fmt.Errorf("access: scope map %q: %w", clip(name), ErrScopeMapNotFound)
}

// CreateToken creates a token called name on scopeMap, with status
// (StatusEnabled when empty) and no password: generate them with
// GeneratePassword. It fails with an error wrapping ErrInvalidName,
// ErrScopeMapNotFound, ErrTokenExists (a token, or the admin user, has the
// name) or registry.ErrInvalid (a bad status).
func (s *Service) CreateToken(ctx context.Context, name, scopeMap string, status Status) (*Token, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if status == "" {
		status = StatusEnabled
	}
	if _, err := ParseStatus(string(status)); err != nil {
		return nil, err
	}
	var out Token
	err := s.write(ctx, func(st *state) error {
		if _, ok := st.tokens[nameKey(name)]; ok {
			return fmt.Errorf("access: token %s: %w", name, ErrTokenExists)
		}
		if st.admin != nil && strings.EqualFold(st.admin.Username, name) {
			return fmt.Errorf("access: token %s: the admin user has that name: %w", name, ErrTokenExists)
		}
		sm, err := st.scopeMapName(scopeMap)
		if err != nil {
			return err
		}
		rec := &tokenRecord{Name: name, ScopeMap: sm, Status: status, Created: s.now()}
		st.putToken(rec)
		out = rec.public()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Token returns the token called name, or an error wrapping
// ErrTokenNotFound.
func (s *Service) Token(ctx context.Context, name string) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rec, ok := s.view.Load().state.tokens[nameKey(name)]
	if !ok {
		return nil, fmt.Errorf("access: token %q: %w", clip(name), ErrTokenNotFound)
	}
	out := rec.public()
	return &out, nil
}

// Tokens lists every token by name.
func (s *Service) Tokens(ctx context.Context) ([]Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v := s.view.Load()
	out := []Token{}
	for _, k := range sortedKeys(v.state.tokens) {
		out = append(out, v.state.tokens[k].public())
	}
	return out, nil
}

// UpdateToken changes the token called name and returns it. A disabled
// token, or one moved to another scope map, holds its new rights from the
// next call of Authenticate or Allowed on.
func (s *Service) UpdateToken(ctx context.Context, name string, u TokenUpdate) (*Token, error) {
	if u.Status != nil {
		if _, err := ParseStatus(string(*u.Status)); err != nil {
			return nil, err
		}
	}
	var out Token
	err := s.write(ctx, func(st *state) error {
		old, ok := st.tokens[nameKey(name)]
		if !ok {
			return fmt.Errorf("access: token %q: %w", clip(name), ErrTokenNotFound)
		}
		rec := *old
		if u.ScopeMap != nil {
			sm, err := st.scopeMapName(*u.ScopeMap)
			if err != nil {
				return err
			}
			rec.ScopeMap = sm
		}
		if u.Status != nil {
			rec.Status = *u.Status
		}
		st.putToken(&rec)
		out = rec.public()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteToken deletes the token called name: its passwords stop working at
// once.
func (s *Service) DeleteToken(ctx context.Context, name string) error {
	return s.write(ctx, func(st *state) error {
		k := nameKey(name)
		if _, ok := st.tokens[k]; !ok {
			return fmt.Errorf("access: token %q: %w", clip(name), ErrTokenNotFound)
		}
		st.deleteToken(k)
		return nil
	})
}

// GeneratePassword generates a new password in slot of the token called
// name, replacing the one there, and returns it: this is the only time it
// can be read, since only its argon2id hash is stored. The password stops
// working at expiry (zero: never); an expiry not after now fails with an
// error wrapping registry.ErrInvalid.
func (s *Service) GeneratePassword(ctx context.Context, name string, slot Slot, expiry time.Time) (string, error) {
	if err := slot.check(); err != nil {
		return "", err
	}
	now := s.now()
	if !expiry.IsZero() && !expiry.After(now) {
		return "", fmt.Errorf("access: password expiry %s is not in the future: %w", expiry.UTC().Format(time.RFC3339), registry.ErrInvalid)
	}
	if _, err := s.Token(ctx, name); err != nil {
		return "", err
	}
	pw, err := NewPassword()
	if err != nil {
		return "", err
	}
	hash, err := s.hashPassword(ctx, pw)
	if err != nil {
		return "", err
	}
	err = s.write(ctx, func(st *state) error {
		old, ok := st.tokens[nameKey(name)]
		if !ok {
			return fmt.Errorf("access: token %q: %w", clip(name), ErrTokenNotFound)
		}
		rec := *old
		rec.Passwords = map[Slot]*passwordRecord{}
		for k, v := range old.Passwords {
			rec.Passwords[k] = v
		}
		rec.Passwords[slot] = &passwordRecord{Hash: hash, Created: now, Expiry: expiry.UTC()}
		st.putToken(&rec)
		return nil
	})
	if err != nil {
		return "", err
	}
	return pw, nil
}

// DeletePassword removes the password in slot of the token called name; it
// stops working at once. Removing an empty slot is not an error.
func (s *Service) DeletePassword(ctx context.Context, name string, slot Slot) error {
	if err := slot.check(); err != nil {
		return err
	}
	return s.write(ctx, func(st *state) error {
		old, ok := st.tokens[nameKey(name)]
		if !ok {
			return fmt.Errorf("access: token %q: %w", clip(name), ErrTokenNotFound)
		}
		if old.Passwords[slot] == nil {
			return nil
		}
		rec := *old
		rec.Passwords = map[Slot]*passwordRecord{}
		for k, v := range old.Passwords {
			if k != slot {
				rec.Passwords[k] = v
			}
		}
		st.putToken(&rec)
		return nil
	})
}
