package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
)

func mustStatus(t *testing.T, w interface{ Result() *http.Response }, want int) {
	t.Helper()
	if got := w.Result().StatusCode; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
}

// rawPush pushes a two-blob image to name with plain requests, following
// the Location headers the handler returns: a chunked upload (POST, two
// PATCH chunks with Content-Range, PUT), a monolithic POST, a manifest PUT.
// It checks every Location is relative and names the repository.
func rawPush(t *testing.T, h http.Handler, name, tag string) (manifest []byte, layer []byte) {
	t.Helper()
	prefix := "/v2/" + name + "/"
	checkLoc := func(w *httptest.ResponseRecorder, want string) string {
		t.Helper()
		loc := w.Header().Get("Location")
		if !strings.HasPrefix(loc, prefix+want) {
			t.Fatalf("Location = %q, want a relative %s%s...", loc, prefix, want)
		}
		return loc
	}
	layer = bytes.Repeat([]byte("0123456789"), 100)
	w := call(t, h, "POST", escapeName(name)+"/blobs/uploads/", nil)
	mustStatus(t, w, http.StatusAccepted)
	loc := checkLoc(w, "blobs/uploads/")
	if w.Header().Get("Docker-Upload-UUID") == "" || w.Header().Get("Range") != "0-0" {
		t.Errorf("upload headers = %v", w.Header())
	}
	w = call(t, h, "PATCH", loc, layer[:600], "Content-Range", "0-599", "Content-Type", "application/octet-stream")
	mustStatus(t, w, http.StatusAccepted)
	if got := w.Header().Get("Range"); got != "0-599" {
		t.Errorf("Range after first chunk = %q", got)
	}
	loc = checkLoc(w, "blobs/uploads/")
	w = call(t, h, "GET", loc, nil)
	mustStatus(t, w, http.StatusNoContent)
	if got := w.Header().Get("Range"); got != "0-599" {
		t.Errorf("upload status Range = %q", got)
	}
	w = call(t, h, "PATCH", loc, layer[600:900], "Content-Range", "bytes 600-899")
	mustStatus(t, w, http.StatusAccepted)
	loc = checkLoc(w, "blobs/uploads/")
	ld := digest.FromBytes(layer)
	w = call(t, h, "PUT", loc+"?digest="+ld.String(), layer[900:], "Content-Range", "900-999")
	mustStatus(t, w, http.StatusCreated)
	if checkLoc(w, "blobs/"+ld.String()) == "" || w.Header().Get("Docker-Content-Digest") != ld.String() {
		t.Errorf("commit headers = %v", w.Header())
	}

	cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
	cd := digest.FromBytes(cfg)
	w = call(t, h, "POST", escapeName(name)+"/blobs/uploads/?digest="+cd.String(), cfg)
	mustStatus(t, w, http.StatusCreated)
	checkLoc(w, "blobs/"+cd.String())

	manifest = imageManifest(
		ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cd, Size: int64(len(cfg))},
		ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: ld, Size: int64(len(layer))}, nil, "")
	md := digest.FromBytes(manifest)
	w = call(t, h, "PUT", escapeName(name)+"/manifests/"+tag, manifest, "Content-Type", ocispec.MediaTypeImageManifest)
	mustStatus(t, w, http.StatusCreated)
	checkLoc(w, "manifests/"+md.String())
	if w.Header().Get("Docker-Content-Digest") != md.String() {
		t.Errorf("Docker-Content-Digest = %q", w.Header().Get("Docker-Content-Digest"))
	}
	return manifest, layer
}

// escapeName spells the /v2/<name> prefix with %2F for the slashes when the
// name starts with "enc/", to push through percent-encoded paths too.
func escapeName(name string) string {
	if strings.HasPrefix(name, "enc/") {
		return "/v2/" + strings.ReplaceAll(name, "/", "%2F")
	}
	return "/v2/" + name
}

// TestRouteNames pushes and pulls with repository names that contain the
// API's own path words, and with percent-encoded slashes.
func TestRouteNames(t *testing.T) {
	names := []string{
		"app",
		"team/app",
		"a/manifests/b",
		"x/blobs/y",
		"u/blobs/uploads",
		"t/tags/list",
		"r/referrers/s",
		"manifests",
		"blobs/uploads/blobs",
		"enc/team/app",
		"v2/v2",
	}
	f := newFixture(t)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			manifest, layer := rawPush(t, f.h, name, "v1")
			for _, base := range []string{"/v2/" + name, "/v2/" + strings.ReplaceAll(name, "/", "%2F"), "/v2/" + strings.ReplaceAll(name, "/", "%2f")} {
				w := call(t, f.h, "GET", base+"/manifests/v1", nil)
				if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), manifest) {
					t.Fatalf("GET %s/manifests/v1 = %d %s", base, w.Code, w.Body)
				}
				w = call(t, f.h, "GET", base+"/blobs/"+digest.FromBytes(layer).String(), nil)
				if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), layer) {
					t.Fatalf("GET %s/blobs = %d", base, w.Code)
				}
				w = call(t, f.h, "GET", base+"/tags/list", nil)
				want := `{"name":"` + name + `","tags":["v1"]}`
				if w.Code != http.StatusOK || w.Body.String() != want {
					t.Fatalf("GET %s/tags/list = %d %s, want %s", base, w.Code, w.Body, want)
				}
			}
		})
	}
	w := call(t, f.h, "GET", "/v2/_catalog", nil)
	var cat struct{ Repositories []string }
	if err := json.Unmarshal(w.Body.Bytes(), &cat); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(names)
	slices.Sort(want)
	if !slices.Equal(cat.Repositories, want) {
		t.Errorf("catalog = %v, want %v", cat.Repositories, want)
	}
}

func TestBaseAndOutsidePaths(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"/v2/", "/v2"} {
		w := call(t, f.h, "GET", p, nil)
		if w.Code != http.StatusOK || w.Body.String() != "{}" || w.Header().Get("Docker-Distribution-API-Version") != "registry/2.0" {
			t.Errorf("GET %s = %d %q %v", p, w.Code, w.Body, w.Header())
		}
	}
	// Paths outside the API get the plain 404 of net/http.
	for _, p := range []string{"/", "/v1/", "/v2x/", "/v2/app", "/v2/app/unknown/x", "/v2/app/manifests", "/v2/app/manifests/v1/x"} {
		w := call(t, f.h, "GET", p, nil)
		if w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, w.Code)
		}
	}
}

func TestPagination(t *testing.T) {
	f := newFixture(t)
	_, d := f.image(t, "team/app", "a", "1")
	repo := f.repo(t, "team/app")
	tags := []string{"a", "b", "c", "d", "e"}
	for _, tg := range tags[1:] {
		if err := repo.Tags().Set(t.Context(), tg, d, registry.SetOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []string{"b/one", "c/two", "d/three"} {
		f.image(t, r, "x", r)
	}
	repos := []string{"b/one", "c/two", "d/three", "team/app"}

	type page struct {
		Name         string
		Tags         []string
		Repositories []string
	}
	walk := func(first string, n int) ([]string, int) {
		t.Helper()
		var all []string
		pages := 0
		next := first + "?n=" + strconv.Itoa(n)
		for next != "" {
			w := call(t, f.h, "GET", next, nil)
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("GET %s = %d %v", next, w.Code, w.Header())
			}
			var p page
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			all = append(all, p.Tags...)
			all = append(all, p.Repositories...)
			pages++
			next = ""
			if link := w.Header().Get("Link"); link != "" {
				u, rel, ok := strings.Cut(link, ">; ")
				if !ok || rel != `rel="next"` || !strings.HasPrefix(u, "<"+first+"?") {
					t.Fatalf("Link = %q, want a relative <%s?...>; rel=\"next\"", link, first)
				}
				next = u[1:]
			}
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
		}
		return all, pages
	}
	for _, n := range []int{1, 2, 4, 5, 100} {
		got, pages := walk("/v2/team/app/tags/list", n)
		if !slices.Equal(got, tags) || pages != (len(tags)+n-1)/n {
			t.Errorf("tags by %d: %v in %d pages", n, got, pages)
		}
		got, pages = walk("/v2/_catalog", n)
		if !slices.Equal(got, repos) || pages != (len(repos)+n-1)/n {
			t.Errorf("catalog by %d: %v in %d pages", n, got, pages)
		}
	}
	for _, c := range []struct{ target, want string }{
		{"/v2/team/app/tags/list?n=0", `{"name":"team/app","tags":[]}`},
		{"/v2/team/app/tags/list?last=c", `{"name":"team/app","tags":["d","e"]}`},
		{"/v2/team/app/tags/list?last=c&n=1", `{"name":"team/app","tags":["d"]}`},
		{"/v2/team/app/tags/list?last=z", `{"name":"team/app","tags":[]}`},
		{"/v2/_catalog?n=0", `{"repositories":[]}`},
		{"/v2/_catalog?last=c/two", `{"repositories":["d/three","team/app"]}`},
	} {
		w := call(t, f.h, "GET", c.target, nil)
		if w.Code != http.StatusOK || w.Body.String() != c.want {
			t.Errorf("GET %s = %d %s, want %s", c.target, w.Code, w.Body, c.want)
		}
	}
}

func TestHeadAndRange(t *testing.T) {
	f := newFixture(t)
	man, md := f.image(t, "team/app", "v1", "1")
	layer := []byte("layer 1")
	ld := digest.FromBytes(layer)

	w := call(t, f.h, "HEAD", "/v2/team/app/blobs/"+ld.String(), nil)
	if w.Code != http.StatusOK || w.Body.Len() != 0 ||
		w.Header().Get("Content-Length") != strconv.Itoa(len(layer)) ||
		w.Header().Get("Docker-Content-Digest") != ld.String() {
		t.Errorf("HEAD blob = %d %v", w.Code, w.Header())
	}
	for _, ref := range []string{"v1", md.String()} {
		w = call(t, f.h, "HEAD", "/v2/team/app/manifests/"+ref, nil)
		if w.Code != http.StatusOK || w.Body.Len() != 0 ||
			w.Header().Get("Content-Length") != strconv.Itoa(len(man)) ||
			w.Header().Get("Docker-Content-Digest") != md.String() ||
			w.Header().Get("Content-Type") != ocispec.MediaTypeImageManifest {
			t.Errorf("HEAD manifest %s = %d %v", ref, w.Code, w.Header())
		}
	}
	w = call(t, f.h, "GET", "/v2/team/app/blobs/"+ld.String(), nil, "Range", "bytes=2-4")
	if w.Code != http.StatusPartialContent || w.Body.String() != "yer" ||
		w.Header().Get("Content-Range") != "bytes 2-4/7" {
		t.Errorf("GET range = %d %q %v", w.Code, w.Body, w.Header())
	}
	w = call(t, f.h, "GET", "/v2/team/app/blobs/"+ld.String(), nil, "Range", "bytes=-3")
	if w.Code != http.StatusPartialContent || w.Body.String() != "r 1" {
		t.Errorf("GET suffix range = %d %q", w.Code, w.Body)
	}
	w = call(t, f.h, "GET", "/v2/team/app/blobs/"+ld.String(), nil, "Range", "bytes=100-200")
	if w.Code != http.StatusRequestedRangeNotSatisfiable || w.Header().Get("Content-Range") != "bytes */7" {
		t.Errorf("GET bad range = %d %v", w.Code, w.Header())
	}
}

// TestServeContentErrors: the errors http.ServeContent writes for a blob
// GET should have the spec's JSON body like every other error.
func TestServeContentErrors(t *testing.T) {
	f := newFixture(t)
	f.image(t, "team/app", "v1", "1")
	target := "/v2/team/app/blobs/" + digest.FromString("layer 1").String()
	w := call(t, f.h, "GET", target, nil, "Range", "bytes=100-200")
	checkError(t, "GET", w.Code, w.Header(), w.Body.Bytes(), http.StatusRequestedRangeNotSatisfiable, "")
	w = call(t, f.h, "GET", target, nil, "If-Match", `"other"`)
	checkError(t, "GET", w.Code, w.Header(), w.Body.Bytes(), http.StatusPreconditionFailed, "")
}

func TestReferrersHeaders(t *testing.T) {
	f := newFixture(t)
	man, md := f.image(t, "team/app", "v1", "1")
	subject := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: md, Size: int64(len(man))}
	empty := f.blob(t, "team/app", ocispec.MediaTypeEmptyJSON, []byte("{}"))
	sig := imageManifest(empty, f.blob(t, "team/app", "application/jose+json", []byte("sig")), &subject, sigType)
	sbom := imageManifest(empty, f.blob(t, "team/app", sbomType, []byte("sbom")), &subject, sbomType)
	for _, m := range [][]byte{sig, sbom} {
		w := call(t, f.h, "PUT", "/v2/team/app/manifests/"+digest.FromBytes(m).String(), m, "Content-Type", ocispec.MediaTypeImageManifest)
		if w.Code != http.StatusCreated || w.Header().Get("OCI-Subject") != md.String() {
			t.Errorf("PUT referrer = %d, OCI-Subject %q, want %s", w.Code, w.Header().Get("OCI-Subject"), md)
		}
	}
	// A manifest without subject gets no OCI-Subject.
	w := call(t, f.h, "PUT", "/v2/team/app/manifests/v1", man, "Content-Type", ocispec.MediaTypeImageManifest)
	if w.Code != http.StatusCreated || w.Header().Get("OCI-Subject") != "" {
		t.Errorf("PUT image = %d, OCI-Subject %q", w.Code, w.Header().Get("OCI-Subject"))
	}
	for _, c := range []struct {
		query    string
		filtered bool
		want     []digest.Digest
	}{
		{"", false, []digest.Digest{digest.FromBytes(sig), digest.FromBytes(sbom)}},
		{"?artifactType=" + url.QueryEscape(sbomType), true, []digest.Digest{digest.FromBytes(sbom)}},
		{"?artifactType=application/none", true, nil},
	} {
		w := call(t, f.h, "GET", "/v2/team/app/referrers/"+md.String()+c.query, nil)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != ocispec.MediaTypeImageIndex {
			t.Fatalf("referrers%s = %d %v", c.query, w.Code, w.Header())
		}
		if got := w.Header().Get("OCI-Filters-Applied"); (got == "artifactType") != c.filtered || (got != "" && got != "artifactType") {
			t.Errorf("referrers%s: OCI-Filters-Applied = %q", c.query, got)
		}
		var idx ocispec.Index
		if err := json.Unmarshal(w.Body.Bytes(), &idx); err != nil {
			t.Fatal(err)
		}
		var got []digest.Digest
		for _, d := range idx.Manifests {
			got = append(got, d.Digest)
		}
		slices.Sort(got)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if idx.SchemaVersion != 2 || idx.MediaType != ocispec.MediaTypeImageIndex || !slices.Equal(got, want) || idx.Manifests == nil {
			t.Errorf("referrers%s = %s, want %v", c.query, w.Body, want)
		}
	}
	// An unknown subject has an empty list.
	w = call(t, f.h, "GET", "/v2/team/app/referrers/"+digest.FromString("none").String(), nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"manifests":[]`) {
		t.Errorf("referrers of unknown subject = %d %s", w.Code, w.Body)
	}
}

func TestMountAndSessions(t *testing.T) {
	f := newFixture(t)
	f.image(t, "src/app", "v1", "1")
	f.image(t, "empty/app", "v1", "2")
	ld := digest.FromString("layer 1")
	start := "/v2/dst/app/blobs/uploads/?mount=" + ld.String()
	for _, c := range []struct {
		name, query string
		status      int
	}{
		{"from a repo lacking the blob", "&from=empty/app", http.StatusAccepted},
		{"from a missing repo", "&from=no/such", http.StatusAccepted},
		{"from an invalid name", "&from=Bad..Name", http.StatusAccepted},
		{"anonymous, not enabled", "", http.StatusAccepted},
		{"from the holder", "&from=src/app", http.StatusCreated},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := call(t, f.h, "POST", start+c.query, nil)
			if w.Code != c.status {
				t.Fatalf("POST = %d %s, want %d", w.Code, w.Body, c.status)
			}
			loc := w.Header().Get("Location")
			if c.status == http.StatusAccepted {
				if !strings.HasPrefix(loc, "/v2/dst/app/blobs/uploads/") {
					t.Errorf("fallback Location = %q", loc)
				}
				// The session works: cancel it.
				if w := call(t, f.h, "DELETE", loc, nil); w.Code != http.StatusNoContent {
					t.Errorf("DELETE session = %d", w.Code)
				}
				w := call(t, f.h, "GET", loc, nil)
				checkError(t, "GET", w.Code, w.Header(), w.Body.Bytes(), http.StatusNotFound, httpapi.CodeBlobUploadUnknown)
				return
			}
			if loc != "/v2/dst/app/blobs/"+ld.String() || w.Header().Get("Docker-Content-Digest") != ld.String() {
				t.Errorf("mount headers = %v", w.Header())
			}
		})
	}
	if w := call(t, f.h, "GET", "/v2/dst/app/blobs/"+ld.String(), nil); w.Body.String() != "layer 1" {
		t.Errorf("mounted blob = %d %q", w.Code, w.Body)
	}
	// With anonymous mounts on, no from is needed.
	h := httpapi.New(f.reg, httpapi.WithAnonymousMount(true))
	if w := call(t, h, "POST", "/v2/anon/app/blobs/uploads/?mount="+ld.String(), nil); w.Code != http.StatusCreated {
		t.Errorf("anonymous mount = %d %s", w.Code, w.Body)
	}
	// An unreferenced blob deletes with 202.
	if w := call(t, f.h, "DELETE", "/v2/dst/app/blobs/"+ld.String(), nil); w.Code != http.StatusAccepted {
		t.Errorf("DELETE blob = %d %s", w.Code, w.Body)
	}
}

func TestManifestTagsAndDeletes(t *testing.T) {
	f := newFixture(t)
	man, md := f.image(t, "team/app", "", "1")
	w := call(t, f.h, "PUT", "/v2/team/app/manifests/"+md.String()+"?tag=a&tag=b", man, "Content-Type", ocispec.MediaTypeImageManifest)
	if w.Code != http.StatusCreated || !slices.Equal(w.Header().Values("OCI-Tag"), []string{"a", "b"}) {
		t.Fatalf("PUT ?tag= = %d %v", w.Code, w.Header())
	}
	if w := call(t, f.h, "DELETE", "/v2/team/app/manifests/a", nil); w.Code != http.StatusAccepted {
		t.Fatalf("untag = %d %s", w.Code, w.Body)
	}
	if w := call(t, f.h, "GET", "/v2/team/app/tags/list", nil); w.Body.String() != `{"name":"team/app","tags":["b"]}` {
		t.Errorf("tags after untag = %s", w.Body)
	}
	if w := call(t, f.h, "GET", "/v2/team/app/manifests/"+md.String(), nil); w.Code != http.StatusOK {
		t.Errorf("manifest after untag = %d", w.Code)
	}
	if w := call(t, f.h, "DELETE", "/v2/team/app/manifests/"+md.String(), nil); w.Code != http.StatusAccepted {
		t.Fatalf("delete = %d %s", w.Code, w.Body)
	}
	w = call(t, f.h, "GET", "/v2/team/app/manifests/b", nil)
	checkError(t, "GET", w.Code, w.Header(), w.Body.Bytes(), http.StatusNotFound, httpapi.CodeManifestUnknown)
}

// TestAcceptNegotiation: a client that takes image manifests but not
// indexes gets an index's linux/amd64 child, as older Docker clients expect.
func TestAcceptNegotiation(t *testing.T) {
	f := newFixture(t)
	arm, armD := f.image(t, "team/app", "", "arm")
	amd, amdD := f.image(t, "team/app", "", "amd")
	var idx ocispec.Index
	idx.SchemaVersion = 2
	idx.MediaType = ocispec.MediaTypeImageIndex
	idx.Manifests = []ocispec.Descriptor{
		{MediaType: ocispec.MediaTypeImageManifest, Digest: armD, Size: int64(len(arm)), Platform: &ocispec.Platform{OS: "linux", Architecture: "arm64"}},
		{MediaType: ocispec.MediaTypeImageManifest, Digest: amdD, Size: int64(len(amd)), Platform: &ocispec.Platform{OS: "linux", Architecture: "amd64"}},
	}
	ib, _ := json.Marshal(idx)
	if w := call(t, f.h, "PUT", "/v2/team/app/manifests/multi", ib, "Content-Type", ocispec.MediaTypeImageIndex); w.Code != http.StatusCreated {
		t.Fatalf("PUT index = %d %s", w.Code, w.Body)
	}
	id := digest.FromBytes(ib)
	for _, c := range []struct {
		accept string
		body   []byte
		mt     string
	}{
		{"", ib, ocispec.MediaTypeImageIndex},
		{"*/*", ib, ocispec.MediaTypeImageIndex},
		{ocispec.MediaTypeImageIndex, ib, ocispec.MediaTypeImageIndex},
		{ocispec.MediaTypeImageManifest + ", " + ocispec.MediaTypeImageIndex, ib, ocispec.MediaTypeImageIndex},
		{ocispec.MediaTypeImageManifest, amd, ocispec.MediaTypeImageManifest},
		{"application/vnd.docker.distribution.manifest.v2+json, " + ocispec.MediaTypeImageManifest + ";q=0.5", amd, ocispec.MediaTypeImageManifest},
		// No child fits: the index comes as it is and the client decides.
		{"application/vnd.docker.distribution.manifest.v2+json", ib, ocispec.MediaTypeImageIndex},
	} {
		for _, ref := range []string{"multi", id.String()} {
			w := call(t, f.h, "GET", "/v2/team/app/manifests/"+ref, nil, "Accept", c.accept)
			d := digest.FromBytes(c.body).String()
			if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), c.body) ||
				w.Header().Get("Docker-Content-Digest") != d || w.Header().Get("Content-Type") != c.mt {
				t.Errorf("GET %s, Accept %q = %d %s %v; want %s", ref, c.accept, w.Code, w.Body, w.Header(), d)
			}
			h := call(t, f.h, "HEAD", "/v2/team/app/manifests/"+ref, nil, "Accept", c.accept)
			if h.Header().Get("Docker-Content-Digest") != d || h.Header().Get("Content-Length") != strconv.Itoa(len(c.body)) {
				t.Errorf("HEAD %s, Accept %q = %v; want %s", ref, c.accept, h.Header(), d)
			}
		}
	}
}
