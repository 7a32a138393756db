package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/registrytest"
	"github.com/regkit/regkit/tag"
)

// testClock is a settable clock for WithClock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// viaHTTP makes cache upstreams plain-HTTP remotes whose requests go
// through rt (a Recorder, to count them).
func viaHTTP(rt http.RoundTripper) registry.CacheUpstreamFunc {
	return func(_ context.Context, u registry.CacheUpstream) (oras.ReadOnlyTarget, error) {
		u.Options.PlainHTTP = true
		u.Options.HTTPClient = &http.Client{Transport: rt}
		repo, _, err := registry.NewRemote(u.Repository, u.Options)
		return repo, err
	}
}

// cacheFixture is an upstream registrytest server and a cache registry
// whose rules point at it.
type cacheFixture struct {
	up  *registrytest.Server
	rec *registrytest.Recorder
	clk *testClock
	reg *registry.Registry
}

func newCacheFixture(t *testing.T, opts ...registry.Option) *cacheFixture {
	t.Helper()
	f := &cacheFixture{up: registrytest.New(t), rec: &registrytest.Recorder{},
		clk: &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	opts = append([]registry.Option{registry.WithClock(f.clk.now), registry.WithCacheUpstream(viaHTTP(f.rec))}, opts...)
	f.reg = newMemReg(t, opts...)
	return f
}

func (f *cacheFixture) rule(t *testing.T, name, target, source string) {
	t.Helper()
	if _, err := f.reg.SetCacheRule(context.Background(), registry.CacheRule{
		Name: name, TargetRepository: target, SourceRepository: f.up.Host + "/" + source}); err != nil {
		t.Fatal(err)
	}
}

// requests counts the recorded upstream requests by "METHOD kind", kind
// being manifests or blobs.
func (f *cacheFixture) requests() map[string]int {
	n := map[string]int{}
	for _, r := range f.rec.Requests() {
		kind := "other"
		switch {
		case strings.Contains(r.Path, "/manifests/"):
			kind = "manifests"
		case strings.Contains(r.Path, "/blobs/"):
			kind = "blobs"
		}
		n[r.Method+" "+kind]++
	}
	return n
}

func TestCacheRules(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	reg, err := registry.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	good := registry.CacheRule{Name: "hub", TargetRepository: "hub/*", SourceRepository: "docker.io/*"}
	cases := []struct {
		name string
		rule registry.CacheRule
		want error
	}{
		{"wildcard", good, nil},
		{"exact", registry.CacheRule{Name: "ubuntu", TargetRepository: "ubuntu", SourceRepository: "docker.io/library/ubuntu",
			Username: "u", Password: "p"}, nil},
		{"credential set", registry.CacheRule{Name: "mcr", TargetRepository: "mcr/dotnet", SourceRepository: "mcr.microsoft.com/dotnet/sdk", CredentialSet: "kv-mcr"}, nil},
		{"replace by name", registry.CacheRule{Name: "ubuntu", TargetRepository: "ubuntu", SourceRepository: "ghcr.io/x/ubuntu"}, nil},
		{"same target", registry.CacheRule{Name: "hub2", TargetRepository: "hub/*", SourceRepository: "quay.io/*"}, registry.ErrAlreadyExists},
		{"bad name", registry.CacheRule{Name: "-x", TargetRepository: "a", SourceRepository: "h.io/a"}, registry.ErrInvalid},
		{"long name", registry.CacheRule{Name: strings.Repeat("a", 51), TargetRepository: "a", SourceRepository: "h.io/a"}, registry.ErrInvalid},
		{"bad target", registry.CacheRule{Name: "x", TargetRepository: "A", SourceRepository: "h.io/a"}, registry.ErrInvalid},
		{"wildcard mismatch", registry.CacheRule{Name: "x", TargetRepository: "a/*", SourceRepository: "h.io/a"}, registry.ErrInvalid},
		{"source without host", registry.CacheRule{Name: "x", TargetRepository: "a", SourceRepository: "library"}, registry.ErrInvalid},
		{"source with a tag", registry.CacheRule{Name: "x", TargetRepository: "a", SourceRepository: "h.io/a:v1"}, registry.ErrInvalid},
		{"half credentials", registry.CacheRule{Name: "x", TargetRepository: "a", SourceRepository: "h.io/a", Username: "u"}, registry.ErrInvalid},
		{"both credentials", registry.CacheRule{Name: "x", TargetRepository: "a", SourceRepository: "h.io/a", Username: "u", Password: "p", CredentialSet: "c"}, registry.ErrInvalid},
	}
	for _, c := range cases {
		_, err := reg.SetCacheRule(ctx, c.rule)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if err := reg.DeleteCacheRule(ctx, "nope"); !errors.Is(err, registry.ErrCacheRuleUnknown) || !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("delete an unknown rule: %v", err)
	}
	if err := reg.DeleteCacheRule(ctx, "mcr"); err != nil {
		t.Fatal(err)
	}
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	// The rules persist.
	reg, err = registry.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	rules, err := reg.CacheRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rules {
		got = append(got, r.Name+"="+r.TargetRepository+">"+r.SourceRepository)
	}
	if strings.Join(got, " ") != "hub=hub/*>docker.io/* ubuntu=ubuntu>ghcr.io/x/ubuntu" {
		t.Fatalf("rules after reopen: %v", got)
	}
}

// TestPullThrough pulls through exact and wildcard rules, by tag and by
// digest: the first pull fetches the whole artifact, later ones ask the
// upstream nothing, and a repository no rule covers never asks.
func TestPullThrough(t *testing.T) {
	ctx := context.Background()
	f := newCacheFixture(t)
	idx, _ := multiArch(t, repoOf(t, f.up.Registry, "library/app").Target(), "v1")
	other := pushImage(t, repoOf(t, f.up.Registry, "library/tool").Target(), "linux/amd64", randBytes(500))
	f.rule(t, "app", "app", "library/app")
	f.rule(t, "lib", "lib/*", "library/*")

	m, err := repoOf(t, f.reg, "app").Manifests().Get(ctx, "v1", registry.GetOptions{})
	if err != nil || m.Descriptor.Digest != idx.Digest {
		t.Fatalf("pull through by tag: %v %v", m, err)
	}
	// The whole index is stored before the answer: both children and
	// every blob.
	sameGraph(t, repoOf(t, f.up.Registry, "library/app").Target(), repoOf(t, f.reg, "app").Target(), idx)
	if n := manifestCount(t, repoOf(t, f.reg, "app")); n != 3 {
		t.Fatalf("%d manifests cached, want 3", n)
	}
	f.rec.Reset()
	for _, ref := range []string{"v1", idx.Digest.String()} {
		if _, err := repoOf(t, f.reg, "app").Manifests().Stat(ctx, ref, registry.GetOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.rec.Requests()) != 0 {
		t.Fatalf("hits asked the upstream: %v", f.requests())
	}

	// A wildcard rule, by digest: stored untagged.
	d, err := repoOf(t, f.reg, "lib/tool").Manifests().Stat(ctx, other.Digest.String(), registry.GetOptions{})
	if err != nil || d.Digest != other.Digest {
		t.Fatalf("pull through a wildcard by digest: %v %v", d, err)
	}
	if tags, _ := repoOf(t, f.reg, "lib/tool").Tags().List(ctx, registry.ListOptions{}); len(tags) != 0 {
		t.Fatalf("a pull by digest tagged %v", tags)
	}
	// What the upstream lacks is unknown here too, and nothing is stored.
	for _, ref := range []string{"nope", other.Digest.String()} {
		_, err := repoOf(t, f.reg, "app").Manifests().Get(ctx, ref, registry.GetOptions{})
		if !errors.Is(err, registry.ErrManifestUnknown) {
			t.Fatalf("pull of %s the upstream lacks: %v", ref, err)
		}
	}
	f.rec.Reset()
	if _, err := repoOf(t, f.reg, "elsewhere").Manifests().Get(ctx, "v1", registry.GetOptions{}); !errors.Is(err, registry.ErrManifestUnknown) {
		t.Fatalf("pull outside every rule: %v", err)
	}
	if len(f.rec.Requests()) != 0 {
		t.Fatalf("a pull outside every rule asked the upstream: %v", f.requests())
	}
	checkWhole(t, f.reg)
}

// checkWhole fails the test when reg's invariants do not hold.
func checkWhole(t *testing.T, reg *registry.Registry) {
	t.Helper()
	rep, err := reg.Check(context.Background())
	if err != nil || !rep.OK() {
		t.Fatalf("check: %v %v", err, rep.Problems)
	}
	verifyStored(t, reg)
}

// TestPullThroughBurst: 50 concurrent pulls of one tag the cache lacks make
// one upstream fetch.
func TestPullThroughBurst(t *testing.T) {
	ctx := context.Background()
	f := newCacheFixture(t)
	img := pushImage(t, repoOf(t, f.up.Registry, "library/app").Target(), "linux/amd64", randBytes(64<<10), randBytes(32<<10))
	tagIn(t, repoOf(t, f.up.Registry, "library/app").Target(), img, "v1")
	f.rule(t, "app", "app", "library/app")

	const pulls = 50
	var wg sync.WaitGroup
	errs := make(chan error, pulls)
	start := make(chan struct{})
	for i := range pulls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ms := repoOf(t, f.reg, "app").Manifests()
			var m ocispec.Descriptor
			var err error
			if i%2 == 0 {
				var got *registry.Manifest
				if got, err = ms.Get(ctx, "v1", registry.GetOptions{}); err == nil {
					m = got.Descriptor
				}
			} else {
				m, err = ms.Stat(ctx, "v1", registry.GetOptions{})
			}
			if err == nil && m.Digest != img.Digest {
				err = fmt.Errorf("pulled %s, want %s", m.Digest, img.Digest)
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{"HEAD manifests": 1, "GET manifests": 1, "GET blobs": 3}
	if got := f.requests(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("upstream requests %v, want %v", got, want)
	}
	checkWhole(t, f.reg)
}

// TestPullThroughTagTTL re-checks a tag upstream after the TTL, on an
// injected clock: before it the cached tag is served without a request; at
// it one HEAD, and a moved tag is fetched; an upstream that is down then
// leaves the cached tag served.
func TestPullThroughTagTTL(t *testing.T) {
	ctx := context.Background()
	const ttl = time.Hour
	f := newCacheFixture(t, registry.WithCacheTagTTL(ttl))
	up := repoOf(t, f.up.Registry, "library/app").Target()
	v1 := pushImage(t, up, "linux/amd64", randBytes(100))
	tagIn(t, up, v1, "latest")
	f.rule(t, "app", "app", "library/app")
	pull := func() ocispec.Descriptor {
		t.Helper()
		d, err := repoOf(t, f.reg, "app").Manifests().Stat(ctx, "latest", registry.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := pull(); d.Digest != v1.Digest {
		t.Fatalf("first pull %s", d.Digest)
	}
	v2 := pushImage(t, up, "linux/amd64", randBytes(100))
	tagIn(t, up, v2, "latest")

	f.rec.Reset()
	f.clk.add(ttl - time.Second)
	if d := pull(); d.Digest != v1.Digest || len(f.rec.Requests()) != 0 {
		t.Fatalf("within the TTL: %s, requests %v", d.Digest, f.requests())
	}
	f.clk.add(time.Second)
	if d := pull(); d.Digest != v2.Digest {
		t.Fatalf("after the TTL: %s, want the moved tag's %s", d.Digest, v2.Digest)
	}
	// Unchanged upstream: the re-check costs one HEAD.
	f.rec.Reset()
	f.clk.add(ttl)
	if d := pull(); d.Digest != v2.Digest {
		t.Fatalf("re-check of an unchanged tag: %s", d.Digest)
	}
	if got := f.requests(); fmt.Sprint(got) != fmt.Sprint(map[string]int{"HEAD manifests": 1}) {
		t.Fatalf("re-check of an unchanged tag made %v, want one HEAD", got)
	}
	// The upstream goes down: the cached tag is still served.
	f.up.HTTP.Close()
	f.clk.add(ttl)
	if d := pull(); d.Digest != v2.Digest {
		t.Fatalf("re-check with the upstream down: %s", d.Digest)
	}
	// A digest never re-checks.
	f.rec.Reset()
	f.clk.add(ttl)
	if _, err := repoOf(t, f.reg, "app").Manifests().Get(ctx, v1.Digest.String(), registry.GetOptions{}); err != nil || len(f.rec.Requests()) != 0 {
		t.Fatalf("pull by digest after the TTL: %v, %v", err, f.requests())
	}
}

// TestPullThroughErrors: every upstream failure answers the client over
// HTTP with a clear status, and stores nothing.
func TestPullThroughErrors(t *testing.T) {
	down := registrytest.New(t)
	down.HTTP.Close()
	cases := []struct {
		name   string
		lie    func(u *upstream) func(w http.ResponseWriter, r *http.Request) bool
		host   string // instead of the lying server
		creds  registry.CacheCredentialFunc
		rule   registry.CacheRule
		ref    string
		status int
		class  error
	}{
		{name: "down", host: down.Host, ref: "v1", status: http.StatusServiceUnavailable, class: registry.ErrUpstreamUnavailable},
		{name: "tag unknown upstream", ref: "v2", status: http.StatusNotFound, class: registry.ErrManifestUnknown},
		{name: "digest unknown upstream", ref: "sha256:" + strings.Repeat("ab", 32), status: http.StatusNotFound, class: registry.ErrManifestUnknown},
		{name: "server error", ref: "v1", status: http.StatusServiceUnavailable, class: registry.ErrUpstreamUnavailable,
			lie: func(*upstream) func(http.ResponseWriter, *http.Request) bool {
				return func(w http.ResponseWriter, r *http.Request) bool {
					http.Error(w, "boom", http.StatusInternalServerError)
					return true
				}
			}},
		{name: "credentials refused", ref: "v1", status: http.StatusBadGateway, class: registry.ErrBadUpstream,
			lie: func(*upstream) func(http.ResponseWriter, *http.Request) bool {
				return func(w http.ResponseWriter, r *http.Request) bool {
					w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
					http.Error(w, "no", http.StatusUnauthorized)
					return true
				}
			}},
		{name: "blob missing upstream", ref: "v1", status: http.StatusBadGateway, class: registry.ErrBadUpstream,
			lie: func(u *upstream) func(http.ResponseWriter, *http.Request) bool {
				return func(w http.ResponseWriter, r *http.Request) bool {
					if strings.HasSuffix(r.URL.Path, u.layers[1].Digest.String()) {
						http.NotFound(w, r)
						return true
					}
					return false
				}
			}},
		{name: "blob that lies", ref: "v1", status: http.StatusBadGateway, class: registry.ErrBadUpstream,
			lie: func(u *upstream) func(http.ResponseWriter, *http.Request) bool {
				return func(w http.ResponseWriter, r *http.Request) bool {
					if strings.HasSuffix(r.URL.Path, u.layers[0].Digest.String()) {
						serve(w, r, "application/octet-stream", u.layers[0].Digest, []byte(strings.Repeat("z", 4096)))
						return true
					}
					return false
				}
			}},
		{name: "no credential resolver", ref: "v1", status: http.StatusBadGateway, class: registry.ErrBadUpstream,
			rule: registry.CacheRule{CredentialSet: "kv"}},
		{name: "credential resolver fails", ref: "v1", status: http.StatusBadGateway, class: registry.ErrBadUpstream,
			rule: registry.CacheRule{CredentialSet: "kv"},
			creds: func(context.Context, string) (string, string, error) {
				return "", "", errors.New("vault sealed")
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := newUpstream()
			if c.lie != nil {
				u.lie = c.lie(u)
			}
			host := c.host
			if host == "" {
				hs := httptest.NewServer(u)
				t.Cleanup(hs.Close)
				host = strings.TrimPrefix(hs.URL, "http://")
			}
			opts := []registry.Option{registry.WithCacheUpstream(viaHTTP(http.DefaultTransport))}
			if c.creds != nil {
				opts = append(opts, registry.WithCacheCredentials(c.creds))
			}
			srv := registrytest.NewWith(t, registrytest.Options{Registry: opts})
			rule := c.rule
			rule.Name, rule.TargetRepository, rule.SourceRepository = "app", "app", host+"/app"
			if _, err := srv.Registry.SetCacheRule(context.Background(), rule); err != nil {
				t.Fatal(err)
			}
			_, err := repoOf(t, srv.Registry, "app").Manifests().Get(context.Background(), c.ref, registry.GetOptions{})
			if !errors.Is(err, c.class) {
				t.Fatalf("in process: %v, want %v", err, c.class)
			}
			resp, err := http.Get(srv.URL + "/v2/app/manifests/" + c.ref)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e struct {
				Errors []struct{ Code, Message string }
			}
			if resp.StatusCode != c.status || json.Unmarshal(body, &e) != nil || len(e.Errors) != 1 {
				t.Fatalf("over HTTP: %d %s, want %d", resp.StatusCode, body, c.status)
			}
			if c.status != http.StatusNotFound && !strings.Contains(e.Errors[0].Message, "upstream") {
				t.Fatalf("over HTTP: %d %s: the message does not blame the upstream", resp.StatusCode, body)
			}
			if n := manifestCount(t, repoOf(t, srv.Registry, "app")); n != 0 {
				t.Fatalf("%d manifests stored after a failed fetch", n)
			}
			checkWhole(t, srv.Registry)
		})
	}
}

// TestPullThroughCredentials presents a rule's credentials to the upstream,
// given directly and through a credential set.
func TestPullThroughCredentials(t *testing.T) {
	upReg := newMemReg(t)
	img := pushImage(t, repoOf(t, upReg, "lib/app").Target(), "linux/amd64", randBytes(10))
	tagIn(t, repoOf(t, upReg, "lib/app").Target(), img, "v1")
	host := authServer(t, upReg, false)
	var asked []string
	creds := func(_ context.Context, set string) (string, string, error) {
		asked = append(asked, set)
		return "alice", "s3cret", nil
	}
	reg := newMemReg(t, registry.WithCacheUpstream(viaHTTP(http.DefaultTransport)), registry.WithCacheCredentials(creds))
	ctx := context.Background()
	rules := []registry.CacheRule{
		{Name: "direct", TargetRepository: "direct", SourceRepository: host + "/lib/app", Username: "alice", Password: "s3cret"},
		{Name: "set", TargetRepository: "viaset", SourceRepository: host + "/lib/app", CredentialSet: "kv-alice"},
		{Name: "anon", TargetRepository: "anon", SourceRepository: host + "/lib/app"},
	}
	for _, r := range rules {
		if _, err := reg.SetCacheRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"direct", "viaset"} {
		if d, err := repoOf(t, reg, name).Manifests().Stat(ctx, "v1", registry.GetOptions{}); err != nil || d.Digest != img.Digest {
			t.Fatalf("%s: %v %v", name, d, err)
		}
	}
	if fmt.Sprint(asked) != "[kv-alice]" {
		t.Fatalf("credential sets resolved: %v", asked)
	}
	_, err := repoOf(t, reg, "anon").Manifests().Stat(ctx, "v1", registry.GetOptions{})
	if !errors.Is(err, registry.ErrBadUpstream) || !errors.Is(err, errdef.ErrUnauthorized) {
		t.Fatalf("anonymous pull from a private upstream: %v", err)
	}
}

// TestPullThroughLocks: a write-locked cache repository stores nothing and
// says why; a read-locked one does not ask the upstream.
func TestPullThroughLocks(t *testing.T) {
	ctx := context.Background()
	f := newCacheFixture(t)
	img := pushImage(t, repoOf(t, f.up.Registry, "library/app").Target(), "linux/amd64", randBytes(10))
	tagIn(t, repoOf(t, f.up.Registry, "library/app").Target(), img, "v1")
	f.rule(t, "ro", "ro", "library/app")
	f.rule(t, "hidden", "hidden", "library/app")
	for _, name := range []string{"ro", "hidden"} {
		pushImage(t, repoOf(t, f.reg, name).Target(), "linux/arm64", randBytes(20))
	}
	no := false
	if _, err := repoOf(t, f.reg, "ro").SetAttributes(ctx, tag.Patch{WriteEnabled: &no}); err != nil {
		t.Fatal(err)
	}
	if _, err := repoOf(t, f.reg, "ro").Manifests().Get(ctx, "v1", registry.GetOptions{}); !errors.Is(err, registry.ErrLocked) {
		t.Fatalf("pull into a write-locked cache repository: %v", err)
	}
	if n := manifestCount(t, repoOf(t, f.reg, "ro")); n != 1 {
		t.Fatalf("a write-locked repository cached %d manifests", n)
	}
	if _, err := repoOf(t, f.reg, "hidden").SetAttributes(ctx, tag.Patch{ReadEnabled: &no}); err != nil {
		t.Fatal(err)
	}
	f.rec.Reset()
	if _, err := repoOf(t, f.reg, "hidden").Manifests().Get(ctx, "v1", registry.GetOptions{}); !errors.Is(err, registry.ErrManifestUnknown) && !errors.Is(err, registry.ErrLocked) {
		t.Fatalf("pull from a read-locked cache repository: %v", err)
	}
	checkWhole(t, f.reg)
}
