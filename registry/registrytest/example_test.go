package registrytest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/regkit/regkit/registry/registrytest"
)

// ExampleNew is the body of a test that pushes an image with plain
// net/http: two monolithic blob uploads and a manifest PUT. In a real test,
// t is the test's *testing.T.
func ExampleNew() {
	t := &exampleT{}
	defer t.cleanup()

	srv := registrytest.New(t)

	// POST .../blobs/uploads/?digest= stores a blob in one request.
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := []byte("not really a tar.gz")
	for _, b := range [][]byte{config, layer} {
		resp := send(t, "POST", srv.URL+"/v2/team/app/blobs/uploads/?digest="+sha(b), "application/octet-stream", b)
		fmt.Println("blob:", resp.StatusCode, resp.Header.Get("Location"))
	}

	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%d}]}`,
		sha(config), len(config), sha(layer), len(layer))
	resp := send(t, "PUT", srv.URL+"/v2/team/app/manifests/v1", "application/vnd.oci.image.manifest.v1+json", []byte(manifest))
	fmt.Println("manifest:", resp.StatusCode, resp.Header.Get("Docker-Content-Digest") == sha([]byte(manifest)))

	// Pull it back over HTTP, or look inside through srv.Registry.
	resp = send(t, "GET", srv.URL+"/v2/team/app/tags/list", "", nil)
	body, _ := io.ReadAll(resp.Body)
	fmt.Println("tags:", string(body))

	repo, _ := srv.Registry.Repository(context.Background(), "team/app")
	desc, err := repo.Tags().Resolve(context.Background(), "v1")
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	fmt.Println("resolved:", desc.MediaType, desc.Size == int64(len(manifest)))
	names, _ := srv.Registry.Repositories(context.Background(), "", 0)
	fmt.Println("repositories:", names)

	// Output:
	// blob: 201 /v2/team/app/blobs/sha256:c5b1d63604f273462ef36fadac3182d43ae6a6138731cf594b314835cf1c034f
	// blob: 201 /v2/team/app/blobs/sha256:6588ac672af7bb8d911027ba07ecde8012259dec03b01d0b9af066dcf2ea0a9d
	// manifest: 201 true
	// tags: {"name":"team/app","tags":["v1"]}
	// resolved: application/vnd.oci.image.manifest.v1+json true
	// repositories: [team/app]
}

// sha returns the OCI digest of b.
func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// send makes one request and fails the test on a transport error.
func send(t testing.TB, method, url, contentType string, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// exampleT stands in for the *testing.T an example does not have: it runs
// cleanups when the example ends and panics on Fatalf.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (t *exampleT) Helper()                           {}
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (t *exampleT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
