package azure_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/containers/azcontainerregistry"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
)

// tokenStub is a token service for anonymous clients: /oauth2/token grants
// "anon:<scope>" for any scope, and the authorizer accepts a token only for
// the scope it was granted for, as ACR's tokens are scoped: a client must
// ask again whenever the scope changes.
type tokenStub struct {
	mu     sync.Mutex
	grants []string // grant_type and scope of each token request
}

func (s *tokenStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/oauth2/token" || r.Method != http.MethodPost || r.ParseForm() != nil {
		http.Error(w, "unsupported", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.grants = append(s.grants, r.PostForm.Get("grant_type")+" "+r.PostForm.Get("scope"))
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(map[string]string{"access_token": "anon:" + r.PostForm.Get("scope")})
	_, _ = w.Write(b)
}

// start serves reg over plain HTTP. With challenge set, requests without the
// stub's token get a Bearer challenge naming the route's scope.
func start(t *testing.T, reg *registry.Registry, challenge bool) (string, *tokenStub) {
	t.Helper()
	stub := &tokenStub{}
	var opts []httpapi.Option
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	if challenge {
		verify := func(_ context.Context, token string, a httpapi.Access) error {
			if token != "anon:"+a.Scope() {
				// Another scope's token: challenge again, as ACR does.
				return &httpapi.Challenge{Scheme: "Bearer", Realm: srv.URL + "/oauth2/token", Service: strings.TrimPrefix(srv.URL, "http://"), Scope: a.Scope()}
			}
			return nil
		}
		opts = append(opts,
			httpapi.WithTokenHandler(stub),
			httpapi.WithAuthorizer(httpapi.BearerChallenge(srv.URL+"/oauth2/token", strings.TrimPrefix(srv.URL, "http://"), verify)))
	}
	srv.Config.Handler = httpapi.New(reg, opts...)
	return srv.URL, stub
}

func newClient(t *testing.T, endpoint string) *azcontainerregistry.Client {
	t.Helper()
	c, err := azcontainerregistry.NewClient(endpoint, nil, &azcontainerregistry.ClientOptions{
		ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pushImage stores a linux/amd64 image in repository name under tag.
func pushImage(t *testing.T, reg *registry.Registry, name, tag, seed string) digest.Digest {
	t.Helper()
	ctx := context.Background()
	repo, err := reg.Repository(ctx, name)
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
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    put(ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux","seed":"`+seed+`"}`)),
		Layers:    []ocispec.Descriptor{put(ocispec.MediaTypeImageLayer, []byte("layer "+seed))},
	}
	b, _ := json.Marshal(m)
	if _, err := repo.Manifests().Put(ctx, b, registry.PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: tag}); err != nil {
		t.Fatal(err)
	}
	return digest.FromBytes(b)
}

func newRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	reg, err := registry.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	return reg
}

// TestSDKClient drives the SDK's Client against a handler that challenges
// like ACR: the SDK sends each first request without its body, takes the
// scope from the challenge, gets an anonymous token from /oauth2/token and
// retries.
func TestSDKClient(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t)
	for _, n := range []string{"a", "b/c", "d", "team/app"} {
		pushImage(t, reg, n, "v0", n)
	}
	d1 := pushImage(t, reg, "team/app", "v1", "1")
	endpoint, stub := start(t, reg, true)
	c := newClient(t, endpoint)

	// The catalog, two names a page, through the relative Link.
	var names []string
	pages := 0
	pager := c.NewListRepositoriesPager(&azcontainerregistry.ClientListRepositoriesOptions{MaxNum: to.Ptr[int32](2)})
	for pager.More() {
		pg, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, n := range pg.Names {
			names = append(names, *n)
		}
	}
	if !slices.Equal(names, []string{"a", "b/c", "d", "team/app"}) || pages != 2 {
		t.Errorf("repositories = %v in %d pages", names, pages)
	}

	rp, err := c.GetRepositoryProperties(ctx, "team/app", nil)
	if err != nil {
		t.Fatal(err)
	}
	if *rp.Name != "team/app" || *rp.ManifestCount != 2 || *rp.TagCount != 2 || rp.CreatedOn == nil || rp.LastUpdatedOn == nil ||
		!*rp.ChangeableAttributes.CanDelete || rp.RegistryLoginServer == nil {
		t.Errorf("repository properties = %+v", rp.ContainerRepositoryProperties)
	}

	// Tags, newest first, one a page.
	var tags []string
	tp := c.NewListTagsPager("team/app", &azcontainerregistry.ClientListTagsOptions{
		MaxNum: to.Ptr[int32](1), OrderBy: to.Ptr(azcontainerregistry.ArtifactTagOrderByLastUpdatedOnDescending)})
	for tp.More() {
		pg, err := tp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range pg.Tags {
			tags = append(tags, *a.Name)
		}
	}
	if !slices.Equal(tags, []string{"v1", "v0"}) {
		t.Errorf("tags by time = %v", tags)
	}

	var digests []string
	mp := c.NewListManifestsPager("team/app", &azcontainerregistry.ClientListManifestsOptions{MaxNum: to.Ptr[int32](1)})
	for mp.More() {
		pg, err := mp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pg.Attributes {
			if *m.Architecture != azcontainerregistry.ArtifactArchitectureAmd64 || *m.OperatingSystem != azcontainerregistry.ArtifactOperatingSystemLinux {
				t.Errorf("manifest platform = %v/%v", *m.OperatingSystem, *m.Architecture)
			}
			digests = append(digests, *m.Digest)
		}
	}
	if len(digests) != 2 || !sort.StringsAreSorted(digests) || !slices.Contains(digests, d1.String()) {
		t.Errorf("manifests = %v", digests)
	}

	mprops, err := c.GetManifestProperties(ctx, "team/app", d1.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := mprops.Manifest; *m.Digest != d1.String() || len(m.Tags) != 1 || *m.Tags[0] != "v1" || *m.Size <= 0 {
		t.Errorf("manifest properties = %+v", m)
	}
	up, err := c.UpdateManifestProperties(ctx, "team/app", d1.String(), &azcontainerregistry.ClientUpdateManifestPropertiesOptions{
		Value: &azcontainerregistry.ManifestWriteableProperties{CanList: to.Ptr(false)}})
	if err != nil {
		t.Fatal(err)
	}
	if a := up.Manifest.ChangeableAttributes; *a.CanList || !*a.CanWrite {
		t.Errorf("after update: %+v", a)
	}

	// Lock a tag: untag and repository delete are refused with 405.
	tu, err := c.UpdateTagProperties(ctx, "team/app", "v1", &azcontainerregistry.ClientUpdateTagPropertiesOptions{
		Value: &azcontainerregistry.TagWriteableProperties{CanWrite: to.Ptr(false), CanDelete: to.Ptr(false)}})
	if err != nil {
		t.Fatal(err)
	}
	if a := tu.Tag.ChangeableAttributes; *a.CanWrite || *a.CanDelete || !*a.CanRead {
		t.Errorf("tag after lock: %+v", a)
	}
	tg, err := c.GetTagProperties(ctx, "team/app", "v1", nil)
	if err != nil || *tg.Tag.ChangeableAttributes.CanWrite || *tg.Tag.Digest != d1.String() {
		t.Errorf("tag properties = %+v, %v", tg, err)
	}
	for name, call := range map[string]func() error{
		"DeleteTag":        func() error { _, err := c.DeleteTag(ctx, "team/app", "v1", nil); return err },
		"DeleteRepository": func() error { _, err := c.DeleteRepository(ctx, "team/app", nil); return err },
		"DeleteManifest":   func() error { _, err := c.DeleteManifest(ctx, "team/app", d1.String(), nil); return err },
	} {
		var re *azcore.ResponseError
		if err := call(); !errors.As(err, &re) || re.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s on a locked tag: %v, want 405", name, err)
		}
	}

	// Unlock and delete: the tag, then the repository.
	if _, err := c.UpdateTagProperties(ctx, "team/app", "v1", &azcontainerregistry.ClientUpdateTagPropertiesOptions{
		Value: &azcontainerregistry.TagWriteableProperties{CanWrite: to.Ptr(true), CanDelete: to.Ptr(true)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteTag(ctx, "team/app", "v0", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteRepository(ctx, "team/app", nil); err != nil {
		t.Fatal(err)
	}
	var re *azcore.ResponseError
	if _, err := c.GetRepositoryProperties(ctx, "team/app", nil); !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		t.Errorf("after delete: %v", err)
	}

	// The tokens were asked for anonymously with ACR's scope names.
	stub.mu.Lock()
	defer stub.mu.Unlock()
	for _, want := range []string{"password registry:catalog:*", "password repository:team/app:metadata_read",
		"password repository:team/app:metadata_write", "password repository:team/app:delete"} {
		if !slices.Contains(stub.grants, want) {
			t.Errorf("token requests %v lack %q", stub.grants, want)
		}
	}
}

// TestSDKOpenHandler: on a handler that never challenges, the SDK's
// requests all go out without their bodies (it strips the body until a
// challenge gives it a token). Reads work; a PATCH arrives empty and is
// refused with 400 rather than reported as done.
func TestSDKOpenHandler(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t)
	pushImage(t, reg, "team/app", "v1", "1")
	endpoint, _ := start(t, reg, false)
	c := newClient(t, endpoint)
	if tg, err := c.GetTagProperties(ctx, "team/app", "v1", nil); err != nil || *tg.Tag.Name != "v1" {
		t.Fatalf("GetTagProperties = %+v, %v", tg, err)
	}
	_, err := c.UpdateTagProperties(ctx, "team/app", "v1", &azcontainerregistry.ClientUpdateTagPropertiesOptions{
		Value: &azcontainerregistry.TagWriteableProperties{CanWrite: to.Ptr(false)}})
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest {
		t.Errorf("PATCH through an open handler: %v, want 400", err)
	}
	repo, _ := reg.Repository(ctx, "team/app")
	if p, err := repo.Tags().Properties(ctx, "v1"); err != nil || !p.Attributes.WriteEnabled {
		t.Errorf("tag changed by a body-less PATCH: %+v, %v", p, err)
	}
}

// TestSDKBlobUpload pushes a blob in two ranged chunks with the SDK's
// BlobClient against a challenging handler: the first PATCH goes out
// without its body, is challenged, and is sent again whole.
func TestSDKBlobUpload(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t)
	endpoint, _ := start(t, reg, true)
	bc, err := azcontainerregistry.NewBlobClient(endpoint, nil, &azcontainerregistry.BlobClientOptions{
		ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789"), 100)
	calc := azcontainerregistry.NewBlobDigestCalculator()
	st, err := bc.StartUpload(ctx, "team/app", nil)
	if err != nil {
		t.Fatal(err)
	}
	loc := *st.Location
	for _, r := range [][2]int32{{0, 599}, {600, 999}} {
		up, err := bc.UploadChunk(ctx, loc, bytes.NewReader(data[r[0]:r[1]+1]), calc,
			&azcontainerregistry.BlobClientUploadChunkOptions{RangeStart: to.Ptr(r[0]), RangeEnd: to.Ptr(r[1])})
		if err != nil {
			t.Fatalf("chunk %v: %v", r, err)
		}
		loc = *up.Location
	}
	done, err := bc.CompleteUpload(ctx, loc, calc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := digest.FromBytes(data).String(); *done.DockerContentDigest != want {
		t.Errorf("digest = %s, want %s", *done.DockerContentDigest, want)
	}
	repo, _ := reg.Repository(ctx, "team/app")
	if info, err := repo.Blobs().Stat(ctx, digest.FromBytes(data)); err != nil || info.Size != int64(len(data)) {
		t.Errorf("stored blob = %+v, %v", info, err)
	}
}
