// Package bearer is an http.RoundTripper that follows a registry's Bearer
// challenges with the Docker token flow, for regkit's own tools and tests
// that speak raw HTTP (clients such as oras-go and go-containerregistry
// follow challenges themselves).
//
// On a 401 with a Bearer challenge it asks the challenge's realm for a
// token covering pull, push and delete on the request's repository (or the
// challenge's own scope for registry-level requests), with Basic
// credentials when set, keeps it per repository, and sends the request
// again when its body can be replayed (a request without a body, or one
// with GetBody). Later requests to the same repository carry the token from
// the start, so a streamed upload body is sent once, after the session's
// POST has fetched the token.
package bearer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Transport follows Bearer challenges. The zero value uses
// http.DefaultTransport and no credentials.
type Transport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Username and Password, when set, go to the token endpoint as Basic
	// credentials.
	Username, Password string

	mu     sync.Mutex
	tokens map[string]string // host + " " + repository → token
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.URL.Host + " " + repository(req.URL.Path)
	t.mu.Lock()
	tok := t.tokens[key]
	t.mu.Unlock()
	send := req
	if tok != "" {
		send = req.Clone(req.Context())
		send.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := t.base().RoundTrip(send)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	params, ok := challenge(resp.Header.Get("WWW-Authenticate"))
	if !ok {
		return resp, nil
	}
	// Release the connection before asking for a token: a transport
	// limited to one connection per host would otherwise wait for it
	// forever. The 401's body is kept for a caller that gets it back.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	tok, err = t.fetch(req, params)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if t.tokens == nil {
		t.tokens = map[string]string{}
	}
	t.tokens[key] = tok
	t.mu.Unlock()
	retry := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return resp, nil // the caller sees the 401; the next request carries the token
		}
		if retry.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	retry.Header.Set("Authorization", "Bearer "+tok)
	return t.base().RoundTrip(retry)
}

// fetch asks the challenge's realm for a token.
func (t *Transport) fetch(req *http.Request, params map[string]string) (string, error) {
	realm := params["realm"]
	if realm == "" {
		return "", fmt.Errorf("bearer: challenge without a realm")
	}
	q := url.Values{}
	q.Set("service", params["service"])
	if repo := repository(req.URL.Path); repo != "" {
		q.Set("scope", "repository:"+repo+":pull,push,delete")
	}
	if s := params["scope"]; s != "" {
		q.Add("scope", s)
	}
	treq, err := http.NewRequestWithContext(req.Context(), http.MethodGet, realm+"?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	if t.Username != "" {
		treq.SetBasicAuth(t.Username, t.Password)
	}
	resp, err := t.base().RoundTrip(treq)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", fmt.Errorf("bearer: token endpoint answered %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", fmt.Errorf("bearer: token endpoint: %w", err)
	}
	if body.Token == "" {
		body.Token = body.AccessToken
	}
	if body.Token == "" {
		return "", fmt.Errorf("bearer: token endpoint gave no token")
	}
	return body.Token, nil
}

// repository returns the repository a /v2/ or /acr/v1/ path names, or "".
func repository(path string) string {
	var rest string
	switch {
	case strings.HasPrefix(path, "/v2/"):
		rest = path[len("/v2/"):]
	case strings.HasPrefix(path, "/acr/v1/"):
		rest = path[len("/acr/v1/"):]
	default:
		return ""
	}
	parts := strings.Split(rest, "/")
	for i, p := range parts {
		switch p {
		case "blobs", "manifests", "tags", "referrers", "_tags", "_manifests":
			return strings.Join(parts[:i], "/")
		}
	}
	if strings.HasPrefix(rest, "_") {
		return ""
	}
	return strings.TrimSuffix(rest, "/")
}

// challenge parses `Bearer realm="...",service="...",scope="..."`.
func challenge(h string) (map[string]string, bool) {
	rest, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for rest != "" {
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.TrimSpace(k)
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				break
			}
			out[k] = v[1 : end+1]
			rest = strings.TrimPrefix(v[end+2:], ",")
		} else {
			val, r, _ := strings.Cut(v, ",")
			out[k] = val
			rest = r
		}
	}
	return out, true
}
