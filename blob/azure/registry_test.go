package azure_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/blob/azure"
	metamemory "github.com/regkit/regkit/registry/meta/memory"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
)

// TestRegistryPushPull pushes an image through the distribution API of a
// registry whose blobs live in Azure (a chunked layer upload whose chunks
// go to two frontends, each with its own Store on the container, and a
// monolithic config upload), pulls it back (blob GETs answer with a
// redirect to a SAS URL, which the client follows to the Blob service),
// and checks that a third Store on the container sees the blobs.
func TestRegistryPushPull(t *testing.T) {
	c := newContainer(t)
	name := containerName(c.URL())
	meta := metamemory.New()
	frontend := func() *httptest.Server {
		s := open(t, containerClient(t, name), azure.WithPrefix("r1"), azure.WithBlockSize(64<<10))
		reg, err := registry.New(s, meta, registry.WithManifestCache(0))
		if err != nil {
			t.Fatalf("registry.New: %v", err)
		}
		hs := httptest.NewServer(httpapi.New(reg))
		t.Cleanup(func() { hs.Close(); reg.Close() })
		return hs
	}
	a, b := frontend(), frontend()

	layer := bytes.Repeat([]byte("layer bytes "), 40_000) // 480 KB: several blocks
	config := []byte(`{"architecture":"amd64","os":"linux"}`)
	ld, cd := digest.FromBytes(layer), digest.FromBytes(config)

	// Chunked upload: POST and the first PATCH on a, the second PATCH and
	// the PUT on b, which resumes the upload a's Writer saved.
	resp := do(t, http.MethodPost, a.URL+"/v2/team/app/blobs/uploads/", nil, http.StatusAccepted)
	loc := resp.Header.Get("Location")
	half := len(layer) / 2
	resp = do(t, http.MethodPatch, a.URL+loc, layer[:half], http.StatusAccepted, "Content-Range", fmt.Sprintf("0-%d", half-1))
	loc = resp.Header.Get("Location")
	resp = do(t, http.MethodPatch, b.URL+loc, layer[half:], http.StatusAccepted, "Content-Range", fmt.Sprintf("%d-%d", half, len(layer)-1))
	loc = resp.Header.Get("Location")
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	do(t, http.MethodPut, b.URL+loc+sep+"digest="+ld.String(), nil, http.StatusCreated)
	// Monolithic upload of the config on a.
	do(t, http.MethodPost, a.URL+"/v2/team/app/blobs/uploads/?digest="+cd.String(), config, http.StatusCreated)

	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cd, Size: int64(len(config))},
		Layers:    []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: ld, Size: int64(len(layer))}},
	})
	if err != nil {
		t.Fatal(err)
	}
	do(t, http.MethodPut, b.URL+"/v2/team/app/manifests/v1", manifest, http.StatusCreated, "Content-Type", ocispec.MediaTypeImageManifest)

	// Pull from either frontend.
	for _, hs := range []*httptest.Server{a, b} {
		got := do(t, http.MethodGet, hs.URL+"/v2/team/app/manifests/v1", nil, http.StatusOK, "Accept", ocispec.MediaTypeImageManifest)
		if body := readAll(t, got); !bytes.Equal(body, manifest) {
			t.Fatalf("manifest differs")
		}
		for d, want := range map[digest.Digest][]byte{ld: layer, cd: config} {
			redirected := false
			client := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
				redirected = !strings.HasPrefix(req.URL.String(), hs.URL)
				return nil
			}}
			resp, err := client.Get(hs.URL + "/v2/team/app/blobs/" + d.String())
			if err != nil {
				t.Fatal(err)
			}
			if body := readAll(t, resp); resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
				t.Fatalf("GET blob %s: status %d, %d bytes", d, resp.StatusCode, len(body))
			}
			if !redirected {
				t.Errorf("GET blob %s was not redirected to the Blob service", d)
			}
		}
	}

	// A third Store on the container sees both blobs.
	s := open(t, containerClient(t, name), azure.WithPrefix("r1"))
	for d, want := range map[digest.Digest][]byte{ld: layer, cd: config} {
		info, err := s.Stat(t.Context(), d)
		if err != nil || info.Size != int64(len(want)) {
			t.Fatalf("third Store: Stat(%s) = %+v, %v", d, info, err)
		}
	}
}

// do sends one request and checks its status.
func do(t *testing.T, method, url string, body []byte, status int, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, resp.StatusCode, status, b)
	}
	return resp
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
