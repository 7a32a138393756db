package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
)

// escapeAll percent-encodes every byte, so no path word can appear in s.
func escapeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// routePath renders rt as a path, name slashes plain or as %2F.
func routePath(rt route, encodeSlashes bool) string {
	name := rt.name
	if encodeSlashes {
		name = strings.ReplaceAll(name, "/", "%2F")
	}
	p := "/v2/" + name
	switch rt.kind {
	case kindTags:
		return p + "/tags/list"
	case kindManifest:
		return p + "/manifests/" + escapeAll(rt.ref)
	case kindBlob:
		return p + "/blobs/" + escapeAll(rt.ref)
	case kindUploadStart:
		return p + "/blobs/uploads/"
	case kindUpload:
		return p + "/blobs/uploads/" + escapeAll(rt.ref)
	case kindReferrers:
		return p + "/referrers/" + escapeAll(rt.ref)
	}
	panic("no path for kind")
}

func FuzzRoute(f *testing.F) {
	for _, s := range []string{
		"/v2/", "/v2", "/v2/_catalog", "/v2/a/tags/list", "/v2/a/b/manifests/latest",
		"/v2/a%2Fb/manifests/sha256:00", "/v2/a/manifests/b/manifests/c", "/v2/a/blobs/uploads/",
		"/v2/a/blobs/uploads", "/v2/a/blobs/uploads/id", "/v2/x/blobs/uploads/blobs/uploads/",
		"/v2/a/blobs/sha256:ab", "/v2/a/referrers/sha256:ab", "/v2/%2E%2E/tags/list",
		"/v2/a/blobs/upload%73", "/v2/a//tags/list", "/v2/a/%zz/tags/list", "/v3/a/tags/list",
		"/acr/v1/_catalog", "/acr/v1/a", "/acr/v1/a/b/_tags", "/acr/v1/a%2Fb/_tags/v1",
		"/acr/v1/a/_manifests", "/acr/v1/a/_manifests/sha256:00", "/acr/v1/a/_tags/_manifests",
		"/acr/v1/_deleted/a", "/acr/v1/a/", "/acr/v1/a/_tags/%zz", "/acr/v1/a/%5Ftags/x",
		"/acr/v1/_deleted/_catalog", "/acr/v1/_deleted/a/b/_tags", "/acr/v1/_deleted/a%2Fb/_manifests",
		"/acr/v1/_deleted/a/_manifests/sha256:00", "/acr/v1/_deleted/_deleted/_tags", "/acr/v1/_deleted/a/_tags/v1",
		"/acr/v1/_deleted/", "/acr/v1/_deleted", "/acr/v1/_deleted/a/_manifests/%zz", "/acr/v1/_deleted/_catalog/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, escaped string) {
		checkACRRoute(t, escaped)
		rt, ok := parseRoute(escaped)
		if !ok {
			return
		}
		switch rt.kind {
		case kindBase, kindCatalog:
			if rt.name != "" || rt.ref != "" {
				t.Fatalf("%q: %+v", escaped, rt)
			}
			return
		case kindUploadStart:
			if rt.ref != "" {
				t.Fatalf("%q: upload start with ref %q", escaped, rt.ref)
			}
		case kindUpload:
			if rt.ref == "" {
				t.Fatalf("%q: upload without an ID", escaped)
			}
		case kindTags, kindManifest, kindBlob, kindReferrers:
		default:
			t.Fatalf("%q: kind %d", escaped, rt.kind)
		}
		if !strings.HasPrefix(escaped, "/v2/") {
			t.Fatalf("%q accepted outside /v2/", escaped)
		}
		if registry.ValidateName(rt.name) != nil {
			return // the handler answers NAME_INVALID
		}
		for _, enc := range []bool{false, true} {
			p := routePath(rt, enc)
			back, ok := parseRoute(p)
			if !ok || back != rt {
				t.Fatalf("%q parsed to %+v; its rendering %q parses to %+v, %v", escaped, rt, p, back, ok)
			}
		}
	})
}

// acrRoutePath renders an ACR route as a path, name slashes plain or as %2F.
func acrRoutePath(rt route, encodeSlashes bool) string {
	name := rt.name
	if encodeSlashes {
		name = strings.ReplaceAll(name, "/", "%2F")
	}
	p := "/acr/v1/" + name
	switch rt.kind {
	case kindACRCatalog:
		return "/acr/v1/_catalog"
	case kindACRRepo:
		return p
	case kindACRTags:
		return p + "/_tags"
	case kindACRTag:
		return p + "/_tags/" + escapeAll(rt.ref)
	case kindACRManifests:
		return p + "/_manifests"
	case kindACRManifest:
		return p + "/_manifests/" + escapeAll(rt.ref)
	case kindACRDeletedCatalog:
		return "/acr/v1/_deleted/_catalog"
	case kindACRDeletedTags:
		return "/acr/v1/_deleted/" + name + "/_tags"
	case kindACRDeletedManifests:
		return "/acr/v1/_deleted/" + name + "/_manifests"
	case kindACRDeletedManifest:
		return "/acr/v1/_deleted/" + name + "/_manifests/" + escapeAll(rt.ref)
	}
	panic("no path for kind")
}

// checkACRRoute checks what parseACRRoute makes of escaped: only /acr/v1/
// paths, a ref exactly on the routes that have one, and a valid name's
// rendering parsing back to the same route.
func checkACRRoute(t *testing.T, escaped string) {
	rt, ok := parseACRRoute(escaped)
	if !ok {
		return
	}
	if !strings.HasPrefix(escaped, "/acr/v1/") || !rt.kind.acr() {
		t.Fatalf("%q parsed to %+v", escaped, rt)
	}
	if rt.kind.deleted() != strings.HasPrefix(escaped, "/acr/v1/_deleted/") {
		t.Fatalf("%q parsed to %+v", escaped, rt)
	}
	switch rt.kind {
	case kindACRCatalog, kindACRDeletedCatalog:
		if rt.name != "" || rt.ref != "" {
			t.Fatalf("%q: %+v", escaped, rt)
		}
		return
	case kindACRTag, kindACRManifest, kindACRDeletedManifest:
		if rt.ref == "" {
			t.Fatalf("%q: no reference", escaped)
		}
	default:
		if rt.ref != "" {
			t.Fatalf("%q: reference %q", escaped, rt.ref)
		}
	}
	if registry.ValidateName(rt.name) != nil {
		return // the handler answers NAME_INVALID
	}
	for _, enc := range []bool{false, true} {
		p := acrRoutePath(rt, enc)
		back, ok := parseACRRoute(p)
		if !ok || back != rt {
			t.Fatalf("%q parsed to %+v; its rendering %q parses to %+v, %v", escaped, rt, p, back, ok)
		}
	}
}

// fuzzFixture is a fresh registry with an image in team/app and an upload
// session, so fuzzed requests can name real things through placeholders.
type fuzzFixture struct {
	h            *Handler
	replacements *strings.Replacer
}

func newFuzzFixture(t testing.TB) *fuzzFixture {
	t.Helper()
	ctx := context.Background()
	reg, err := registry.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	repo, err := reg.Repository(ctx, "team/app")
	if err != nil {
		t.Fatal(err)
	}
	put := func(mt string, b []byte) ocispec.Descriptor {
		d := digest.FromBytes(b)
		if _, err := repo.Blobs().Put(ctx, d, int64(len(b)), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(b))}
	}
	cfg := put(ocispec.MediaTypeImageConfig, []byte(`{}`))
	layer := put(ocispec.MediaTypeImageLayer, []byte("layer"))
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{layer}}
	m.SchemaVersion = 2
	mb, _ := json.Marshal(m)
	if _, err := repo.Manifests().Put(ctx, mb, registry.PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: "v1"}); err != nil {
		t.Fatal(err)
	}
	// A second image, soft-deleted, for the _deleted routes.
	if _, err := reg.SetSoftDelete(ctx, true, 7); err != nil {
		t.Fatal(err)
	}
	m.Layers = []ocispec.Descriptor{put(ocispec.MediaTypeImageLayer, []byte("layer 2"))}
	db, _ := json.Marshal(m)
	if _, err := repo.Manifests().Put(ctx, db, registry.PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: "old"}); err != nil {
		t.Fatal(err)
	}
	if err := repo.Manifests().Delete(ctx, digest.FromBytes(db)); err != nil {
		t.Fatal(err)
	}
	up, err := repo.Blobs().StartUpload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	up.Close()
	return &fuzzFixture{
		h: New(reg, WithMaxManifestSize(1<<16)),
		replacements: strings.NewReplacer(
			"UPLOAD", up.ID(),
			"LAYER", layer.Digest.String(),
			"MANIFEST", digest.FromBytes(mb).String(),
			"DELETED", digest.FromBytes(db).String(),
		),
	}
}

func validErrorJSON(body []byte) error {
	var eb struct {
		Errors []apiError `json:"errors"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil {
		return err
	}
	if len(eb.Errors) == 0 || eb.Errors[0].Code == "" || eb.Errors[0].Message == "" {
		return fmt.Errorf("no error code and message")
	}
	return nil
}

func FuzzHandler(f *testing.F) {
	man := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`
	for _, s := range []struct {
		method, target, ctype, crange, rng string
		body                               []byte
	}{
		{"GET", "/v2/", "", "", "", nil},
		{"GET", "/v2/_catalog?n=1&last=a", "", "", "", nil},
		{"GET", "/v2/team/app/tags/list?n=1", "", "", "", nil},
		{"HEAD", "/v2/team/app/manifests/v1", "", "", "", nil},
		{"GET", "/v2/team/app/manifests/MANIFEST", "", "", "", nil},
		{"DELETE", "/v2/team/app/manifests/v1", "", "", "", nil},
		{"GET", "/v2/team/app/blobs/LAYER", "", "", "bytes=1-2", nil},
		{"DELETE", "/v2/team/app/blobs/LAYER", "", "", "", nil},
		{"GET", "/v2/team/app/referrers/MANIFEST?artifactType=a/b", "", "", "", nil},
		{"POST", "/v2/team/app/blobs/uploads/", "", "", "", []byte("abc")},
		{"POST", "/v2/other/blobs/uploads/?mount=LAYER&from=team/app", "", "", "", nil},
		{"POST", "/v2/team/app/blobs/uploads/?digest=sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "", "", "", []byte("abc")},
		{"PATCH", "/v2/team/app/blobs/uploads/UPLOAD", "application/octet-stream", "0-2", "", []byte("abc")},
		{"PUT", "/v2/team/app/blobs/uploads/UPLOAD?digest=sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "", "", "", []byte("abc")},
		{"GET", "/v2/team/app/blobs/uploads/UPLOAD", "", "", "", nil},
		{"DELETE", "/v2/team/app/blobs/uploads/UPLOAD", "", "", "", nil},
		{"PUT", "/v2/team/app/manifests/v2", ocispec.MediaTypeImageManifest, "", "", []byte(man)},
		{"PUT", "/v2/team/app/manifests/sha256:00?tag=a", ocispec.MediaTypeImageIndex, "", "", []byte(`{"schemaVersion":2,"manifests":[]}`)},
		{"PUT", "/v2/Team/../x%2F/manifests/v1", "", "", "", []byte("{")},
		{"GET", "/acr/v1/_catalog?n=1&last=a&api-version=2021-07-01", "", "", "", nil},
		{"GET", "/acr/v1/team%2Fapp", "", "", "", nil},
		{"PATCH", "/acr/v1/team/app", "application/json", "", "", []byte(`{"listEnabled":false}`)},
		{"DELETE", "/acr/v1/team/app", "", "", "", nil},
		{"GET", "/acr/v1/team/app/_tags?n=1&orderby=timedesc&digest=MANIFEST", "", "", "", nil},
		{"GET", "/acr/v1/team/app/_tags?orderby=timeasc&last=v1%402024-01-01T00%3A00%3A00Z", "", "", "", nil},
		{"PATCH", "/acr/v1/team/app/_tags/v1", "", "", "", []byte(`{"writeEnabled":false}`)},
		{"DELETE", "/acr/v1/team/app/_tags/v1", "", "", "", nil},
		{"GET", "/acr/v1/team/app/_manifests?n=1&last=MANIFEST&orderby=timedesc", "", "", "", nil},
		{"PATCH", "/acr/v1/team/app/_manifests/MANIFEST", "", "", "", []byte(`{"deleteEnabled":false}`)},
		{"DELETE", "/acr/v1/team/app/_manifests/MANIFEST", "", "", "", nil},
		{"GET", "/acr/v1/_deleted/_catalog?n=1", "", "", "", nil},
		{"GET", "/acr/v1/_deleted/team/app/_tags?n=1&last=old%40x", "", "", "", nil},
		{"HEAD", "/acr/v1/_deleted/team%2Fapp/_manifests", "", "", "", nil},
		{"POST", "/acr/v1/_deleted/team/app/_manifests/DELETED?force=true", "application/json", "", "", []byte(`{"tag":"v1"}`)},
		{"POST", "/acr/v1/_deleted/team/app/_manifests/DELETED", "", "", "", nil},
		{"POST", "/acr/v1/_deleted/team/app/_manifests/MANIFEST?force=1", "", "", "", []byte(`{"tag":`)},
	} {
		f.Add(s.method, s.target, s.ctype, s.crange, s.rng, s.body)
	}
	f.Fuzz(func(t *testing.T, method, target, ctype, crange, rng string, body []byte) {
		fx := newFuzzFixture(t)
		target = fx.replacements.Replace(target)
		req, err := http.NewRequest(method, target, bytes.NewReader(body))
		if err != nil || req.URL.Host != "" || req.URL.Scheme != "" {
			return
		}
		for k, v := range map[string]string{"Content-Type": ctype, "Content-Range": crange, "Range": rng} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		w := httptest.NewRecorder()
		fx.h.ServeHTTP(w, req)
		res := w.Result()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s: %d %s", method, target, res.StatusCode, w.Body)
		}
		if loc := res.Header.Get("Location"); loc != "" && !strings.HasPrefix(loc, "/v2/") {
			t.Fatalf("%s %s: Location %q", method, target, loc)
		}
		_, ok := parseRoute(req.URL.EscapedPath())
		if !ok {
			_, ok = parseACRRoute(req.URL.EscapedPath())
		}
		if !ok {
			if res.StatusCode != http.StatusNotFound {
				t.Fatalf("%s %s outside the API: %d", method, target, res.StatusCode)
			}
			return
		}
		if res.StatusCode < 400 {
			return
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: %d with Content-Type %q: %s", method, target, res.StatusCode, ct, w.Body)
		}
		if method == http.MethodHead {
			if w.Body.Len() != 0 {
				t.Fatalf("HEAD %s: body %q", target, w.Body)
			}
			return
		}
		if err := validErrorJSON(w.Body.Bytes()); err != nil {
			t.Fatalf("%s %s: %d: %v: %q", method, target, res.StatusCode, err, w.Body)
		}
	})
}
