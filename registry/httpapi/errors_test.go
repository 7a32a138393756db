package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/registrytest"
	"github.com/regkit/regkit/tag"
)

// errorCase is one request that must fail with status and code.
type errorCase struct {
	name   string
	method string
	target string
	body   []byte
	hdr    []string
	status int
	code   string
}

// run sends each case to h and checks the error response.
func runErrorCases(t *testing.T, h http.Handler, cases []errorCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := call(t, h, c.method, c.target, c.body, c.hdr...)
			checkError(t, c.method, w.Code, w.Header(), w.Body.Bytes(), c.status, c.code)
			if v := w.Header().Get("Docker-Distribution-API-Version"); v != "registry/2.0" {
				t.Errorf("Docker-Distribution-API-Version = %q", v)
			}
			if c.status == http.StatusMethodNotAllowed && c.code == httpapi.CodeUnsupported && w.Header().Get("Allow") == "" && strings.HasPrefix(c.name, "method") {
				t.Error("405 without Allow")
			}
		})
	}
}

func TestErrorCodes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	man, dgst := f.image(t, "team/app", "v1", "1")
	f.image(t, "other/app", "v1", "2")
	layer := []byte("layer 1") // linked into team/app only
	ld := digest.FromBytes(layer)
	missing := digest.FromString("nowhere")

	foreign, err := f.repo(t, "other/app").Blobs().StartUpload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	foreign.Close()
	up, err := f.repo(t, "team/app").Blobs().StartUpload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	up.Close()
	session := "/v2/team/app/blobs/uploads/" + up.ID()

	var idx ocispec.Index
	idx.SchemaVersion = 2
	idx.MediaType = ocispec.MediaTypeImageIndex
	idx.Manifests = []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: missing, Size: 10}}
	badIndex, _ := json.Marshal(idx)
	missingLayer := imageManifest(
		ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromString(`{"seed":"1"}`), Size: 12},
		ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: missing, Size: 7}, nil, "")
	ociManifest := []string{"Content-Type", ocispec.MediaTypeImageManifest}

	const (
		bad    = http.StatusBadRequest
		nf     = http.StatusNotFound
		na     = http.StatusMethodNotAllowed
		ranges = http.StatusRequestedRangeNotSatisfiable
	)
	cases := []errorCase{
		// NAME_INVALID: names outside the grammar, however they are spelt.
		{"name uppercase", "GET", "/v2/Team/app/tags/list", nil, nil, bad, httpapi.CodeNameInvalid},
		{"name dotdot", "GET", "/v2/team/../app/tags/list", nil, nil, bad, httpapi.CodeNameInvalid},
		{"name dot", "GET", "/v2/team/./app/tags/list", nil, nil, bad, httpapi.CodeNameInvalid},
		{"name dotdot encoded", "GET", "/v2/team/%2E%2E/app/tags/list", nil, nil, bad, httpapi.CodeNameInvalid},
		{"name dot encoded", "GET", "/v2/%2e/tags/list", nil, nil, bad, httpapi.CodeNameInvalid},
		{"name dotdot slash encoded", "GET", "/v2/team%2F..%2Fapp/manifests/v1", nil, nil, bad, httpapi.CodeNameInvalid},
		{"name empty segment", "GET", "/v2/team//app/tags/list", nil, nil, bad, httpapi.CodeNameInvalid},
		{"name trailing slash encoded", "GET", "/v2/team%2F/tags/list", nil, nil, bad, httpapi.CodeNameInvalid},
		{"name leading dash", "GET", "/v2/-team/tags/list", nil, nil, bad, httpapi.CodeNameInvalid},
		{"name bad separator", "GET", "/v2/team__-app/tags/list", nil, nil, bad, httpapi.CodeNameInvalid},
		{"name space", "PUT", "/v2/team%20app/manifests/v1", man, ociManifest, bad, httpapi.CodeNameInvalid},
		{"name too long", "GET", "/v2/" + strings.Repeat("a", 256) + "/tags/list", nil, nil, bad, httpapi.CodeNameInvalid},
		{"name too long by segments", "POST", "/v2/" + strings.Repeat("ab/", 85) + "c/blobs/uploads/", nil, nil, bad, httpapi.CodeNameInvalid},
		{"name uppercase upload", "POST", "/v2/Team/blobs/uploads/", nil, nil, bad, httpapi.CodeNameInvalid},
		{"name invalid HEAD", "HEAD", "/v2/UP/manifests/v1", nil, nil, bad, httpapi.CodeNameInvalid},

		// NAME_UNKNOWN.
		{"tags of missing repo", "GET", "/v2/missing/app/tags/list", nil, nil, nf, httpapi.CodeNameUnknown},
		{"tags of missing repo HEAD", "HEAD", "/v2/missing/app/tags/list", nil, nil, nf, httpapi.CodeNameUnknown},

		// BLOB_UNKNOWN.
		{"blob missing", "GET", "/v2/team/app/blobs/" + missing.String(), nil, nil, nf, httpapi.CodeBlobUnknown},
		{"blob missing HEAD", "HEAD", "/v2/team/app/blobs/" + missing.String(), nil, nil, nf, httpapi.CodeBlobUnknown},
		{"blob of another repo", "GET", "/v2/other/app/blobs/" + ld.String(), nil, nil, nf, httpapi.CodeBlobUnknown},
		{"blob delete missing", "DELETE", "/v2/team/app/blobs/" + missing.String(), nil, nil, nf, httpapi.CodeBlobUnknown},

		// BLOB_UPLOAD_UNKNOWN: unknown, foreign and malformed session IDs.
		{"upload unknown GET", "GET", "/v2/team/app/blobs/uploads/nosuch", nil, nil, nf, httpapi.CodeBlobUploadUnknown},
		{"upload unknown PATCH", "PATCH", "/v2/team/app/blobs/uploads/nosuch", []byte("x"), nil, nf, httpapi.CodeBlobUploadUnknown},
		{"upload unknown PUT", "PUT", "/v2/team/app/blobs/uploads/nosuch?digest=" + missing.String(), nil, nil, nf, httpapi.CodeBlobUploadUnknown},
		{"upload unknown DELETE", "DELETE", "/v2/team/app/blobs/uploads/nosuch", nil, nil, nf, httpapi.CodeBlobUploadUnknown},
		{"upload of another repo GET", "GET", "/v2/team/app/blobs/uploads/" + foreign.ID(), nil, nil, nf, httpapi.CodeBlobUploadUnknown},
		{"upload of another repo PATCH", "PATCH", "/v2/team/app/blobs/uploads/" + foreign.ID(), []byte("x"), nil, nf, httpapi.CodeBlobUploadUnknown},
		{"upload of another repo DELETE", "DELETE", "/v2/team/app/blobs/uploads/" + foreign.ID(), nil, nil, nf, httpapi.CodeBlobUploadUnknown},
		{"upload id traversal", "PATCH", "/v2/team/app/blobs/uploads/..%2F..%2F" + up.ID(), []byte("x"), nil, nf, httpapi.CodeBlobUploadUnknown},
		{"upload id dotdot", "GET", "/v2/team/app/blobs/uploads/..", nil, nil, nf, httpapi.CodeBlobUploadUnknown},
		{"upload id long", "GET", "/v2/team/app/blobs/uploads/" + strings.Repeat("f", 300), nil, nil, nf, httpapi.CodeBlobUploadUnknown},

		// BLOB_UPLOAD_INVALID: chunks that do not continue the session.
		{"chunk out of order", "PATCH", session, []byte("def"), []string{"Content-Range", "10-12"}, ranges, httpapi.CodeBlobUploadInvalid},
		{"chunk overlapping", "PATCH", session, []byte("def"), []string{"Content-Range", "0-2"}, ranges, httpapi.CodeBlobUploadInvalid},
		{"chunk length mismatch", "PATCH", session, []byte("def"), []string{"Content-Range", "3-9"}, ranges, httpapi.CodeBlobUploadInvalid},
		{"chunk range garbage", "PATCH", session, []byte("def"), []string{"Content-Range", "bytes=three"}, ranges, httpapi.CodeBlobUploadInvalid},
		{"chunk range reversed", "PATCH", session, []byte("def"), []string{"Content-Range", "5-3"}, ranges, httpapi.CodeBlobUploadInvalid},
		{"last chunk out of order", "PUT", session + "?digest=" + digest.FromString("abcdef").String(), []byte("def"), []string{"Content-Range", "7-9"}, ranges, httpapi.CodeBlobUploadInvalid},

		// DIGEST_INVALID.
		{"blob digest malformed", "GET", "/v2/team/app/blobs/sha256:xyz", nil, nil, bad, httpapi.CodeDigestInvalid},
		{"blob digest short", "HEAD", "/v2/team/app/blobs/sha256:abcd", nil, nil, bad, httpapi.CodeDigestInvalid},
		{"blob digest not a digest", "GET", "/v2/team/app/blobs/latest", nil, nil, bad, httpapi.CodeDigestInvalid},
		{"blob digest unsupported", "GET", "/v2/team/app/blobs/md5:d41d8cd98f00b204e9800998ecf8427e", nil, nil, bad, httpapi.CodeDigestInvalid},
		{"blob delete digest malformed", "DELETE", "/v2/team/app/blobs/sha256:", nil, nil, bad, httpapi.CodeDigestInvalid},
		{"monolithic wrong digest", "POST", "/v2/team/app/blobs/uploads/?digest=" + missing.String(), []byte("hello"), nil, bad, httpapi.CodeDigestInvalid},
		{"monolithic malformed digest", "POST", "/v2/team/app/blobs/uploads/?digest=sha256:zz", []byte("hello"), nil, bad, httpapi.CodeDigestInvalid},
		{"mount malformed digest", "POST", "/v2/team/app/blobs/uploads/?mount=nope&from=other/app", nil, nil, bad, httpapi.CodeDigestInvalid},
		{"close without digest", "PUT", session, nil, nil, bad, httpapi.CodeDigestInvalid},
		{"close wrong digest", "PUT", session + "?digest=" + missing.String(), nil, nil, bad, httpapi.CodeDigestInvalid},
		{"referrers malformed digest", "GET", "/v2/team/app/referrers/sha256:1", nil, nil, bad, httpapi.CodeDigestInvalid},
		{"manifest by wrong digest", "PUT", "/v2/team/app/manifests/" + missing.String(), man, ociManifest, bad, httpapi.CodeDigestInvalid},

		// MANIFEST_INVALID.
		{"manifest malformed JSON", "PUT", "/v2/team/app/manifests/v2", []byte(`{"schemaVersion":2,`), ociManifest, bad, httpapi.CodeManifestInvalid},
		{"manifest empty", "PUT", "/v2/team/app/manifests/v2", []byte{}, ociManifest, bad, httpapi.CodeManifestInvalid},
		{"manifest not an object", "PUT", "/v2/team/app/manifests/v2", []byte(`[]`), ociManifest, bad, httpapi.CodeManifestInvalid},
		{"manifest media type mismatch", "PUT", "/v2/team/app/manifests/v2", man, []string{"Content-Type", ocispec.MediaTypeImageIndex}, bad, httpapi.CodeManifestInvalid},
		{"manifest docker type for OCI body", "PUT", "/v2/team/app/manifests/v2", man, []string{"Content-Type", "application/vnd.docker.distribution.manifest.v2+json"}, bad, httpapi.CodeManifestInvalid},
		{"manifest schema version 3", "PUT", "/v2/team/app/manifests/v2", bytes.Replace(man, []byte(`"schemaVersion":2`), []byte(`"schemaVersion":3`), 1), ociManifest, bad, httpapi.CodeManifestInvalid},
		{"manifest invalid tag", "PUT", "/v2/team/app/manifests/-v2", man, ociManifest, bad, httpapi.CodeManifestInvalid},
		{"manifest invalid ?tag=", "PUT", "/v2/team/app/manifests/" + dgst.String() + "?tag=.x", man, ociManifest, bad, httpapi.CodeManifestInvalid},

		// MANIFEST_BLOB_UNKNOWN.
		{"manifest missing layer", "PUT", "/v2/team/app/manifests/v2", missingLayer, ociManifest, bad, httpapi.CodeManifestBlobUnknown},
		{"index missing child", "PUT", "/v2/team/app/manifests/v2", badIndex, []string{"Content-Type", ocispec.MediaTypeImageIndex}, bad, httpapi.CodeManifestBlobUnknown},

		// MANIFEST_UNKNOWN.
		{"manifest unknown tag", "GET", "/v2/team/app/manifests/nope", nil, nil, nf, httpapi.CodeManifestUnknown},
		{"manifest unknown tag HEAD", "HEAD", "/v2/team/app/manifests/nope", nil, nil, nf, httpapi.CodeManifestUnknown},
		{"manifest unknown digest", "GET", "/v2/team/app/manifests/" + missing.String(), nil, nil, nf, httpapi.CodeManifestUnknown},
		{"manifest of another repo", "GET", "/v2/other/app/manifests/" + dgst.String(), nil, nil, nf, httpapi.CodeManifestUnknown},
		{"manifest delete unknown digest", "DELETE", "/v2/team/app/manifests/" + missing.String(), nil, nil, nf, httpapi.CodeManifestUnknown},
		{"manifest delete unknown tag", "DELETE", "/v2/team/app/manifests/nope", nil, nil, nf, httpapi.CodeManifestUnknown},

		// UNSUPPORTED: refused deletes, bad paging, wrong methods.
		{"delete referenced blob", "DELETE", "/v2/team/app/blobs/" + ld.String(), nil, nil, na, httpapi.CodeUnsupported},
		{"tags bad n", "GET", "/v2/team/app/tags/list?n=x", nil, nil, bad, httpapi.CodeUnsupported},
		{"tags negative n", "GET", "/v2/team/app/tags/list?n=-1", nil, nil, bad, httpapi.CodeUnsupported},
		{"catalog bad n", "GET", "/v2/_catalog?n=1e3", nil, nil, bad, httpapi.CodeUnsupported},
		{"method POST tags", "POST", "/v2/team/app/tags/list", nil, nil, na, httpapi.CodeUnsupported},
		{"method DELETE tags", "DELETE", "/v2/team/app/tags/list", nil, nil, na, httpapi.CodeUnsupported},
		{"method PUT catalog", "PUT", "/v2/_catalog", nil, nil, na, httpapi.CodeUnsupported},
		{"method PATCH manifest", "PATCH", "/v2/team/app/manifests/v1", nil, nil, na, httpapi.CodeUnsupported},
		{"method POST manifest", "POST", "/v2/team/app/manifests/v1", nil, nil, na, httpapi.CodeUnsupported},
		{"method PUT blob", "PUT", "/v2/team/app/blobs/" + ld.String(), layer, nil, na, httpapi.CodeUnsupported},
		{"method POST blob", "POST", "/v2/team/app/blobs/" + ld.String(), nil, nil, na, httpapi.CodeUnsupported},
		{"method GET upload start", "GET", "/v2/team/app/blobs/uploads/", nil, nil, na, httpapi.CodeUnsupported},
		{"method POST upload session", "POST", session, nil, nil, na, httpapi.CodeUnsupported},
		{"method DELETE referrers", "DELETE", "/v2/team/app/referrers/" + dgst.String(), nil, nil, na, httpapi.CodeUnsupported},
		{"method invalid name", "OPTIONS", "/v2/team/app/tags/list", nil, nil, na, httpapi.CodeUnsupported},
	}
	runErrorCases(t, f.h, cases)

	// None of the refused requests changed the session or the tags.
	u, err := f.repo(t, "team/app").Blobs().ResumeUpload(ctx, up.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if u.Size() != 3 {
		t.Errorf("session holds %d bytes after refused chunks, want 3", u.Size())
	}
	tags, err := f.repo(t, "team/app").Tags().List(ctx, registry.ListOptions{})
	if err != nil || len(tags) != 1 {
		t.Errorf("tags = %v, %v; want [v1]", tags, err)
	}
}

// TestOutOfOrderChunkHeaders checks the 416 reply tells the client where the
// session stands: Range and Location, as after an accepted chunk.
func TestOutOfOrderChunkHeaders(t *testing.T) {
	f := newFixture(t)
	w := call(t, f.h, "POST", "/v2/team/app/blobs/uploads/", []byte("abc"), "Content-Type", "application/octet-stream")
	if w.Code != http.StatusAccepted {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	loc := w.Header().Get("Location")
	for _, method := range []string{"PATCH", "PUT"} {
		t.Run(method, func(t *testing.T) {
			target := loc
			if method == "PUT" {
				target += "?digest=" + digest.FromString("abcdef").String()
			}
			w := call(t, f.h, method, target, []byte("def"), "Content-Range", "4-6")
			checkError(t, method, w.Code, w.Header(), w.Body.Bytes(), http.StatusRequestedRangeNotSatisfiable, httpapi.CodeBlobUploadInvalid)
			if got := w.Header().Get("Range"); got != "0-2" {
				t.Errorf("Range = %q, want 0-2", got)
			}
			if got := w.Header().Get("Location"); got != loc {
				t.Errorf("Location = %q, want %q", got, loc)
			}
		})
	}
}

func TestManifestTooLarge(t *testing.T) {
	f := newFixture(t, httpapi.WithMaxManifestSize(500))
	man, _ := f.image(t, "team/app", "", "1")
	if len(man) > 500 {
		t.Fatalf("fixture manifest of %d bytes is over the test limit", len(man))
	}
	big := bytes.Replace(man, []byte(`{"schemaVersion":2,`),
		[]byte(`{"schemaVersion":2,"annotations":{"pad":"`+strings.Repeat("x", 500)+`"},`), 1)
	for _, known := range []bool{true, false} {
		req := httptest.NewRequest("PUT", "/v2/team/app/manifests/big", bytes.NewReader(big))
		req.Header.Set("Content-Type", ocispec.MediaTypeImageManifest)
		if !known {
			req.ContentLength = -1 // chunked: the limit applies while reading
		}
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, req)
		checkError(t, "PUT", w.Code, w.Header(), w.Body.Bytes(), http.StatusRequestEntityTooLarge, httpapi.CodeManifestInvalid)
	}
	// At the limit it is accepted.
	w := call(t, f.h, "PUT", "/v2/team/app/manifests/small", man, "Content-Type", ocispec.MediaTypeImageManifest)
	if w.Code != http.StatusCreated {
		t.Errorf("PUT of %d bytes = %d %s", len(man), w.Code, w.Body)
	}
}

// TestLocks sets ACR's changeable attributes through the Registry API and
// checks how the /v2/ API refuses what they forbid.
func TestLocks(t *testing.T) {
	ctx := context.Background()
	no := false
	f := newFixture(t)
	_, d1 := f.image(t, "team/app", "v1", "1")
	man2, _ := f.image(t, "team/app", "v2", "2")
	repo := f.repo(t, "team/app")
	if _, err := repo.Tags().SetAttributes(ctx, "v1", tag.Patch{WriteEnabled: &no}); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Tags().SetAttributes(ctx, "v2", tag.Patch{ReadEnabled: &no}); err != nil {
		t.Fatal(err)
	}
	om := []string{"Content-Type", ocispec.MediaTypeImageManifest}
	runErrorCases(t, f.h, []errorCase{
		{"overwrite locked tag", "PUT", "/v2/team/app/manifests/v1", man2, om, http.StatusMethodNotAllowed, httpapi.CodeUnsupported},
		{"untag locked tag", "DELETE", "/v2/team/app/manifests/v1", nil, nil, http.StatusMethodNotAllowed, httpapi.CodeUnsupported},
		{"read unreadable tag", "GET", "/v2/team/app/manifests/v2", nil, nil, http.StatusForbidden, httpapi.CodeDenied},
		{"head unreadable tag", "HEAD", "/v2/team/app/manifests/v2", nil, nil, http.StatusForbidden, httpapi.CodeDenied},
	})
	// The manifest's own attributes are untouched: by digest it reads.
	if w := call(t, f.h, "GET", "/v2/team/app/manifests/"+digest.FromBytes(man2).String(), nil); w.Code != http.StatusOK {
		t.Errorf("GET by digest = %d %s", w.Code, w.Body)
	}
	if w := call(t, f.h, "GET", "/v2/team/app/manifests/v1", nil); w.Code != http.StatusOK {
		t.Errorf("GET of a write-locked tag = %d", w.Code)
	}

	// A locked manifest cannot be deleted; a locked repository takes no push
	// and an unreadable one serves no blob.
	if _, err := repo.Manifests().SetAttributes(ctx, d1, tag.Patch{DeleteEnabled: &no}); err != nil {
		t.Fatal(err)
	}
	runErrorCases(t, f.h, []errorCase{
		{"delete locked manifest", "DELETE", "/v2/team/app/manifests/" + d1.String(), nil, nil, http.StatusMethodNotAllowed, httpapi.CodeUnsupported},
	})
	if _, err := repo.SetAttributes(ctx, tag.Patch{WriteEnabled: &no, ReadEnabled: &no}); err != nil {
		t.Fatal(err)
	}
	layer := digest.FromString("layer 1")
	runErrorCases(t, f.h, []errorCase{
		{"upload to locked repo", "POST", "/v2/team/app/blobs/uploads/", nil, nil, http.StatusMethodNotAllowed, httpapi.CodeUnsupported},
		{"monolithic to locked repo", "POST", "/v2/team/app/blobs/uploads/?digest=" + digest.FromString("x").String(), []byte("x"), nil, http.StatusMethodNotAllowed, httpapi.CodeUnsupported},
		{"blob of unreadable repo", "GET", "/v2/team/app/blobs/" + layer.String(), nil, nil, http.StatusForbidden, httpapi.CodeDenied},
		{"blob HEAD of unreadable repo", "HEAD", "/v2/team/app/blobs/" + layer.String(), nil, nil, http.StatusForbidden, httpapi.CodeDenied},
		{"manifest of unreadable repo", "GET", "/v2/team/app/manifests/" + d1.String(), nil, nil, http.StatusForbidden, httpapi.CodeDenied},
	})
	// Mounting from an unreadable repository falls back to a session.
	w := call(t, f.h, "POST", "/v2/else/app/blobs/uploads/?mount="+layer.String()+"&from=team/app", nil)
	if w.Code != http.StatusAccepted {
		t.Errorf("mount from an unreadable repository = %d %s, want 202", w.Code, w.Body)
	}
}

// TestOutOfOrderChunkOverNetwork sends the refused chunk through a real
// connection, where a Content-Length header set before the error would cut
// the JSON body off.
func TestOutOfOrderChunkOverNetwork(t *testing.T) {
	srv := registrytest.New(t)
	resp, err := http.Post(srv.URL+"/v2/team/app/blobs/uploads/", "application/octet-stream", strings.NewReader("abc"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := srv.URL + resp.Header.Get("Location")
	for _, method := range []string{"PATCH", "PUT"} {
		target := loc
		if method == "PUT" {
			target += "?digest=" + digest.FromString("abcdef").String()
		}
		req, _ := http.NewRequest(method, target, strings.NewReader("def"))
		req.Header.Set("Content-Range", "4-6")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		checkError(t, method, resp.StatusCode, resp.Header, body, http.StatusRequestedRangeNotSatisfiable, httpapi.CodeBlobUploadInvalid)
		if got := resp.Header.Get("Range"); got != "0-2" {
			t.Errorf("%s: Range = %q, want 0-2", method, got)
		}
	}
}

// TestEmptyReference: a manifest PUT to ".../manifests/" names no tag or
// digest and must be refused like the GET.
func TestEmptyReference(t *testing.T) {
	f := newFixture(t)
	man, _ := f.image(t, "team/app", "v1", "1")
	for _, method := range []string{"GET", "PUT", "DELETE"} {
		w := call(t, f.h, method, "/v2/team/app/manifests/", man, "Content-Type", ocispec.MediaTypeImageManifest)
		checkError(t, method, w.Code, w.Header(), w.Body.Bytes(), http.StatusBadRequest, httpapi.CodeManifestInvalid)
	}
}

// TestAllowHeader: a 405 lists the methods the endpoint does support
// (RFC 9110, section 15.5.6).
func TestAllowHeader(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ method, target, allow string }{
		{"POST", "/v2/_catalog", "GET, HEAD"},
		{"PUT", "/v2/a/tags/list", "GET, HEAD"},
		{"PUT", "/v2/a/referrers/" + digest.FromString("x").String(), "GET, HEAD"},
		{"PATCH", "/v2/a/manifests/v1", "GET, HEAD, PUT, DELETE"},
		{"PUT", "/v2/a/blobs/" + digest.FromString("x").String(), "GET, HEAD, DELETE"},
		{"GET", "/v2/a/blobs/uploads/", "POST"},
		{"POST", "/v2/a/blobs/uploads/id", "GET, PATCH, PUT, DELETE"},
	} {
		w := call(t, f.h, c.method, c.target, nil)
		checkError(t, c.method, w.Code, w.Header(), w.Body.Bytes(), http.StatusMethodNotAllowed, httpapi.CodeUnsupported)
		if got := w.Header().Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow = %q, want %q", c.method, c.target, got, c.allow)
		}
	}
}

// TestSizeAndRateErrors: a body shorter than its declared length is
// SIZE_INVALID; an upload over the registry's session cap is 429.
func TestSizeAndRateErrors(t *testing.T) {
	f := newFixture(t)
	body := []byte("hello")
	req := httptest.NewRequest("POST", "/v2/team/app/blobs/uploads/?digest="+digest.FromBytes(body).String(), bytes.NewReader(body))
	req.ContentLength = 7
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	checkError(t, "POST", w.Code, w.Header(), w.Body.Bytes(), http.StatusBadRequest, httpapi.CodeSizeInvalid)

	reg, err := registry.NewMemory(registry.WithMaxUploads(2))
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	h := httpapi.New(reg)
	for i := range 3 {
		w := call(t, h, "POST", "/v2/team/app/blobs/uploads/", nil)
		if i < 2 {
			if w.Code != http.StatusAccepted {
				t.Fatalf("upload %d = %d %s", i, w.Code, w.Body)
			}
			continue
		}
		checkError(t, "POST", w.Code, w.Header(), w.Body.Bytes(), http.StatusTooManyRequests, httpapi.CodeTooManyRequests)
	}
	// A monolithic upload opens no session and still goes through.
	if w := call(t, h, "POST", "/v2/team/app/blobs/uploads/?digest="+digest.FromBytes(body).String(), body); w.Code != http.StatusCreated {
		t.Errorf("monolithic upload at the session cap = %d %s", w.Code, w.Body)
	}
}
