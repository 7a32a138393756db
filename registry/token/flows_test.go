package token_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/token"
)

func TestDockerGet(t *testing.T) {
	clk := newClock()
	h := newService(t, clk).Handler()
	tests := []struct {
		name       string
		user, pass string
		query      string
		want       []token.Grant
	}{
		{
			name: "basic, asks more than held", user: "alice", pass: "alice-pw",
			query: "scope=repository:app:pull,push,delete&service=" + testService,
			want:  []token.Grant{{Type: "repository", Name: "app", Actions: []string{"pull"}}},
		},
		{
			name: "basic, several scopes and a wildcard", user: "alice", pass: "alice-pw",
			query: "scope=repository:team/a:*&scope=repository:other:pull+registry:catalog:*",
			want:  []token.Grant{{Type: "repository", Name: "team/a", Actions: []string{"pull", "push", "metadata_read", "metadata_write"}}},
		},
		{
			name: "admin gets the catalog", user: "bob", pass: "bob-pw",
			query: "scope=registry:catalog:*&scope=repository:x:pull,delete",
			want: []token.Grant{
				{Type: "registry", Name: "catalog", Actions: []string{"*"}},
				{Type: "repository", Name: "x", Actions: []string{"pull", "delete"}},
			},
		},
		{
			name:  "anonymous",
			query: "scope=repository:public/web:pull,push&scope=repository:app:pull",
			want:  []token.Grant{{Type: "repository", Name: "public/web", Actions: []string{"pull"}}},
		},
		{name: "anonymous, no scope", query: ""},
		{name: "unknown type and class grant nothing", user: "bob", pass: "bob-pw",
			query: "scope=repository(plugin):x:pull&scope=artifact-repository:x:pull"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := call(h, getReq("/oauth2/token?"+tc.query, tc.user, tc.pass))
			b := decode(t, resp, http.StatusOK)
			if b.Token == "" || b.Token != b.AccessToken {
				t.Fatalf("token %q, access_token %q", b.Token, b.AccessToken)
			}
			if b.ExpiresIn != int64(token.DefaultLifetime/time.Second) {
				t.Errorf("expires_in %d", b.ExpiresIn)
			}
			if b.IssuedAt != clk.Now().Format(time.RFC3339) {
				t.Errorf("issued_at %q", b.IssuedAt)
			}
			if b.RefreshToken != "" {
				t.Errorf("refresh token without offline_token")
			}
			c := payload(t, b.Token)
			if !reflect.DeepEqual(c.Access, tc.want) {
				t.Errorf("access %+v, want %+v", c.Access, tc.want)
			}
			if c.Subject != tc.user || c.Audience != testService || c.Issuer != token.DefaultIssuer || c.GrantType != "access_token" {
				t.Errorf("claims %+v", c)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q", got)
			}
		})
	}
}

func TestDockerGetRefusals(t *testing.T) {
	h := newService(t, newClock()).Handler()
	tests := []struct {
		name       string
		req        *http.Request
		status     int
		code       string
		msgHas     string
		challenged bool
	}{
		{"wrong password", getReq("/oauth2/token?scope=repository:app:pull", "alice", "nope"), 401, "UNAUTHORIZED", "", true},
		{"unknown user", getReq("/oauth2/token", "mallory", "x"), 401, "UNAUTHORIZED", "", true},
		{"malformed scope", getReq("/oauth2/token?scope=repository:app", "", ""), 400, "INVALID_SCOPE", `"repository:app"`, false},
		{"bad repository name", getReq("/oauth2/token?scope=repository:App/../x:pull", "", ""), 400, "INVALID_SCOPE", "bad repository name", false},
		{"bad action", getReq("/oauth2/token?scope=repository:app:PULL", "", ""), 400, "INVALID_SCOPE", "bad action", false},
		{"too many scopes", getReq("/oauth2/token?scope="+strings.Repeat("repository:a:pull+", 65), "", ""), 400, "INVALID_SCOPE", "more than 64", false},
		{"other service", getReq("/oauth2/token?service=evil.example", "", ""), 400, "INVALID_REQUEST", "unknown service", false},
		{"bearer credentials", func() *http.Request {
			r := getReq("/oauth2/token", "", "")
			r.Header.Set("Authorization", "Bearer x")
			return r
		}(), 401, "UNAUTHORIZED", "", true},
		{"method", newRawRequest(http.MethodPut, "/oauth2/token"), 405, "UNSUPPORTED", "", false},
		{"exchange by GET", newRawRequest(http.MethodGet, "/oauth2/exchange"), 405, "UNSUPPORTED", "", false},
		{"unknown path", newRawRequest(http.MethodGet, "/oauth2/other"), 404, "UNSUPPORTED", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := call(h, tc.req)
			b := decode(t, resp, tc.status)
			if len(b.Errors) != 1 || b.Errors[0].Code != tc.code || !strings.Contains(b.Errors[0].Message, tc.msgHas) {
				t.Errorf("errors %+v, want code %s with %q", b.Errors, tc.code, tc.msgHas)
			}
			if got := resp.Header.Get("WWW-Authenticate") != ""; got != tc.challenged {
				t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

func newRawRequest(method, path string) *http.Request {
	r := getReq(path, "", "")
	r.Method = method
	return r
}

func TestACRPostPassword(t *testing.T) {
	h := newService(t, newClock()).Handler()
	// What the Azure SDK sends without a credential: grant_type password
	// and an empty refresh_token.
	b := decode(t, call(h, postReq("/oauth2/token?api-version=2021-07-01", url.Values{
		"grant_type":    {"password"},
		"refresh_token": {""},
		"scope":         {"repository:public/web:metadata_write"},
		"service":       {testService},
	})), http.StatusOK)
	if b.AccessToken == "" || b.Token != "" || b.RefreshToken != "" {
		t.Fatalf("anonymous answer %+v", b)
	}
	if c := payload(t, b.AccessToken); c.Subject != "" || len(c.Access) != 0 {
		t.Errorf("anonymous metadata_write granted: %+v", c)
	}

	// Docker's OAuth2 password grant, asking for a refresh token.
	b = decode(t, call(h, postReq("/oauth2/token", url.Values{
		"grant_type":  {"password"},
		"username":    {"alice"},
		"password":    {"alice-pw"},
		"scope":       {"repository:team/a:pull,push repository:app:push"},
		"service":     {testService},
		"client_id":   {"docker"},
		"access_type": {"offline"},
	})), http.StatusOK)
	if b.RefreshToken == "" || b.Scope != "repository:team/a:pull,push" || b.ExpiresIn <= 0 {
		t.Fatalf("password answer %+v", b)
	}
	if c := payload(t, b.RefreshToken); c.GrantType != "refresh_token" || c.Subject != "alice" || len(c.Access) != 0 {
		t.Errorf("refresh claims %+v", c)
	}

	// Basic credentials on the POST count as the password grant's.
	r := postReq("/oauth2/token", url.Values{"grant_type": {"password"}, "scope": {"repository:app:pull"}})
	r.SetBasicAuth("alice", "alice-pw")
	if c := payload(t, decode(t, call(h, r), http.StatusOK).AccessToken); c.Subject != "alice" || len(c.Access) != 1 {
		t.Errorf("basic on POST: %+v", c)
	}

	// Wrong password: 401.
	decode(t, call(h, postReq("/oauth2/token", url.Values{
		"grant_type": {"password"}, "username": {"alice"}, "password": {"x"},
	})), http.StatusUnauthorized)
}

func TestACRRefreshFlow(t *testing.T) {
	clk := newClock()
	h := newService(t, clk, token.WithIdentityVerifier(token.StaticIdentities{"entra-token-of-bob": "bob"})).Handler()
	// 1. exchange an identity token for a refresh token.
	ex := decode(t, call(h, postReq("/oauth2/exchange", url.Values{
		"grant_type":   {"access_token"},
		"service":      {testService},
		"tenant":       {"tenant-1"},
		"access_token": {"entra-token-of-bob"},
	})), http.StatusOK)
	if ex.RefreshToken == "" || ex.AccessToken != "" {
		t.Fatalf("exchange answer %+v", ex)
	}
	rc := payload(t, ex.RefreshToken)
	if rc.Subject != "bob" || rc.Tenant != "tenant-1" || rc.ExpiresAt-rc.IssuedAt != int64(token.DefaultRefreshLifetime/time.Second) {
		t.Errorf("refresh claims %+v", rc)
	}
	// 2. refresh token → access token.
	at := decode(t, call(h, postReq("/oauth2/token", url.Values{
		"grant_type":    {"refresh_token"},
		"service":       {testService},
		"scope":         {"registry:catalog:*"},
		"refresh_token": {ex.RefreshToken},
	})), http.StatusOK)
	if c := payload(t, at.AccessToken); c.Subject != "bob" || len(c.Access) != 1 || c.Access[0].Name != "catalog" {
		t.Errorf("access claims %+v", c)
	}
	// An access token is not a refresh token, and a refresh token for
	// another service is refused.
	decode(t, call(h, postReq("/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {at.AccessToken},
	})), http.StatusUnauthorized)
	// docker login with the null username and the refresh token.
	b := decode(t, call(h, getReq("/oauth2/token?scope=repository:x:push", token.NullUsername, ex.RefreshToken)), http.StatusOK)
	if c := payload(t, b.Token); c.Subject != "bob" || len(c.Access) != 1 {
		t.Errorf("null-username claims %+v", c)
	}
	// Expired refresh token.
	clk.Advance(token.DefaultRefreshLifetime)
	decode(t, call(h, postReq("/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {ex.RefreshToken},
	})), http.StatusUnauthorized)
}

func TestDockerGetOffline(t *testing.T) {
	h := newService(t, newClock()).Handler()
	b := decode(t, call(h, getReq("/oauth2/token?offline_token=true&scope=repository:app:pull", "alice", "alice-pw")), http.StatusOK)
	if b.RefreshToken == "" {
		t.Fatal("no refresh token with offline_token=true")
	}
	b = decode(t, call(h, getReq("/oauth2/token?offline_token=true", "", "")), http.StatusOK)
	if b.RefreshToken != "" {
		t.Fatal("refresh token for the anonymous caller")
	}
}

func TestExchangeRefusals(t *testing.T) {
	with := newService(t, newClock(), token.WithIdentityVerifier(token.StaticIdentities{"good": "bob"})).Handler()
	without := newService(t, newClock()).Handler()
	tests := []struct {
		name   string
		h      http.Handler
		form   url.Values
		status int
		code   string
	}{
		{"unknown identity", with, url.Values{"grant_type": {"access_token"}, "access_token": {"bad"}}, 401, "UNAUTHORIZED"},
		{"missing access token", with, url.Values{"grant_type": {"access_token"}}, 400, "INVALID_REQUEST"},
		{"missing refresh token", with, url.Values{"grant_type": {"access_token_refresh_token"}, "access_token": {"good"}}, 400, "INVALID_REQUEST"},
		{"no grant type", with, url.Values{"access_token": {"good"}}, 400, "UNSUPPORTED_GRANT_TYPE"},
		{"odd grant type", with, url.Values{"grant_type": {"client_credentials"}}, 400, "UNSUPPORTED_GRANT_TYPE"},
		{"no verifier", without, url.Values{"grant_type": {"access_token"}, "access_token": {"good"}}, 400, "UNSUPPORTED_GRANT_TYPE"},
		{"wrong service", with, url.Values{"grant_type": {"access_token"}, "access_token": {"good"}, "service": {"x"}}, 400, "INVALID_REQUEST"},
		{"refresh grant", with, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"good"}}, 200, ""},
		{"both", with, url.Values{"grant_type": {"access_token_refresh_token"}, "access_token": {"x"}, "refresh_token": {"good"}}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := decode(t, call(tc.h, postReq("/oauth2/exchange", tc.form)), tc.status)
			if tc.code != "" && (len(b.Errors) != 1 || b.Errors[0].Code != tc.code) {
				t.Errorf("errors %+v, want %s", b.Errors, tc.code)
			}
		})
	}
}

func TestPostRefusals(t *testing.T) {
	h := newService(t, newClock()).Handler()
	big := url.Values{"grant_type": {"password"}, "scope": {strings.Repeat("a", token.MaxFormBytes)}}
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"oversized body", big, 400, "INVALID_REQUEST"},
		{"no grant type", url.Values{}, 400, "UNSUPPORTED_GRANT_TYPE"},
		{"client credentials", url.Values{"grant_type": {"client_credentials"}}, 400, "UNSUPPORTED_GRANT_TYPE"},
		{"empty refresh token", url.Values{"grant_type": {"refresh_token"}}, 400, "INVALID_REQUEST"},
		{"garbage refresh token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"a.b.c"}}, 401, "UNAUTHORIZED"},
		{"malformed scope", url.Values{"grant_type": {"password"}, "scope": {"repository::pull"}}, 400, "INVALID_SCOPE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := decode(t, call(h, postReq("/oauth2/token", tc.form)), tc.status)
			if len(b.Errors) != 1 || b.Errors[0].Code != tc.code {
				t.Errorf("errors %+v, want %s", b.Errors, tc.code)
			}
		})
	}
	// A malformed body.
	r := postReq("/oauth2/token", nil)
	r.Body = http.NoBody
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Body = badBody{}
	decode(t, call(h, r), 400)
}

type badBody struct{}

func (badBody) Read([]byte) (int, error) { return 0, errors.New("connection reset") }
func (badBody) Close() error             { return nil }

// failingAuthority fails Allowed with err.
type failingAuthority struct {
	token.Static
	err error
}

func (f failingAuthority) Allowed(context.Context, string, string) ([]string, error) {
	return nil, f.err
}

func TestAuthorityFailures(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{errdef.ErrUnavailable, 503},
		{errors.New("boom"), 500},
		{errdef.ErrUnauthorized, 401},
	} {
		s := newService(t, newClock(), token.WithAuthority(failingAuthority{testAuthority(), tc.err}))
		decode(t, call(s.Handler(), getReq("/oauth2/token?scope=repository:app:pull", "alice", "alice-pw")), tc.status)
	}
}
