package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/registrytest"
)

// TestCacheRulesFromDataFolder: a cache rule stored in the data folder (as
// regadm cache-rule create stores it) is in force when the server opens the
// folder, through the default upstream client.
func TestCacheRulesFromDataFolder(t *testing.T) {
	ctx := context.Background()
	up := registrytest.New(t)
	desc := seedUpstream(t, up)

	dir := t.TempDir()
	reg, err := registry.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.SetCacheRule(ctx, registry.CacheRule{Name: "hello", TargetRepository: "hello",
		SourceRepository: up.Host + "/library/hello", PlainHTTP: true}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}

	reg, err = registry.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	h := routes(reg, httpapi.New(reg))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v2/hello/manifests/v1", nil))
	if w.Code != http.StatusOK || w.Header().Get("Docker-Content-Digest") != desc.Digest.String() {
		t.Fatalf("pull through the stored rule: %d %s", w.Code, w.Body)
	}
}

// seedUpstream pushes library/hello:v1 (an empty image) to up and returns
// the manifest's descriptor.
func seedUpstream(t *testing.T, up *registrytest.Server) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	repo, err := up.Registry.Repository(ctx, "library/hello")
	if err != nil {
		t.Fatal(err)
	}
	cfg := []byte(`{"os":"linux","architecture":"amd64"}`)
	if _, err := repo.Blobs().Put(ctx, digest.FromBytes(cfg), int64(len(cfg)), bytes.NewReader(cfg)); err != nil {
		t.Fatal(err)
	}
	m := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` +
		digest.FromBytes(cfg).String() + `","size":` + strconv.Itoa(len(cfg)) + `},"layers":[]}`)
	desc, err := repo.Manifests().Put(ctx, m, registry.PutOptions{Tag: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	return desc
}
