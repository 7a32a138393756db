package token_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/token"
)

// FuzzParseScopes: any scope string parses or fails with ErrInvalidScope,
// never panics, and a parsed scope renders back to a string that parses to
// the same scope.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{
		"repository:app:pull",
		"repository:team/a:pull,push repository:b:*",
		"registry:catalog:*",
		"repository(plugin):x:pull",
		"repository:localhost:5000/app:pull",
		"repository:app",
		"a:b:c:d",
		":::",
		"repository:App:pull",
		"repository:a:metadata_read,deleted_restore",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		scopes, err := token.ParseScopes(in)
		if err != nil {
			if !errors.Is(err, token.ErrInvalidScope) {
				t.Fatalf("error %v is not ErrInvalidScope", err)
			}
			return
		}
		if len(scopes) > token.MaxScopes {
			t.Fatalf("%d scopes", len(scopes))
		}
		for _, sc := range scopes {
			again, err := token.ParseScopes(sc.String())
			if err != nil || len(again) != 1 || again[0].String() != sc.String() {
				t.Fatalf("%q renders as %q, which parses to %v, %v", in, sc.String(), again, err)
			}
		}
	})
}

// FuzzVerify: any Authorization value and any token fed to the Authorizer
// and the token endpoints is refused or accepted, never a panic; a token
// that is not the service's own never authorizes a push.
func FuzzVerify(f *testing.F) {
	clk := newClock()
	s := newService(f, clk)
	good := issue(f, s, "bob", "bob-pw", "repository:x:pull,push")
	parts := strings.Split(good, ".")
	f.Add(good)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + ".." + parts[2])
	f.Add("e30.e30.")
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOjk5OTk5OTk5OTl9.")
	f.Add("....")
	f.Add("\x00\xff")
	acc := httpapi.Access{Repository: "x", Actions: []httpapi.Action{httpapi.ActionPush, httpapi.ActionContentWrite}}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok, testService)
		if err == nil && tok != good {
			// Only re-encodings of the good token may pass (base64 padding
			// bits); they must carry its claims.
			if c.Subject != "bob" {
				t.Fatalf("foreign token %q verified: %+v", tok, c)
			}
		}
		if err != nil && !errors.Is(err, token.ErrUnauthorized) {
			t.Fatalf("error %v is not ErrUnauthorized", err)
		}
		r := httptest.NewRequest(http.MethodPost, "http://"+testService+"/v2/x/blobs/uploads/", nil)
		r.Header["Authorization"] = []string{"Bearer " + tok}
		aerr := s.Authorizer().Authorize(context.Background(), r, acc)
		if (aerr == nil) != (err == nil) {
			t.Fatalf("Verify %v but Authorize %v", err, aerr)
		}
		r.Header["Authorization"] = []string{tok}
		_ = s.Authorizer().Authorize(context.Background(), r, acc)
		// As a refresh token.
		resp := call(s.Handler(), postReq("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}}))
		if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("refresh token %q: status %d", tok, resp.StatusCode)
		}
	})
}
