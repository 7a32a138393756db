package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote/auth"
	orascred "oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/regkit/regkit/tag"
)

// pageSize is the n regadm asks list pages of (the server may answer
// fewer, and says where the next page starts in its Link header).
const pageSize = 100

// maxBody bounds the JSON bodies regadm reads from a server.
const maxBody = 64 << 20

// remoteRegistry is a running server, reached over ACR's data-plane API
// (/acr/v1/) and the distribution API (/v2/). Every request goes through
// oras-go's auth.Client, which answers Basic and Bearer challenges with
// the credentials it was given (for Bearer: fetching a token from the
// realm the challenge names).
type remoteRegistry struct {
	base   *url.URL // scheme and host
	client *auth.Client
}

// apiError is a server's refusal: its status and the first error of its
// body.
type apiError struct {
	method, path string
	status       int
	code, msg    string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.status, http.StatusText(e.status))
	if e.code != "" {
		s += ": " + e.code
	}
	if e.msg != "" {
		s += ": " + e.msg
	}
	return s
}

// statusOf returns the HTTP status of an apiError in err's chain, or 0.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status
	}
	return 0
}

// parseRegistryURL checks -registry: http or https, a host, no path, query
// or credentials. A bare host means https.
func parseRegistryURL(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, usagef("-registry %q: %w", s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, usagef("-registry %q: want an http:// or https:// URL", s)
	case u.Host == "" || u.Hostname() == "":
		return nil, usagef("-registry %q: no host", s)
	case u.User != nil:
		return nil, usagef("-registry %q: give credentials with --username and --password, not in the URL", s)
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "":
		return nil, usagef("-registry %q: want only scheme, host and port (the API lives at /acr/v1/ and /v2/)", s)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// remote returns the server -registry names, with the credentials of the
// flags, of $REGKIT_PASSWORD, or of the Docker config file's entry for its
// host. Nothing is sent yet.
func (e *env) remote() (*remoteRegistry, error) {
	base, err := parseRegistryURL(e.registry)
	if err != nil {
		return nil, err
	}
	c := e.cred
	if c.password == "" {
		c.password = os.Getenv("REGKIT_PASSWORD")
	}
	if c.password != "" && c.username == "" {
		return nil, usagef("--password (or $REGKIT_PASSWORD) without --username")
	}
	if c.username != "" && c.password == "" {
		return nil, usagef("--username %q without --password (or $REGKIT_PASSWORD)", c.username)
	}
	hc := e.client
	if hc == nil {
		hc = retry.DefaultClient
	}
	client := &auth.Client{Client: hc, Cache: auth.NewCache()}
	client.SetUserAgent("regadm")
	switch {
	case c.username != "":
		client.Credential = auth.StaticCredential(base.Host, auth.Credential{Username: c.username, Password: c.password})
	case c.dockerConfig != "":
		var store orascred.Store
		if c.dockerConfig == "-" {
			store, err = orascred.NewStoreFromDocker(orascred.StoreOptions{})
		} else {
			store, err = orascred.NewStore(c.dockerConfig, orascred.StoreOptions{})
		}
		if err != nil {
			return nil, fmt.Errorf("docker config: %w", err)
		}
		client.Credential = orascred.Credential(store)
	}
	return &remoteRegistry{base: base, client: client}, nil
}

// escapeName escapes a repository name for a path, segment by segment
// (its slashes stay).
func escapeName(name string) string {
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// do sends one request. path is escaped already and may carry a query.
// body, when not nil, is sent as JSON. A status other than 2xx is an
// apiError; the caller closes the body of a success.
func (c *remoteRegistry) do(ctx context.Context, method, path string, body any, accept ...string) (*http.Response, error) {
	u, err := c.base.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if len(accept) > 0 {
		req.Header.Set("Accept", strings.Join(accept, ", "))
	} else {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, auth.ErrBasicCredentialNotFound) {
			return nil, fmt.Errorf("server %s asks for credentials: give --username and --password (or $REGKIT_PASSWORD), or a Docker config file with an entry for %s: %w", c.base, c.base.Host, err)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("cannot reach server %s (%s %s): %w", c.base, method, u.Path, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	ae := &apiError{method: method, path: u.Path, status: resp.StatusCode}
	var eb struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &eb) == nil && len(eb.Errors) > 0 {
		ae.code, ae.msg = eb.Errors[0].Code, eb.Errors[0].Message
	}
	return nil, ae
}

// getJSON reads a JSON body into v and returns the next page's path from
// the Link header ("" on the last page).
func (c *remoteRegistry) getJSON(ctx context.Context, path string, v any, accept ...string) (string, error) {
	resp, err := c.do(ctx, http.MethodGet, path, nil, accept...)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(v); err != nil {
		return "", fmt.Errorf("GET %s: bad JSON answer: %w", path, err)
	}
	return nextLink(resp.Header.Get("Link")), nil
}

// send sends a request whose answer body is read into v (nil: discarded).
func (c *remoteRegistry) send(ctx context.Context, method, path string, body, v any) error {
	resp, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if v == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(v); err != nil {
		return fmt.Errorf("%s %s: bad JSON answer: %w", method, path, err)
	}
	return nil
}

// nextLink returns the target of a Link header's rel="next" ("" when none).
func nextLink(h string) string {
	for _, part := range strings.Split(h, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
			continue
		}
		return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(target), "<"), ">")
	}
	return ""
}

// The JSON of ACR's data-plane API that regadm reads.
type (
	acrTag struct {
		Name           string         `json:"name"`
		Digest         digest.Digest  `json:"digest"`
		CreatedTime    time.Time      `json:"createdTime"`
		LastUpdateTime time.Time      `json:"lastUpdateTime"`
		Attributes     tag.Attributes `json:"changeableAttributes"`
	}
	acrManifest struct {
		Digest          digest.Digest  `json:"digest"`
		CreatedTime     time.Time      `json:"createdTime"`
		LastUpdateTime  time.Time      `json:"lastUpdateTime"`
		MediaType       string         `json:"mediaType"`
		ConfigMediaType string         `json:"configMediaType"`
		Tags            []string       `json:"tags"`
		Attributes      tag.Attributes `json:"changeableAttributes"`
		References      []struct {
			Digest digest.Digest `json:"digest"`
		} `json:"references"`
	}
	acrRepository struct {
		Attributes tag.Attributes `json:"changeableAttributes"`
	}
)

// catalog lists every repository (/acr/v1/_catalog, page by page).
func (c *remoteRegistry) catalog(ctx context.Context) ([]string, error) {
	var out []string
	path := "/acr/v1/_catalog?n=" + strconv.Itoa(pageSize)
	for path != "" {
		var page struct {
			Repositories []string `json:"repositories"`
		}
		next, err := c.getJSON(ctx, path, &page)
		if statusOf(err) == http.StatusNotFound && out == nil {
			return nil, fmt.Errorf("%s does not serve ACR's API (/acr/v1/), which -registry needs: %w", c.base, err)
		}
		if err != nil {
			return out, err
		}
		out = append(out, page.Repositories...)
		path = next
	}
	return out, nil
}

// repository reads a repository's attributes.
func (c *remoteRegistry) repository(ctx context.Context, name string) (acrRepository, error) {
	var r acrRepository
	_, err := c.getJSON(ctx, "/acr/v1/"+escapeName(name), &r)
	return r, err
}

// tags lists a repository's tags (those the server lists).
func (c *remoteRegistry) tags(ctx context.Context, name string) ([]acrTag, error) {
	var out []acrTag
	path := "/acr/v1/" + escapeName(name) + "/_tags?n=" + strconv.Itoa(pageSize)
	for path != "" {
		var page struct {
			Tags []acrTag `json:"tags"`
		}
		next, err := c.getJSON(ctx, path, &page)
		if err != nil {
			return out, err
		}
		out = append(out, page.Tags...)
		path = next
	}
	return out, nil
}

// manifests lists a repository's manifests (those the server lists).
func (c *remoteRegistry) manifests(ctx context.Context, name string) ([]acrManifest, error) {
	var out []acrManifest
	path := "/acr/v1/" + escapeName(name) + "/_manifests?n=" + strconv.Itoa(pageSize)
	for path != "" {
		var page struct {
			Manifests []acrManifest `json:"manifests"`
		}
		next, err := c.getJSON(ctx, path, &page)
		if err != nil {
			return out, err
		}
		out = append(out, page.Manifests...)
		path = next
	}
	return out, nil
}

// tag reads one tag's properties.
func (c *remoteRegistry) tag(ctx context.Context, name, tg string) (acrTag, error) {
	var p struct {
		Tag acrTag `json:"tag"`
	}
	_, err := c.getJSON(ctx, "/acr/v1/"+escapeName(name)+"/_tags/"+url.PathEscape(tg), &p)
	return p.Tag, err
}

// manifest reads one manifest's properties.
func (c *remoteRegistry) manifest(ctx context.Context, name string, d digest.Digest) (acrManifest, error) {
	var p struct {
		Manifest acrManifest `json:"manifest"`
	}
	_, err := c.getJSON(ctx, "/acr/v1/"+escapeName(name)+"/_manifests/"+d.String(), &p)
	return p.Manifest, err
}

// referrers lists the manifests whose subject is d (/v2/ referrers API).
func (c *remoteRegistry) referrers(ctx context.Context, name string, d digest.Digest) ([]ocispec.Descriptor, error) {
	var out []ocispec.Descriptor
	path := "/v2/" + escapeName(name) + "/referrers/" + d.String()
	for path != "" {
		var idx ocispec.Index
		next, err := c.getJSON(ctx, path, &idx, ocispec.MediaTypeImageIndex)
		if err != nil {
			return out, err
		}
		out = append(out, idx.Manifests...)
		path = next
	}
	return out, nil
}

// subjectOf reads manifest d's body (/v2/) and returns its subject, if any.
// The server counts the read as a pull of d.
func (c *remoteRegistry) subjectOf(ctx context.Context, name string, d digest.Digest) (digest.Digest, error) {
	var m struct {
		Subject *ocispec.Descriptor `json:"subject"`
	}
	_, err := c.getJSON(ctx, "/v2/"+escapeName(name)+"/manifests/"+d.String(), &m,
		ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex,
		"application/vnd.docker.distribution.manifest.v2+json",
		"application/vnd.docker.distribution.manifest.list.v2+json")
	if err != nil || m.Subject == nil {
		return "", err
	}
	return m.Subject.Digest, nil
}

// itemPath is the /acr/v1/ path of a repository, tag or manifest.
func itemPath(r ref) string {
	p := "/acr/v1/" + escapeName(r.repo)
	switch r.kind() {
	case tag.KindManifest:
		p += "/_manifests/" + r.digest.String()
	case tag.KindTag:
		p += "/_tags/" + url.PathEscape(r.tag)
	}
	return p
}

// setAttributes PATCHes the changeable attributes of what r names and
// returns them as the server now has them.
func (c *remoteRegistry) setAttributes(ctx context.Context, r ref, patch tag.Patch) (tag.Attributes, error) {
	var out struct {
		Attributes tag.Attributes `json:"changeableAttributes"`
		Tag        struct {
			Attributes tag.Attributes `json:"changeableAttributes"`
		} `json:"tag"`
		Manifest struct {
			Attributes tag.Attributes `json:"changeableAttributes"`
		} `json:"manifest"`
	}
	if err := c.send(ctx, http.MethodPatch, itemPath(r), patch, &out); err != nil {
		return tag.Attributes{}, err
	}
	switch r.kind() {
	case tag.KindManifest:
		return out.Manifest.Attributes, nil
	case tag.KindTag:
		return out.Tag.Attributes, nil
	}
	return out.Attributes, nil
}

// untag deletes a tag (its manifest stays).
func (c *remoteRegistry) untag(ctx context.Context, name, tg string) error {
	return c.send(ctx, http.MethodDelete, itemPath(ref{repo: name, tag: tg}), nil, nil)
}

// deleteManifest deletes a manifest by digest over /v2/, as acr purge does;
// the server deletes its referrers with it.
func (c *remoteRegistry) deleteManifest(ctx context.Context, name string, d digest.Digest) error {
	return c.send(ctx, http.MethodDelete, "/v2/"+escapeName(name)+"/manifests/"+d.String(), nil, nil)
}
