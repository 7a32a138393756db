package tag

import (
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/internal/errdef"
)

// Error classes this package returns; the same values as regkit's other
// packages export.
var (
	// ErrInvalid: a tag name outside the grammar.
	ErrInvalid = errdef.ErrInvalid
	// ErrLocked: a changeable attribute forbids the operation.
	ErrLocked = errdef.ErrLocked
)

// MaxNameLength is the longest tag name the OCI distribution spec allows.
const MaxNameLength = 128

// ValidateName reports whether name matches the distribution-spec tag grammar
// [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}. The error wraps ErrInvalid.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("tag: empty name: %w", ErrInvalid)
	}
	if len(name) > MaxNameLength {
		return fmt.Errorf("tag: name of %d bytes is longer than %d: %w", len(name), MaxNameLength, ErrInvalid)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case (c == '.' || c == '-') && i > 0:
		default:
			return fmt.Errorf("tag: name %q: character %q at %d not allowed: %w", truncate(name), c, i, ErrInvalid)
		}
	}
	return nil
}

// Record is what the registry stores for one tag.
type Record struct {
	// Name is the tag.
	Name string `json:"name"`
	// Digest is the manifest the tag points to.
	Digest digest.Digest `json:"digest"`
	// CreatedAt is when the tag was first set.
	CreatedAt time.Time `json:"createdTime"`
	// UpdatedAt is when the tag last moved or changed attributes.
	UpdatedAt time.Time `json:"lastUpdateTime"`
	// Attributes are the tag's own changeable attributes.
	Attributes Attributes `json:"changeableAttributes"`
}

func truncate(s string) string {
	if len(s) > 140 {
		return s[:140] + "..."
	}
	return s
}
