package token_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regkit/regkit/registry/token"
)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const testService = "registry.test"

// testAuthority: alice pulls app and pushes team/*; bob is admin of
// everything with the catalog; anonymous pulls public/*.
func testAuthority() token.Static {
	return token.Static{
		Users: map[string]token.StaticUser{
			"alice": {Password: "alice-pw", Rights: map[string][]string{
				"app":    {token.RightContentRead, token.RightMetadataRead},
				"team/*": {token.RightContentRead, token.RightContentWrite, token.RightMetadataRead, token.RightMetadataWrite},
			}},
			// carol pulls only, as ACR's _repositories_pull grants.
			"carol": {Password: "carol-pw", Rights: map[string][]string{
				"pulls/*": {token.RightContentRead},
			}},
			"bob": {Password: "bob-pw", Rights: map[string][]string{
				"*": {token.RightContentRead, token.RightContentWrite, token.RightContentDelete,
					token.RightMetadataRead, token.RightMetadataWrite, token.RightDeletedRead, token.RightDeletedRestore},
				"": {token.RightCatalog},
			}},
		},
		Anonymous: map[string][]string{
			"public/*": {token.RightContentRead, token.RightMetadataRead},
		},
	}
}

// newService builds a Service on a fake clock with the test authority and
// service name, plus opts.
func newService(t testing.TB, clk *clock, opts ...token.Option) *token.Service {
	t.Helper()
	all := append([]token.Option{
		token.WithAuthority(testAuthority()),
		token.WithService(testService),
		token.WithClock(clk.Now),
	}, opts...)
	s, err := token.New(all...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// call sends a request to h and returns the response.
func call(h http.Handler, r *http.Request) *http.Response {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func getReq(path string, user, pass string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://"+testService+path, nil)
	if user != "" || pass != "" {
		r.SetBasicAuth(user, pass)
	}
	return r
}

func postReq(path string, form url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://"+testService+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// tokenBody is every field the token endpoints may answer.
type tokenBody struct {
	Token        string `json:"token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	IssuedAt     string `json:"issued_at"`
	Scope        string `json:"scope"`
	Errors       []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

func decode(t testing.TB, resp *http.Response, wantStatus int) tokenBody {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, wantStatus, b)
	}
	var tb tokenBody
	if err := json.Unmarshal(b, &tb); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	return tb
}

// payload decodes a token's claims without verifying it.
func payload(t testing.TB, tok string) token.Claims {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", tok, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c token.Claims
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func header(t testing.TB, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}
