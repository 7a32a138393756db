package token_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	blobmem "github.com/regkit/regkit/blob/memory"
	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	metamem "github.com/regkit/regkit/registry/meta/memory"
	"github.com/regkit/regkit/registry/token"
)

func TestKeyDir(t *testing.T) {
	for _, alg := range []token.Algorithm{token.ES256, token.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			clk := newClock()
			s := newService(t, clk, token.WithKeyDir(dir), token.WithAlgorithm(alg))
			keys := s.Keys()
			if len(keys) != 1 || !keys[0].Signing || keys[0].Algorithm != alg {
				t.Fatalf("keys %+v", keys)
			}
			st, err := os.Stat(filepath.Join(dir, keys[0].ID+".pem"))
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("key file mode %v", st.Mode().Perm())
			}
			if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
				t.Errorf("key folder mode %v", st.Mode().Perm())
			}
			tok := issue(t, s, "alice", "alice-pw", "repository:app:pull")
			h := header(t, tok)
			if h["kid"] != keys[0].ID || h["alg"] != string(alg) {
				t.Errorf("header %v", h)
			}
			// A second Service on the folder (a restart, another frontend)
			// verifies the first one's tokens.
			s2 := newService(t, clk, token.WithKeyDir(dir))
			if _, err := s2.Verify(tok, testService); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRotation: three Services share their keys, as the frontends of one
// registry do: through a key folder, or through the registry's metadata
// store (each Service on its own Registry over one shared store).
func TestRotation(t *testing.T) {
	t.Run("folder", func(t *testing.T) {
		dir := t.TempDir()
		testRotation(t, func() token.Option { return token.WithKeyDir(dir) }, func(kid string) bool {
			_, err := os.Stat(filepath.Join(dir, kid+".pem"))
			return !errors.Is(err, os.ErrNotExist)
		})
	})
	t.Run("state", func(t *testing.T) {
		store, blobs := metamem.New(), blobmem.New()
		var first *registry.State
		testRotation(t, func() token.Option {
			reg, err := registry.New(blobs, store, registry.WithSharedStore(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { reg.Close() })
			st, err := reg.State("token")
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = st
			}
			return token.WithKeyState(st)
		}, func(kid string) bool {
			found := false
			if err := first.View(t.Context(), func(tx registry.StateTx) error {
				_, err := tx.Get("key/" + kid)
				found = err == nil
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return found
		})
	})
}

// testRotation runs the rotation story on three Services whose keys live
// where keyStore() says; stored reports whether a key is still kept there.
func testRotation(t *testing.T, keyStore func() token.Option, stored func(kid string) bool) {
	clk := newClock()
	life := 10 * time.Minute
	s := newService(t, clk, keyStore(), token.WithLifetime(life), token.WithRefreshLifetime(life))
	peer := newService(t, clk, keyStore(), token.WithLifetime(life), token.WithRefreshLifetime(life))
	signer := newService(t, clk, keyStore(), token.WithLifetime(life), token.WithRefreshLifetime(life))
	acc := httpapi.Access{Repository: "app", Actions: accPull}
	old := issue(t, s, "alice", "alice-pw", "repository:app:pull")
	first := s.Keys()[0]

	clk.Advance(time.Minute)
	k2, err := s.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if !k2.Signing || k2.ID == first.ID {
		t.Fatalf("rotated key %+v", k2)
	}
	keys := s.Keys()
	if len(keys) != 2 || keys[0].Signing || !keys[0].Retired.Equal(k2.Created) {
		t.Fatalf("keys after rotate %+v", keys)
	}
	fresh := issue(t, s, "alice", "alice-pw", "repository:app:pull")
	if header(t, fresh)["kid"] != k2.ID {
		t.Errorf("new token signed by %v", header(t, fresh)["kid"])
	}
	// The old token still verifies; the peer learns the new key from the
	// folder when it first sees its kid.
	for name, svc := range map[string]*token.Service{"self": s, "peer": peer} {
		for _, tok := range []string{old, fresh} {
			if got, _, err := check(t, svc, "/v2/app/blobs/x", "Bearer "+tok, acc); got != allow {
				t.Errorf("%s: %v", name, err)
			}
		}
	}

	// The peer signs with the newest key once it rereads the folder (at
	// most a minute later).
	if kid := header(t, issue(t, signer, "alice", "alice-pw"))["kid"]; kid != k2.ID {
		t.Errorf("peer signs with %v, want %s", kid, k2.ID)
	}

	// Once every token of the first key has expired, the next rotation
	// deletes it.
	clk.Advance(life)
	if _, err := s.Rotate(); err != nil {
		t.Fatal(err)
	}
	keys = s.Keys()
	if len(keys) != 2 || keys[0].ID != k2.ID {
		t.Fatalf("keys after pruning %+v", keys)
	}
	if stored(first.ID) {
		t.Errorf("pruned key %s is still stored", first.ID)
	}

	// RemoveKey: tokens of a removed key are refused at once, even cached.
	fresh2 := issue(t, s, "alice", "alice-pw", "repository:app:pull")
	if got, _, err := check(t, s, "/v2/app/blobs/x", "Bearer "+fresh2, acc); got != allow {
		t.Fatal(err)
	}
	current := s.Keys()[1].ID
	if err := s.RemoveKey(current); !errors.Is(err, errdef.ErrPrecondition) {
		t.Errorf("removing the signer: %v", err)
	}
	if err := s.RemoveKey("nope"); !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("removing an unknown key: %v", err)
	}
	if _, err := s.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveKey(current); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := check(t, s, "/v2/app/blobs/x", "Bearer "+fresh2, acc); got != challenged {
		t.Errorf("token of a removed key: %v", got)
	}
	// A restart does not bring it back.
	s3 := newService(t, clk, keyStore())
	if _, err := s3.Verify(fresh2, testService); !errors.Is(err, token.ErrUnauthorized) {
		t.Errorf("after restart: %v", err)
	}
}

func TestKeyDirErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.pem"), []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := token.New(token.WithKeyDir(dir)); !errors.Is(err, errdef.ErrInvalid) {
		t.Errorf("bad key file: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := token.New(token.WithKeyDir(file)); !errors.Is(err, errdef.ErrUnavailable) {
		t.Errorf("folder is a file: %v", err)
	}
	if _, err := token.New(token.WithAlgorithm("RS256")); !errors.Is(err, errdef.ErrUnsupported) {
		t.Errorf("RS256: %v", err)
	}
	if _, err := token.New(token.WithLifetime(0)); !errors.Is(err, errdef.ErrInvalid) {
		t.Errorf("zero lifetime: %v", err)
	}
}

// The Azure SDK for Go reads a refresh token's expiry by decoding its
// payload with standard base64; the payload must decode both ways whatever
// the subject and tenant hold.
func TestPayloadIsStandardBase64(t *testing.T) {
	s := newService(t, newClock(), token.WithIdentityVerifier(token.StaticIdentities{"id": "ü?~>é😀\x7f/+?"}))
	for range 20 {
		resp := call(s.Handler(), postReq("/oauth2/exchange", map[string][]string{
			"grant_type": {"access_token"}, "access_token": {"id"}, "tenant": {"~~??~~"},
		}))
		rt := decode(t, resp, http.StatusOK).RefreshToken
		seg := strings.Split(rt, ".")[1]
		if strings.ContainsAny(seg, "-_") {
			t.Fatalf("payload %q has base64url-only characters", seg)
		}
		if n := len(seg) % 4; n > 0 {
			seg += strings.Repeat("=", 4-n)
		}
		b, err := base64.StdEncoding.DecodeString(seg)
		if err != nil {
			t.Fatal(err)
		}
		var c token.Claims
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		if c.Subject != "ü?~>é😀\x7f/+?" || c.Tenant != "~~??~~" {
			t.Fatalf("claims %+v", c)
		}
	}
}
