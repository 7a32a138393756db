package access

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/regkit/regkit/registry"
)

// Admin describes the admin user, never its password.
type Admin struct {
	// Enabled reports whether an admin user is set.
	Enabled bool `json:"enabled"`
	// Username is the name it logs in with.
	Username string `json:"username,omitempty"`
	// Updated is when its name and password were last set.
	Updated time.Time `json:"updated,omitzero"`
}

// adminRecord is the admin user as stored.
type adminRecord struct {
	Username string    `json:"username"`
	Hash     string    `json:"hash"`
	Updated  time.Time `json:"updated"`
}

// SubjectAdmin is the subject Authenticate returns for the admin user.
const SubjectAdmin = "admin"

// tokenSubject is the prefix of the subjects of tokens ("token:NAME").
const tokenSubject = "token:"

// SetAdmin sets the admin user: its name (ValidateName's rules) and
// password (1 to MaxPasswordLen bytes; use NewPassword for a strong one),
// replacing any admin user before. The previous password stops working at
// once. A token with the same name fails with an error wrapping
// ErrTokenExists.
//
// ACR's admin user is named after the registry and has two passwords, for
// rotation without downtime; regkit's has one: rotate it by setting a new
// one.
func (s *Service) SetAdmin(ctx context.Context, username, password string) error {
	if err := ValidateName(username); err != nil {
		return err
	}
	if password == "" || len(password) > MaxPasswordLen {
		return fmt.Errorf("access: admin password: want 1 to %d bytes: %w", MaxPasswordLen, registry.ErrInvalid)
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	now := s.now()
	return s.write(ctx, func(st *state) error {
		if _, ok := st.tokens[nameKey(username)]; ok {
			return fmt.Errorf("access: admin user %s: a token has that name: %w", username, ErrTokenExists)
		}
		st.setAdmin(&adminRecord{Username: username, Hash: hash, Updated: now})
		return nil
	})
}

// DisableAdmin removes the admin user; its password stops working at once.
// Removing it when there is none is not an error.
func (s *Service) DisableAdmin(ctx context.Context) error {
	return s.write(ctx, func(st *state) error {
		if st.admin != nil {
			st.setAdmin(nil)
		}
		return nil
	})
}

// Admin describes the admin user.
func (s *Service) Admin(ctx context.Context) (Admin, error) {
	if err := ctx.Err(); err != nil {
		return Admin{}, err
	}
	a := s.view.Load().state.admin
	if a == nil {
		return Admin{}, nil
	}
	return Admin{Enabled: true, Username: a.Username, Updated: a.Updated}, nil
}

// AnonymousPull reports whether anonymous pull is enabled (ACR's
// anonymous-pull-enabled; off unless set).
func (s *Service) AnonymousPull(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return s.view.Load().state.anonymous, nil
}

// SetAnonymousPull turns anonymous pull on or off. While it is on,
// callers without credentials hold content/read and metadata/read on every
// repository and the catalog, as in ACR: they pull, list and read
// properties, and never write, delete or change attributes.
func (s *Service) SetAnonymousPull(ctx context.Context, enabled bool) error {
	return s.write(ctx, func(st *state) error {
		st.setAnonymous(enabled)
		return nil
	})
}

// TokenName returns the token name of a subject Authenticate returned, and
// whether it is a token's.
func TokenName(subject string) (string, bool) {
	return strings.CutPrefix(subject, tokenSubject)
}
