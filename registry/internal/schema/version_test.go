package schema

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/meta"
	metamem "github.com/regkit/regkit/registry/meta/memory"
)

// TestOpenVersion: an empty store is stamped with Version, a store of this
// version opens, and a newer or unreadable version is refused without
// touching the store.
func TestOpenVersion(t *testing.T) {
	ctx := context.Background()
	stored := func(t *testing.T, s meta.Store) string {
		var v []byte
		err := s.View(ctx, func(tx meta.Tx) error {
			b, err := tx.Get(versionKey)
			v = append(v, b...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return string(v)
	}
	t.Run("empty", func(t *testing.T) {
		s := metamem.New()
		defer s.Close()
		if err := Open(ctx, s); err != nil {
			t.Fatal(err)
		}
		if v := stored(t, s); v != strconv.Itoa(Version) {
			t.Fatalf("stamped %q, want %d", v, Version)
		}
		if err := Open(ctx, s); err != nil {
			t.Fatalf("reopen: %v", err)
		}
	})
	t.Run("unversioned", func(t *testing.T) {
		// A store written before the version was stored: same layout.
		s := metamem.New()
		defer s.Close()
		if err := s.Update(ctx, func(tx meta.Tx) error { return Repos.Put(tx, "a", &Repo{}) }); err != nil {
			t.Fatal(err)
		}
		if err := Open(ctx, s); err != nil {
			t.Fatal(err)
		}
		if v := stored(t, s); v != strconv.Itoa(Version) {
			t.Fatalf("stamped %q, want %d", v, Version)
		}
	})
	for _, c := range []struct {
		name, value string
		class       error
	}{
		{"newer", strconv.Itoa(Version + 1), errdef.ErrUnsupported},
		{"much newer", "4000000000", errdef.ErrUnsupported},
		{"zero", "0", errdef.ErrInvalid},
		{"negative", "-1", errdef.ErrInvalid},
		{"garbage", "\x01\x02", errdef.ErrInvalid},
		{"empty", "", errdef.ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := metamem.New()
			defer s.Close()
			if err := s.Update(ctx, func(tx meta.Tx) error { return tx.Put(versionKey, []byte(c.value)) }); err != nil {
				t.Fatal(err)
			}
			err := Open(ctx, s)
			if !errors.Is(err, c.class) {
				t.Fatalf("version %q: %v, want %v", c.value, err, c.class)
			}
			if v := stored(t, s); v != c.value {
				t.Fatalf("version rewritten to %q", v)
			}
		})
	}
}
