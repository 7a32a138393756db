package token_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/token"
)

var (
	accPull     = []httpapi.Action{httpapi.ActionPull, httpapi.ActionContentRead}
	accPullMeta = []httpapi.Action{httpapi.ActionPull, httpapi.ActionMetadataRead}
	accPush     = []httpapi.Action{httpapi.ActionPush, httpapi.ActionContentWrite}
	accDelete   = []httpapi.Action{httpapi.ActionDelete, httpapi.ActionContentDelete}
	accMetaW    = []httpapi.Action{httpapi.ActionMetadataWrite}
	accUntag    = []httpapi.Action{httpapi.ActionDelete, httpapi.ActionMetadataWrite}
	catalog     = []httpapi.Action{httpapi.ActionPull, httpapi.ActionMetadataRead}
)

// issue gets an access token from the service's own endpoint.
func issue(t testing.TB, s *token.Service, user, pass string, scopes ...string) string {
	t.Helper()
	q := ""
	for _, sc := range scopes {
		q += "&scope=" + sc
	}
	return decode(t, call(s.Handler(), getReq("/oauth2/token?"+q, user, pass)), http.StatusOK).Token
}

type outcome int

const (
	allow outcome = iota
	challenged
	denied
)

func (o outcome) String() string { return [...]string{"allow", "challenge", "deny"}[o] }

// check runs the authorizer and classifies its answer.
func check(t *testing.T, s *token.Service, path, auth string, acc httpapi.Access) (outcome, *httpapi.Challenge, error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "http://"+testService+path, nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	err := s.Authorizer().Authorize(context.Background(), r, acc)
	var ch *httpapi.Challenge
	switch {
	case err == nil:
		return allow, nil, nil
	case errors.As(err, &ch):
		if !errors.Is(err, errdef.ErrUnauthorized) {
			t.Errorf("challenge %v does not wrap ErrUnauthorized", err)
		}
		return challenged, ch, err
	case errors.Is(err, errdef.ErrDenied):
		return denied, nil, err
	}
	t.Fatalf("unexpected error %v", err)
	return 0, nil, nil
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestAuthorizer(t *testing.T) {
	s := newService(t, newClock())
	alicePull := "Bearer " + issue(t, s, "alice", "alice-pw", "repository:app:pull,push", "repository:team/a:pull,push")
	bobAll := "Bearer " + issue(t, s, "bob", "bob-pw", "repository:x:*", "registry:catalog:*")
	anonTok := "Bearer " + issue(t, s, "", "", "repository:public/web:pull,push")
	meta := "Bearer " + issue(t, s, "alice", "alice-pw", "repository:team/a:metadata_write")
	carolPull := "Bearer " + issue(t, s, "carol", "carol-pw", "repository:pulls/x:pull")
	tests := []struct {
		name      string
		path      string
		auth      string
		acc       httpapi.Access
		want      outcome
		wantScope string
	}{
		// No credentials.
		{"anon pull of a public repository", "/v2/public/web/blobs/x", "", httpapi.Access{Repository: "public/web", Actions: accPull}, allow, ""},
		{"anon pull of a private repository", "/v2/app/blobs/x", "", httpapi.Access{Repository: "app", Actions: accPull}, challenged, "repository:app:pull"},
		{"anon pull of a missing repository", "/v2/nothere/blobs/x", "", httpapi.Access{Repository: "nothere", Actions: accPull}, challenged, "repository:nothere:pull"},
		{"anon tags list", "/v2/public/web/tags/list", "", httpapi.Access{Repository: "public/web", Actions: accPullMeta}, challenged, "repository:public/web:pull"},
		{"anon push probe", "/v2/public/web/blobs/uploads/", "", httpapi.Access{Repository: "public/web", Actions: accPush}, challenged, "repository:public/web:push"},
		{"anon acr metadata write", "/acr/v1/public/web", "", httpapi.Access{Repository: "public/web", Actions: accMetaW}, challenged, "repository:public/web:metadata_write"},
		{"anon acr untag", "/acr/v1/public/web/_tags/v1", "", httpapi.Access{Repository: "public/web", Actions: accUntag}, challenged, "repository:public/web:metadata_write"},
		{"anon base", "/v2/", "", httpapi.Access{}, challenged, ""},
		{"anon catalog", "/v2/_catalog", "", httpapi.Access{Actions: catalog}, challenged, "registry:catalog:*"},
		// Bearer.
		{"bearer base", "/v2/", alicePull, httpapi.Access{}, allow, ""},
		{"bearer pull", "/v2/app/manifests/v1", alicePull, httpapi.Access{Repository: "app", Actions: accPull}, allow, ""},
		{"bearer tags list with pull", "/v2/app/tags/list", alicePull, httpapi.Access{Repository: "app", Actions: accPullMeta}, allow, ""},
		{"bearer push not held", "/v2/app/blobs/uploads/", alicePull, httpapi.Access{Repository: "app", Actions: accPush}, challenged, "repository:app:push"},
		{"bearer push held", "/v2/team/a/blobs/uploads/", alicePull, httpapi.Access{Repository: "team/a", Actions: accPush}, allow, ""},
		{"bearer pull outside its claims that anyone may make", "/v2/public/web/blobs/x", alicePull, httpapi.Access{Repository: "public/web", Actions: accPull}, allow, ""},
		{"bearer other repository", "/v2/team/b/manifests/v1", alicePull, httpapi.Access{Repository: "team/b", Actions: accPull}, challenged, "repository:team/b:pull"},
		{"bearer acr metadata write by claim", "/acr/v1/team/a", meta, httpapi.Access{Repository: "team/a", Actions: accMetaW}, allow, ""},
		{"bearer acr untag by metadata_write", "/acr/v1/team/a/_tags/v1", meta, httpapi.Access{Repository: "team/a", Actions: accUntag}, allow, ""},
		{"bearer acr write without claim", "/acr/v1/team/a", alicePull, httpapi.Access{Repository: "team/a", Actions: accMetaW}, challenged, "repository:team/a:metadata_write"},
		{"bearer catalog", "/v2/_catalog", bobAll, httpapi.Access{Actions: catalog}, allow, ""},
		{"bearer catalog not granted", "/v2/_catalog", alicePull, httpapi.Access{Actions: catalog}, challenged, "registry:catalog:*"},
		{"bearer star grants delete", "/v2/x/manifests/sha256:x", bobAll, httpapi.Access{Repository: "x", Actions: accDelete}, allow, ""},
		{"anonymous token pull", "/v2/public/web/manifests/v1", anonTok, httpapi.Access{Repository: "public/web", Actions: accPull}, allow, ""},
		{"anonymous token push", "/v2/public/web/blobs/uploads/", anonTok, httpapi.Access{Repository: "public/web", Actions: accPush}, challenged, "repository:public/web:push"},
		{"unknown action", "/v2/team/a/x", meta, httpapi.Access{Repository: "team/a", Actions: []httpapi.Action{"frobnicate"}}, challenged, "repository:team/a:"},
		// Basic.
		{"basic pull", "/v2/app/blobs/x", basic("alice", "alice-pw"), httpapi.Access{Repository: "app", Actions: accPull}, allow, ""},
		{"basic push denied", "/v2/app/blobs/uploads/", basic("alice", "alice-pw"), httpapi.Access{Repository: "app", Actions: accPush}, challenged, "repository:app:push"},
		{"basic push to a missing repository denied alike", "/v2/nothere/blobs/uploads/", basic("alice", "alice-pw"), httpapi.Access{Repository: "nothere", Actions: accPush}, challenged, "repository:nothere:push"},
		{"basic wrong password", "/v2/app/blobs/x", basic("alice", "x"), httpapi.Access{Repository: "app", Actions: accPull}, challenged, "repository:app:pull"},
		{"basic malformed", "/v2/app/blobs/x", "Basic !!!", httpapi.Access{Repository: "app", Actions: accPull}, challenged, "repository:app:pull"},
		{"basic catalog", "/v2/_catalog", basic("bob", "bob-pw"), httpapi.Access{Actions: catalog}, allow, ""},
		{"basic catalog denied", "/v2/_catalog", basic("alice", "alice-pw"), httpapi.Access{Actions: catalog}, challenged, "registry:catalog:*"},
		// A pull-only identity listing tags: the token carries pull, the
		// identity lacks metadata/read; the challenge names what it lacks
		// in ACR's vocabulary, by token and by Basic alike.
		{"bearer tags list with a pull-only identity", "/v2/pulls/x/tags/list", carolPull, httpapi.Access{Repository: "pulls/x", Actions: accPullMeta}, challenged, "repository:pulls/x:metadata_read"},
		{"basic tags list with a pull-only identity", "/v2/pulls/x/tags/list", basic("carol", "carol-pw"), httpapi.Access{Repository: "pulls/x", Actions: accPullMeta}, challenged, "repository:pulls/x:metadata_read"},
		{"bearer pull with a pull-only identity", "/v2/pulls/x/manifests/v1", carolPull, httpapi.Access{Repository: "pulls/x", Actions: accPull}, allow, ""},
		{"basic acr delete", "/acr/v1/x", basic("bob", "bob-pw"), httpapi.Access{Repository: "x", Actions: []httpapi.Action{httpapi.ActionContentDelete}}, allow, ""},
		{"basic acr deleted/read", "/acr/v1/_deleted/x/_tags", basic("bob", "bob-pw"), httpapi.Access{Repository: "x", Actions: []httpapi.Action{"deleted/read"}}, allow, ""},
		// Other schemes count as none.
		{"digest scheme", "/v2/public/web/blobs/x", "Digest x", httpapi.Access{Repository: "public/web", Actions: accPull}, allow, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ch, err := check(t, s, tc.path, tc.auth, tc.acc)
			if got != tc.want {
				t.Fatalf("got %v (%v), want %v", got, err, tc.want)
			}
			if ch == nil {
				return
			}
			if ch.Scheme != "Bearer" || ch.Realm != "http://"+testService+"/oauth2/token" || ch.Service != testService || ch.Scope != tc.wantScope {
				t.Errorf("challenge %+v, want scope %q", ch, tc.wantScope)
			}
		})
	}
}

func TestAuthorizerRefusesBadTokens(t *testing.T) {
	clk := newClock()
	s := newService(t, clk)
	other := newService(t, clk) // another key ring
	good := issue(t, s, "bob", "bob-pw", "repository:x:pull")
	foreign := issue(t, other, "bob", "bob-pw", "repository:x:pull")
	refresh := decode(t, call(s.Handler(), getReq("/oauth2/token?offline_token=true", "bob", "bob-pw")), 200).RefreshToken
	otherAud := func() string {
		o := newService(t, clk, token.WithService("elsewhere.test"))
		return issue(t, o, "bob", "bob-pw", "repository:x:pull")
	}()
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"regkit","sub":"bob","aud":"registry.test","exp":9999999999,"nbf":0,"iat":0,"jti":"x","version":"1.0","grant_type":"access_token","access":[{"type":"repository","name":"y","actions":["*"]}]}`)) + "." + parts[2]
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	hs := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "regkit", "aud": testService, "exp": 9999999999, "grant_type": "access_token"})
		tok.Header["kid"] = header(t, good)["kid"]
		out, err := tok.SignedString([]byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}()
	foreignKid := func() string {
		// Signed by an unknown key that claims the good token's kid.
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "regkit", "aud": testService, "exp": 9999999999, "grant_type": "access_token"})
		tok.Header["kid"] = header(t, good)["kid"]
		out, _ := tok.SignedString(k)
		return out
	}()
	for name, tok := range map[string]string{
		"garbage":         "not-a-jwt",
		"empty":           "",
		"two parts":       "a.b",
		"another key":     foreign,
		"tampered claims": tampered,
		"alg none":        none,
		"HS256 confusion": hs,
		"kid forged":      foreignKid,
		"refresh token":   refresh,
		"other audience":  otherAud,
		"huge":            strings.Repeat("a", 20000) + "." + parts[1] + "." + parts[2],
	} {
		t.Run(name, func(t *testing.T) {
			got, ch, err := check(t, s, "/v2/x/blobs/y", "Bearer "+tok, httpapi.Access{Repository: "x", Actions: accPull})
			if got != challenged {
				t.Fatalf("got %v (%v)", got, err)
			}
			var ae *token.AuthError
			if !errors.As(err, &ae) || ae.Reason != "invalid_token" || ch.Scope != "repository:x:pull" {
				t.Errorf("error %v, challenge %+v", err, ch)
			}
		})
	}
	if got, _, err := check(t, s, "/v2/x/blobs/y", "Bearer "+good, httpapi.Access{Repository: "x", Actions: accPull}); got != allow {
		t.Fatalf("the good token is refused: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	clk := newClock()
	s := newService(t, clk, token.WithLifetime(5*time.Minute))
	tok := "Bearer " + issue(t, s, "alice", "alice-pw", "repository:app:pull")
	acc := httpapi.Access{Repository: "app", Actions: accPull}
	clk.Advance(5*time.Minute - time.Second)
	if got, _, err := check(t, s, "/v2/app/blobs/x", tok, acc); got != allow {
		t.Fatalf("before expiry: %v", err)
	}
	clk.Advance(time.Second)
	got, _, err := check(t, s, "/v2/app/blobs/x", tok, acc)
	if got != challenged || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("at expiry: %v %v", got, err)
	}
}

func TestRightsChangeBites(t *testing.T) {
	auth := testAuthority()
	s := newService(t, newClock(), token.WithAuthority(auth))
	tok := "Bearer " + issue(t, s, "alice", "alice-pw", "repository:team/a:pull,push")
	acc := httpapi.Access{Repository: "team/a", Actions: accPush}
	if got, _, err := check(t, s, "/v2/team/a/blobs/uploads/", tok, acc); got != allow {
		t.Fatalf("before: %v", err)
	}
	// The scope map narrows: the token still says push, the authority no.
	u := auth.Users["alice"]
	u.Rights["team/*"] = []string{token.RightContentRead}
	if got, ch, err := check(t, s, "/v2/team/a/blobs/uploads/", tok, acc); got != challenged || ch.Scope != "repository:team/a:push" || ch.ErrorCode != "insufficient_scope" {
		t.Fatalf("after narrowing: %v %+v %v", got, ch, err)
	}
	// The identity goes: its tokens get a challenge.
	delete(auth.Users, "alice")
	if got, _, err := check(t, s, "/v2/team/a/blobs/x", tok, httpapi.Access{Repository: "team/a", Actions: accPull}); got != challenged {
		t.Fatalf("after removal: %v %v", got, err)
	}
	// Anonymous pulls stop when the anonymous rights go.
	anon := "Bearer " + issue(t, s, "", "", "repository:public/web:pull")
	delete(auth.Anonymous, "public/*")
	if got, _, err := check(t, s, "/v2/public/web/blobs/x", anon, httpapi.Access{Repository: "public/web", Actions: accPull}); got != challenged {
		t.Fatalf("anonymous after removal: %v %v", got, err)
	}
}

func TestNullUsernameOnRequests(t *testing.T) {
	s := newService(t, newClock())
	refresh := decode(t, call(s.Handler(), getReq("/oauth2/token?offline_token=true", "bob", "bob-pw")), 200).RefreshToken
	if got, _, err := check(t, s, "/v2/x/blobs/uploads/", basic(token.NullUsername, refresh), httpapi.Access{Repository: "x", Actions: accPush}); got != allow {
		t.Fatalf("refresh token as Basic password: %v", err)
	}
	if got, _, _ := check(t, s, "/v2/x/blobs/uploads/", basic(token.NullUsername, "junk"), httpapi.Access{Repository: "x", Actions: accPush}); got != challenged {
		t.Fatalf("junk refresh token: %v", got)
	}
}

func TestRealmFromRequest(t *testing.T) {
	s, err := token.New(token.WithAuthority(testAuthority()))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "https://Reg.Example:8443/v2/", nil)
	err = s.Authorizer().Authorize(context.Background(), r, httpapi.Access{})
	var ch *httpapi.Challenge
	if !errors.As(err, &ch) {
		t.Fatal(err)
	}
	if ch.Realm != "https://Reg.Example:8443/oauth2/token" || ch.Service != "reg.example:8443" {
		t.Errorf("challenge %+v", ch)
	}
	r = httptest.NewRequest(http.MethodGet, "http://reg.example/v2/", nil)
	r.Header.Set("X-Forwarded-Proto", "https")
	_ = errors.As(s.Authorizer().Authorize(context.Background(), r, httpapi.Access{}), &ch)
	if ch.Realm != "https://reg.example/oauth2/token" {
		t.Errorf("forwarded realm %q", ch.Realm)
	}
	s2, _ := token.New(token.WithRealm("https://auth.example/token"), token.WithService("svc"))
	_ = errors.As(s2.Authorizer().Authorize(context.Background(), r, httpapi.Access{}), &ch)
	if ch.Realm != "https://auth.example/token" || ch.Service != "svc" {
		t.Errorf("configured challenge %+v", ch)
	}
}

func TestChallengeErrorCodes(t *testing.T) {
	s := newService(t, newClock())
	alice := "Bearer " + issue(t, s, "alice", "alice-pw", "repository:app:pull")
	acc := httpapi.Access{Repository: "app", Actions: accPush}
	for _, tt := range []struct{ name, auth, want string }{
		{"no credentials", "", ""},
		{"garbage token", "Bearer not.a.jwt", "invalid_token"},
		{"token without the scope", alice, "insufficient_scope"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, ch, _ := check(t, s, "/v2/app/blobs/uploads/", tt.auth, acc)
			if ch == nil || ch.ErrorCode != tt.want {
				t.Fatalf("challenge %+v, want error code %q", ch, tt.want)
			}
			if tt.want != "" && !strings.Contains(ch.String(), `,error="`+tt.want+`"`) {
				t.Fatalf("header %s lacks the error code", ch.String())
			}
		})
	}
}
