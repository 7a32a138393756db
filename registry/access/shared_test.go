package access

import (
	"context"
	"errors"
	"testing"
	"time"

	blobmem "github.com/regkit/regkit/blob/memory"
	"github.com/regkit/regkit/registry"
	metamem "github.com/regkit/regkit/registry/meta/memory"
)

// TestReloadSharedStore: two Services over two Registries on one store, as
// two frontends. A token made through one authenticates through the other
// after its Reload, and a disable made through one bites there after the
// next.
func TestReloadSharedStore(t *testing.T) {
	ctx := context.Background()
	store, blobs := metamem.New(), blobmem.New()
	open := func() *Service {
		reg, err := registry.New(blobs, store, registry.WithSharedStore(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { reg.Close() })
		s, err := New(ctx, reg, fastHash)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := open(), open()
	if _, err := a.CreateToken(ctx, "ci-bot", "_repositories_pull", StatusEnabled); err != nil {
		t.Fatal(err)
	}
	pw, err := a.GeneratePassword(ctx, "ci-bot", Password1, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, "ci-bot", pw); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("b before Reload: %v, want ErrBadCredentials", err)
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if sub, err := b.Authenticate(ctx, "ci-bot", pw); err != nil || sub != "token:ci-bot" {
		t.Fatalf("b after Reload: %q %v", sub, err)
	}
	disabled := StatusDisabled
	if _, err := a.UpdateToken(ctx, "ci-bot", TokenUpdate{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, "ci-bot", pw); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("b after the disable and Reload: %v, want ErrBadCredentials", err)
	}
}
