package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/tag"
)

// acrFixture is a handler over an in-memory registry with a clock the test
// sets, so update times (and time orders) are known.
type acrFixture struct {
	*fixture
	mu  sync.Mutex
	now time.Time
}

func newACRFixture(t testing.TB, opts ...httpapi.Option) *acrFixture {
	t.Helper()
	f := &acrFixture{now: time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)}
	reg, err := registry.NewMemory(registry.WithClock(f.clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	f.fixture = &fixture{reg: reg, h: httpapi.New(reg, opts...)}
	return f
}

func (f *acrFixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// tick moves the clock one second on.
func (f *acrFixture) tick() {
	f.mu.Lock()
	f.now = f.now.Add(time.Second)
	f.mu.Unlock()
}

// platformImage stores a linux/amd64 image in name, tagged tag when set.
func (f *acrFixture) platformImage(t testing.TB, name, tagName, seed string) digest.Digest {
	t.Helper()
	b := imageManifest(
		f.blob(t, name, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux","seed":"`+seed+`"}`)),
		f.blob(t, name, ocispec.MediaTypeImageLayer, []byte("layer "+seed)), nil, "")
	f.manifest(t, name, tagName, b)
	f.tick()
	return digest.FromBytes(b)
}

// acrCall sends a request and decodes a JSON answer (nil when the body is
// empty).
func acrCall(t testing.TB, h http.Handler, method, target, body string) (int, http.Header, map[string]any) {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	w := call(t, h, method, target, b)
	var v map[string]any
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v: %q", method, target, err, w.Body)
		}
	}
	return w.Code, w.Header(), v
}

// keys returns the sorted keys of a JSON object.
func keys(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string { sort.Strings(s); return s }

var acrTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`)

// checkACRError asserts ACR's error body with its detail object.
func checkACRError(t testing.TB, code int, hdr http.Header, v map[string]any, wantStatus int, wantCode string) {
	t.Helper()
	if code != wantStatus {
		t.Errorf("status = %d, want %d: %v", code, wantStatus, v)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	errs, _ := v["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("errors = %v", v)
	}
	e := errs[0].(map[string]any)
	if !slices.Equal(keys(e), []string{"code", "detail", "message"}) || e["code"] != wantCode || e["message"] == "" {
		t.Errorf("error = %v, want code %s with message and detail", e, wantCode)
	}
	if wantCode == httpapi.CodeUnauthorized {
		// A challenge's detail lists what the request needed, as ACR's
		// does: [{"Type":"repository","Name":"app","Action":"metadata_read"}].
		d, _ := e["detail"].([]any)
		for _, x := range d {
			if m, ok := x.(map[string]any); !ok || !slices.Equal(keys(m), []string{"Action", "Name", "Type"}) {
				t.Errorf("detail entry = %#v, want Type, Name and Action", x)
			}
		}
		if len(d) == 0 {
			t.Errorf("detail = %#v, want the needed actions", e["detail"])
		}
		return
	}
	if d, ok := e["detail"].(map[string]any); !ok || len(d) != 0 {
		t.Errorf("detail = %#v, want {}", e["detail"])
	}
}

var attrKeys = []string{"deleteEnabled", "listEnabled", "readEnabled", "writeEnabled"}

func TestACRProperties(t *testing.T) {
	f := newACRFixture(t)
	created := f.clock()
	d1 := f.platformImage(t, "team/app", "v1", "1")
	for _, prefix := range []string{"/acr/v1/team/app", "/acr/v1/team%2Fapp"} {
		t.Run(prefix, func(t *testing.T) {
			code, hdr, v := acrCall(t, f.h, "GET", prefix+"?api-version=2021-07-01", "")
			if code != http.StatusOK || hdr.Get("Content-Type") != "application/json" {
				t.Fatalf("GET repository = %d %v", code, v)
			}
			want := sorted("registry", "imageName", "createdTime", "lastUpdateTime", "manifestCount", "tagCount", "changeableAttributes")
			if !slices.Equal(keys(v), want) {
				t.Errorf("repository fields = %v, want %v", keys(v), want)
			}
			if v["registry"] != "example.com" || v["imageName"] != "team/app" || v["manifestCount"] != 1.0 || v["tagCount"] != 1.0 {
				t.Errorf("repository = %v", v)
			}
			if v["createdTime"] != created.Format("2006-01-02T15:04:05.0000000Z") {
				t.Errorf("createdTime = %v, want %v", v["createdTime"], created)
			}
			if !slices.Equal(keys(v["changeableAttributes"]), attrKeys) {
				t.Errorf("changeableAttributes = %v", v["changeableAttributes"])
			}

			code, _, v = acrCall(t, f.h, "GET", prefix+"/_tags/v1", "")
			if code != http.StatusOK || !slices.Equal(keys(v), []string{"imageName", "registry", "tag"}) {
				t.Fatalf("GET tag = %d %v", code, v)
			}
			tg := v["tag"].(map[string]any)
			if !slices.Equal(keys(tg), sorted("name", "digest", "createdTime", "lastUpdateTime", "changeableAttributes")) ||
				tg["name"] != "v1" || tg["digest"] != d1.String() || !acrTimeRE.MatchString(tg["lastUpdateTime"].(string)) {
				t.Errorf("tag = %v", tg)
			}

			code, _, v = acrCall(t, f.h, "GET", prefix+"/_manifests/"+d1.String(), "")
			if code != http.StatusOK || !slices.Equal(keys(v), []string{"imageName", "manifest", "registry"}) {
				t.Fatalf("GET manifest = %d %v", code, v)
			}
			m := v["manifest"].(map[string]any)
			want = sorted("digest", "imageSize", "createdTime", "lastUpdateTime", "architecture", "os", "mediaType", "configMediaType", "tags", "changeableAttributes")
			if !slices.Equal(keys(m), want) {
				t.Errorf("manifest fields = %v, want %v", keys(m), want)
			}
			if m["digest"] != d1.String() || m["architecture"] != "amd64" || m["os"] != "linux" ||
				m["mediaType"] != ocispec.MediaTypeImageManifest || m["configMediaType"] != ocispec.MediaTypeImageConfig ||
				!slices.Equal(m["tags"].([]any), []any{"v1"}) || !acrTimeRE.MatchString(m["createdTime"].(string)) {
				t.Errorf("manifest = %v", m)
			}
		})
	}

	// An index lists its children as references with their platforms.
	idx, _ := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: d1, Size: sizeOf(t, f, "team/app", d1),
			Platform: &ocispec.Platform{Architecture: "arm64", OS: "linux"}}},
	})
	if _, err := f.repo(t, "team/app").Manifests().Put(context.Background(), idx, registry.PutOptions{MediaType: ocispec.MediaTypeImageIndex, Tag: "multi"}); err != nil {
		t.Fatal(err)
	}
	code, _, v := acrCall(t, f.h, "GET", "/acr/v1/team/app/_manifests/"+digest.FromBytes(idx).String(), "")
	m, _ := v["manifest"].(map[string]any)
	refs, _ := m["references"].([]any)
	if code != http.StatusOK || len(refs) != 1 {
		t.Fatalf("index = %d %v", code, v)
	}
	if r := refs[0].(map[string]any); r["digest"] != d1.String() || r["architecture"] != "arm64" || r["os"] != "linux" {
		t.Errorf("reference = %v", r)
	}
}

func sizeOf(t testing.TB, f *acrFixture, name string, d digest.Digest) int64 {
	t.Helper()
	p, err := f.repo(t, name).Manifests().Properties(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return p.Size
}

// listNames follows a listing's Link headers from target and returns the
// names of every page's entries, page by page.
func listNames(t testing.TB, h http.Handler, target, field, nameKey string) [][]string {
	t.Helper()
	var pages [][]string
	for target != "" {
		code, hdr, v := acrCall(t, h, "GET", target, "")
		if code != http.StatusOK {
			t.Fatalf("GET %s = %d %v", target, code, v)
		}
		items, ok := v[field].([]any)
		if !ok {
			t.Fatalf("GET %s: no %q array: %v", target, field, v)
		}
		var names []string
		for _, it := range items {
			if nameKey == "" {
				names = append(names, it.(string))
			} else {
				names = append(names, it.(map[string]any)[nameKey].(string))
			}
		}
		pages = append(pages, names)
		target = ""
		if link := hdr.Get("Link"); link != "" {
			if !strings.HasPrefix(link, "</acr/v1/") || !strings.HasSuffix(link, `>; rel="next"`) {
				t.Fatalf("Link = %q, want a relative <...>; rel=\"next\"", link)
			}
			target = link[1:strings.Index(link, ">")]
		}
		if len(pages) > 20 {
			t.Fatal("paging does not end")
		}
	}
	return pages
}

func flat(pages [][]string) []string {
	var out []string
	for _, p := range pages {
		out = append(out, p...)
	}
	return out
}

func TestACRCatalogPaging(t *testing.T) {
	f := newACRFixture(t)
	for _, n := range []string{"a", "b/x", "c", "d", "secret"} {
		f.platformImage(t, n, "v1", n)
	}
	if _, err := f.repo(t, "secret").SetAttributes(context.Background(), tag.Patch{ListEnabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	code, hdr, _ := acrCall(t, f.h, "GET", "/acr/v1/_catalog?n=2&api-version=2021-07-01", "")
	if code != http.StatusOK || hdr.Get("Link") != `</acr/v1/_catalog?last=b%2Fx&n=2>; rel="next"` {
		t.Errorf("first page = %d, Link %q", code, hdr.Get("Link"))
	}
	pages := listNames(t, f.h, "/acr/v1/_catalog?n=2", "repositories", "")
	if !slices.Equal(flat(pages), []string{"a", "b/x", "c", "d"}) || len(pages) != 2 {
		t.Errorf("pages = %v (the hidden repository must not show)", pages)
	}
	if got := flat(listNames(t, f.h, "/acr/v1/_catalog?last=b%2Fx", "repositories", "")); !slices.Equal(got, []string{"c", "d"}) {
		t.Errorf("after b/x = %v", got)
	}
	// The hidden repository stays reachable by name.
	if code, _, _ := acrCall(t, f.h, "GET", "/acr/v1/secret", ""); code != http.StatusOK {
		t.Errorf("hidden repository GET = %d", code)
	}
}

func ptr[T any](v T) *T { return &v }

func TestACRTagListing(t *testing.T) {
	f := newACRFixture(t)
	// Tags set at increasing times in the order b, c, a; then a2 on a's
	// manifest and a hidden tag.
	db := f.platformImage(t, "team/app", "b", "b")
	f.platformImage(t, "team/app", "c", "c")
	da := f.platformImage(t, "team/app", "a", "a")
	ctx := context.Background()
	if err := f.repo(t, "team/app").Tags().Set(ctx, "a2", da, registry.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	f.tick()
	f.platformImage(t, "team/app", "hidden", "h")
	if _, err := f.repo(t, "team/app").Tags().SetAttributes(ctx, "hidden", tag.Patch{ListEnabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		query string
		want  []string
		pages int
	}{
		{"", []string{"a", "a2", "b", "c"}, 1},
		{"?orderby=none&n=3", []string{"a", "a2", "b", "c"}, 2},
		{"?orderby=timedesc", []string{"a2", "a", "c", "b"}, 1},
		{"?orderby=timedesc&n=1", []string{"a2", "a", "c", "b"}, 4},
		{"?orderby=timeasc&n=3", []string{"b", "c", "a", "a2"}, 2},
		{"?last=a2", []string{"b", "c"}, 1},
		{"?orderby=timedesc&last=a", []string{"c", "b"}, 1},
		{"?digest=" + da.String(), []string{"a", "a2"}, 1},
		{"?digest=" + da.String() + "&orderby=timedesc&n=1", []string{"a2", "a"}, 2},
		{"?digest=" + db.String(), []string{"b"}, 1},
		{"?n=0", nil, 1},
	} {
		t.Run(c.query, func(t *testing.T) {
			for _, prefix := range []string{"/acr/v1/team/app/_tags", "/acr/v1/team%2Fapp/_tags"} {
				pages := listNames(t, f.h, prefix+c.query, "tags", "name")
				if got := flat(pages); !slices.Equal(got, c.want) || len(pages) != c.pages {
					t.Errorf("%s%s = %v, want %v in %d pages", prefix, c.query, pages, c.want, c.pages)
				}
			}
		})
	}

	// The Link keeps orderby and digest and carries an opaque cursor.
	_, hdr, v := acrCall(t, f.h, "GET", "/acr/v1/team/app/_tags?orderby=timedesc&n=1&digest="+da.String(), "")
	link := hdr.Get("Link")
	u, err := url.Parse(link[1:strings.Index(link, ">")])
	if err != nil || u.Path != "/acr/v1/team/app/_tags" || u.Query().Get("orderby") != "timedesc" ||
		u.Query().Get("digest") != da.String() || u.Query().Get("n") != "1" || u.Query().Get("last") == "" {
		t.Errorf("Link = %q", link)
	}
	if !slices.Equal(keys(v), []string{"imageName", "registry", "tags"}) || v["imageName"] != "team/app" {
		t.Errorf("tag list = %v", v)
	}

	// Time order pages on even when the tag a cursor names is deleted
	// between pages (as acr purge does).
	_, hdr, _ = acrCall(t, f.h, "GET", "/acr/v1/team/app/_tags?orderby=timedesc&n=2", "")
	next := hdr.Get("Link")
	next = next[1:strings.Index(next, ">")]
	if code, _, _ := acrCall(t, f.h, "DELETE", "/acr/v1/team/app/_tags/a", ""); code != http.StatusAccepted {
		t.Fatalf("untag a = %d", code)
	}
	if got := flat(listNames(t, f.h, next, "tags", "name")); !slices.Equal(got, []string{"c", "b"}) {
		t.Errorf("after deleting the cursor's tag = %v, want [c b]", got)
	}
}

func TestACRManifestListing(t *testing.T) {
	f := newACRFixture(t)
	var byTime []string
	for _, s := range []string{"x", "y", "z", "w"} {
		byTime = append(byTime, f.platformImage(t, "team/app", s, s).String())
	}
	hidden := byTime[3]
	byTime = byTime[:3]
	if _, err := f.repo(t, "team/app").Manifests().SetAttributes(context.Background(), digest.Digest(hidden), tag.Patch{ListEnabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	byName := slices.Clone(byTime)
	sort.Strings(byName)
	rev := slices.Clone(byTime)
	slices.Reverse(rev)
	for _, c := range []struct {
		query string
		want  []string
		pages int
	}{
		{"", byName, 1},
		{"?n=2", byName, 2},
		{"?orderby=timeasc&n=1", byTime, 3},
		{"?orderby=timedesc&n=2", rev, 2},
		{"?last=" + byName[0], byName[1:], 1},
	} {
		pages := listNames(t, f.h, "/acr/v1/team%2Fapp/_manifests"+c.query, "manifests", "digest")
		if got := flat(pages); !slices.Equal(got, c.want) || len(pages) != c.pages {
			t.Errorf("%s = %v, want %v in %d pages", c.query, pages, c.want, c.pages)
		}
	}
	_, _, v := acrCall(t, f.h, "GET", "/acr/v1/team/app/_manifests?n=1", "")
	if !slices.Equal(keys(v), []string{"imageName", "manifests", "registry"}) {
		t.Errorf("manifest list = %v", v)
	}
}

func TestACRPatch(t *testing.T) {
	f := newACRFixture(t)
	d := f.platformImage(t, "team/app", "v1", "1")
	for _, target := range []string{"/acr/v1/team/app", "/acr/v1/team%2Fapp/_tags/v1", "/acr/v1/team/app/_manifests/" + d.String()} {
		t.Run(target, func(t *testing.T) {
			attrs := func(v map[string]any) map[string]any {
				for _, k := range []string{"tag", "manifest"} {
					if o, ok := v[k].(map[string]any); ok {
						v = o
					}
				}
				a, _ := v["changeableAttributes"].(map[string]any)
				return a
			}
			code, _, v := acrCall(t, f.h, "PATCH", target, `{"writeEnabled": false}`)
			a := attrs(v)
			if code != http.StatusOK || a["writeEnabled"] != false || a["deleteEnabled"] != true || a["readEnabled"] != true || a["listEnabled"] != true {
				t.Errorf("PATCH writeEnabled=false = %d %v", code, v)
			}
			code, _, v = acrCall(t, f.h, "PATCH", target, `{"deleteEnabled":false,"teleportEnabled":false}`)
			if a := attrs(v); code != http.StatusOK || a["writeEnabled"] != false || a["deleteEnabled"] != false {
				t.Errorf("second PATCH = %d %v", code, v)
			}
			code, _, v = acrCall(t, f.h, "PATCH", target, `{}`)
			if a := attrs(v); code != http.StatusOK || a["writeEnabled"] != false {
				t.Errorf("empty object = %d %v", code, v)
			}
			for _, bad := range []string{"", "  ", "null", `{"writeEnabled":"no"}`, `{"writeEnabled":false} {}`, `[true]`, `{`} {
				code, hdr, v := acrCall(t, f.h, "PATCH", target, bad)
				checkACRError(t, code, hdr, v, http.StatusBadRequest, httpapi.CodeUnsupported)
			}
			code, _, v = acrCall(t, f.h, "PATCH", target, `{"writeEnabled":true,"deleteEnabled":true}`)
			if a := attrs(v); code != http.StatusOK || a["writeEnabled"] != true || a["deleteEnabled"] != true {
				t.Errorf("unlock = %d %v", code, v)
			}
		})
	}
}

func TestACRLocksAndDeletes(t *testing.T) {
	f := newACRFixture(t)
	ctx := context.Background()
	d1 := f.platformImage(t, "team/app", "v1", "1")
	d2 := f.platformImage(t, "team/app", "v2", "2")
	if err := f.repo(t, "team/app").Tags().Set(ctx, "latest", d2, registry.SetOptions{}); err != nil {
		t.Fatal(err)
	}

	// A locked tag refuses untag and the repository delete, with ACR's body.
	if code, _, v := acrCall(t, f.h, "PATCH", "/acr/v1/team/app/_tags/v1", `{"writeEnabled":false}`); code != http.StatusOK {
		t.Fatalf("lock = %d %v", code, v)
	}
	for _, c := range []struct{ method, target string }{
		{"DELETE", "/acr/v1/team/app/_tags/v1"},
		{"DELETE", "/acr/v1/team/app"},
		{"DELETE", "/acr/v1/team%2Fapp/_manifests/" + d1.String()},
	} {
		code, hdr, v := acrCall(t, f.h, c.method, c.target, "")
		checkACRError(t, code, hdr, v, http.StatusMethodNotAllowed, httpapi.CodeDisallowed)
	}
	acrCall(t, f.h, "PATCH", "/acr/v1/team/app/_tags/v1", `{"writeEnabled":true}`)

	// Untag: 202 with no body; the manifest stays.
	w := call(t, f.h, "DELETE", "/acr/v1/team/app/_tags/latest?api-version=2021-07-01", nil)
	if w.Code != http.StatusAccepted || w.Body.Len() != 0 {
		t.Errorf("untag = %d %q", w.Code, w.Body)
	}
	if code, _, _ := acrCall(t, f.h, "GET", "/acr/v1/team/app/_manifests/"+d2.String(), ""); code != http.StatusOK {
		t.Errorf("manifest after untag = %d", code)
	}
	// Manifest delete: 202; its tags go too.
	if w := call(t, f.h, "DELETE", "/acr/v1/team/app/_manifests/"+d2.String(), nil); w.Code != http.StatusAccepted {
		t.Errorf("manifest delete = %d %s", w.Code, w.Body)
	}
	code, hdr, v := acrCall(t, f.h, "GET", "/acr/v1/team/app/_tags/v2", "")
	checkACRError(t, code, hdr, v, http.StatusNotFound, httpapi.CodeTagUnknown)

	// Repository delete: 202 with what went.
	d3 := f.platformImage(t, "team/app", "v3", "3")
	code, _, v = acrCall(t, f.h, "DELETE", "/acr/v1/team%2Fapp", "")
	if code != http.StatusAccepted || !slices.Equal(keys(v), []string{"manifestsDeleted", "tagsDeleted"}) {
		t.Fatalf("repository delete = %d %v", code, v)
	}
	wantM := []any{d1.String(), d3.String()}
	slices.SortFunc(wantM, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	if !slices.Equal(v["manifestsDeleted"].([]any), wantM) || !slices.Equal(v["tagsDeleted"].([]any), []any{"v1", "v3"}) {
		t.Errorf("deleted = %v, want manifests %v and tags [v1 v3]", v, wantM)
	}
	code, hdr, v = acrCall(t, f.h, "GET", "/acr/v1/team/app", "")
	checkACRError(t, code, hdr, v, http.StatusNotFound, httpapi.CodeNameUnknown)
}

func TestACRErrors(t *testing.T) {
	f := newACRFixture(t)
	f.platformImage(t, "team/app", "v1", "1")
	missing := digest.FromString("missing").String()
	for _, c := range []struct {
		method, target, body string
		status               int
		code                 string
	}{
		{"GET", "/acr/v1/nope", "", 404, httpapi.CodeNameUnknown},
		{"PATCH", "/acr/v1/nope", `{}`, 404, httpapi.CodeNameUnknown},
		{"DELETE", "/acr/v1/nope", "", 404, httpapi.CodeNameUnknown},
		{"GET", "/acr/v1/nope/_tags", "", 404, httpapi.CodeNameUnknown},
		{"GET", "/acr/v1/nope/_manifests", "", 404, httpapi.CodeNameUnknown},
		{"GET", "/acr/v1/nope/_tags?n=0", "", 404, httpapi.CodeNameUnknown},
		{"GET", "/acr/v1/team/app/_tags/v9", "", 404, httpapi.CodeTagUnknown},
		{"PATCH", "/acr/v1/team/app/_tags/v9", `{}`, 404, httpapi.CodeTagUnknown},
		{"DELETE", "/acr/v1/team/app/_tags/v9", "", 404, httpapi.CodeTagUnknown},
		{"GET", "/acr/v1/team/app/_manifests/" + missing, "", 404, httpapi.CodeManifestUnknown},
		{"PATCH", "/acr/v1/team/app/_manifests/" + missing, `{}`, 404, httpapi.CodeManifestUnknown},
		{"DELETE", "/acr/v1/team/app/_manifests/" + missing, "", 404, httpapi.CodeManifestUnknown},
		{"GET", "/acr/v1/team/app/_manifests/v1", "", 400, httpapi.CodeDigestInvalid},
		{"GET", "/acr/v1/Team/_tags", "", 400, httpapi.CodeNameInvalid},
		{"GET", "/acr/v1/team/app/", "", 400, httpapi.CodeNameInvalid},
		{"GET", "/acr/v1/team/app/_tags/bad%2Ftag", "", 400, httpapi.CodeTagInvalid},
		{"GET", "/acr/v1/team/app/_tags?orderby=newest", "", 400, httpapi.CodeUnsupported},
		{"GET", "/acr/v1/team/app/_tags?n=-1", "", 400, httpapi.CodeUnsupported},
		{"GET", "/acr/v1/team/app/_tags?digest=sha256:zz", "", 400, httpapi.CodeDigestInvalid},
		{"GET", "/acr/v1/team/app/_tags?orderby=timedesc&last=gone", "", 400, httpapi.CodeUnsupported},
		{"GET", "/acr/v1/team/app/_tags?orderby=timedesc&last=a@yesterday", "", 400, httpapi.CodeUnsupported},
		{"POST", "/acr/v1/team/app", "", 405, httpapi.CodeUnsupported},
		{"PUT", "/acr/v1/team/app/_tags/v1", "", 405, httpapi.CodeUnsupported},
		{"DELETE", "/acr/v1/team/app/_tags", "", 405, httpapi.CodeUnsupported},
		{"POST", "/acr/v1/_catalog", "", 405, httpapi.CodeUnsupported},
	} {
		t.Run(c.method+" "+c.target, func(t *testing.T) {
			code, hdr, v := acrCall(t, f.h, c.method, c.target, c.body)
			checkACRError(t, code, hdr, v, c.status, c.code)
			if c.status == http.StatusMethodNotAllowed && hdr.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
	for _, p := range []string{"/acr/v1/", "/acr/v1", "/acr/v1/_deleted/team/app", "/acr/v1/team/app/_blobs", "/acr/v1/team/app/_tags/a/b", "/acr/v1/team/app/_tags/", "/acr/v2/_catalog"} {
		if w := call(t, f.h, "GET", p, nil); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, w.Code)
		}
	}
}
