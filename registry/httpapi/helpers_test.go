package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/registrytest"
)

// server is a running registry under test, whichever storage backs it.
type server struct {
	Host string // host:port
	URL  string // http://host:port
	Reg  *registry.Registry
}

// backend starts a registry server for a test.
type backend struct {
	name  string
	start func(t *testing.T, opts ...registry.Option) *server
}

// backends are the storages every interop test runs against: the one-line
// in-memory test server and a handler over the embedded on-disk default.
var backends = []backend{
	{"memory", func(t *testing.T, opts ...registry.Option) *server {
		srv := registrytest.NewWith(t, registrytest.Options{Registry: opts})
		return &server{Host: srv.Host, URL: srv.URL, Reg: srv.Registry}
	}},
	{"disk", func(t *testing.T, opts ...registry.Option) *server {
		srv := registrytest.NewWith(t, registrytest.Options{Registry: opts, Dir: t.TempDir()})
		return &server{Host: srv.Host, URL: srv.URL, Reg: srv.Registry}
	}},
}

// eachBackend runs fn as a subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

// recorder logs what a client sends (registrytest.Recorder).
type recorder = registrytest.Recorder

// errorBody is the spec's error response body.
type errorBody struct {
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Detail  any    `json:"detail,omitempty"`
	} `json:"errors"`
}

// checkError asserts an error response: the status, a JSON content type and
// (except for HEAD) a body {"errors":[{"code":code,"message":...}]}.
func checkError(t testing.TB, method string, status int, hdr http.Header, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status = %d, want %d; body %s", status, wantStatus, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if method == http.MethodHead {
		if len(body) != 0 {
			t.Errorf("HEAD answered with a body: %q", body)
		}
		return
	}
	if err := validErrorBody(body, wantCode); err != "" {
		t.Error(err)
	}
}

// validErrorBody returns "" when body is a well-formed error body whose
// first code is want (any code when want is "").
func validErrorBody(body []byte, want string) string {
	var eb errorBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil {
		return "error body is not the spec's JSON: " + err.Error() + ": " + string(body)
	}
	if len(eb.Errors) == 0 {
		return "error body has no errors: " + string(body)
	}
	for _, e := range eb.Errors {
		if e.Code == "" || e.Message == "" {
			return "error without code or message: " + string(body)
		}
	}
	if want != "" && eb.Errors[0].Code != want {
		return "error code = " + eb.Errors[0].Code + ", want " + want + ": " + string(body)
	}
	return ""
}

// call sends one request to h in process and returns the response.
func call(t testing.TB, h http.Handler, method, target string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// fixture is a handler over an in-memory registry, for in-process tests.
type fixture struct {
	reg *registry.Registry
	h   http.Handler
}

func newFixture(t testing.TB, opts ...httpapi.Option) *fixture {
	t.Helper()
	reg, err := registry.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	return &fixture{reg: reg, h: httpapi.New(reg, opts...)}
}

func (f *fixture) repo(t testing.TB, name string) *registry.Repository {
	t.Helper()
	r, err := f.reg.Repository(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// blob links data into repository name and returns its descriptor.
func (f *fixture) blob(t testing.TB, name, mediaType string, data []byte) ocispec.Descriptor {
	t.Helper()
	d := digest.FromBytes(data)
	if _, err := f.repo(t, name).Blobs().Put(context.Background(), d, int64(len(data)), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
}

// image stores a one-layer image in repository name, tagged tag when set,
// with seed making it unique, and returns the manifest's bytes and digest.
func (f *fixture) image(t testing.TB, name, tag, seed string) ([]byte, digest.Digest) {
	t.Helper()
	b := imageManifest(f.blob(t, name, ocispec.MediaTypeImageConfig, []byte(`{"seed":"`+seed+`"}`)),
		f.blob(t, name, ocispec.MediaTypeImageLayer, []byte("layer "+seed)), nil, "")
	f.manifest(t, name, tag, b)
	return b, digest.FromBytes(b)
}

// manifest stores an image manifest in repository name.
func (f *fixture) manifest(t testing.TB, name, tag string, b []byte) {
	t.Helper()
	if _, err := f.repo(t, name).Manifests().Put(context.Background(), b, registry.PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: tag}); err != nil {
		t.Fatal(err)
	}
}

// imageManifest renders an OCI image manifest.
func imageManifest(config, layer ocispec.Descriptor, subject *ocispec.Descriptor, artifactType string) []byte {
	m := ocispec.Manifest{
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       config,
		Layers:       []ocispec.Descriptor{layer},
		Subject:      subject,
	}
	m.SchemaVersion = 2
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}
