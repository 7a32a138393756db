package token_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry/token"
)

// sdkChallenge parses WWW-Authenticate the way the Azure SDK for Go's
// authentication policy does: strip "Bearer ", split on `",`, then on "=".
func sdkChallenge(h string) (service, scope string, ok bool) {
	vals := map[string]string{}
	for _, part := range strings.Split(strings.ReplaceAll(h, "Bearer ", ""), `",`) {
		kv := strings.Split(part, "=")
		if len(kv) == 2 {
			vals[kv[0]] = strings.ReplaceAll(kv[1], `"`, "")
		}
	}
	service, ok1 := vals["service"]
	scope, ok2 := vals["scope"]
	return service, scope, ok1 && ok2
}

// sdkDo sends a request as the Azure SDK does without a credential: first
// without its body (the probe), then on 401 an anonymous POST
// /oauth2/token (grant_type password, empty refresh_token) and the request
// again with the token and the body.
func sdkDo(t *testing.T, base, method, path string, body []byte) *http.Response {
	t.Helper()
	probe, _ := http.NewRequest(method, base+path, nil)
	resp, err := http.DefaultClient.Do(probe)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("probe %s %s: status %d, want 401 before any body is sent", method, path, resp.StatusCode)
	}
	service, scope, ok := sdkChallenge(resp.Header.Get("WWW-Authenticate"))
	if !ok {
		t.Fatalf("challenge %q does not parse as the SDK parses it", resp.Header.Get("WWW-Authenticate"))
	}
	tr, err := http.PostForm(base+"/oauth2/token?api-version=2021-07-01", url.Values{
		"grant_type": {"password"}, "refresh_token": {""}, "scope": {scope}, "service": {service},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := decode(t, tr, http.StatusOK).AccessToken
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestAzureSDKAnonymousFlow(t *testing.T) {
	blob := []byte("sdk blob")
	sum := sha256.Sum256(blob)
	dgst := "sha256:" + hex.EncodeToString(sum[:])
	upload := func(t *testing.T, srv *server, repo string) int {
		resp := sdkDo(t, srv.url, http.MethodPost, "/v2/"+repo+"/blobs/uploads/?digest="+dgst, blob)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	// An open registry: the probe is challenged, the anonymous token
	// carries push, the retry with the body succeeds.
	open := startServer(t, token.WithAuthority(token.Open()))
	if got := upload(t, open, "sdk/app"); got != http.StatusCreated {
		t.Fatalf("open registry: upload status %d", got)
	}
	// Anonymous pull only: the token grants no push; the retry gets 401.
	closed := startServer(t)
	if got := upload(t, closed, "public/web"); got != http.StatusUnauthorized {
		t.Fatalf("pull-only anonymous: upload status %d", got)
	}
	// And its pull of public content goes through the same flow (the
	// catalog is challenged, then refused to the anonymous token).
	resp := sdkDo(t, closed.url, http.MethodGet, "/v2/_catalog", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous catalog: %d", resp.StatusCode)
	}
}
