package azure_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/containers/azcontainerregistry"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/access"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/token"
)

// The SDK against regkit's real token service and access model: no stubs.

// entraCredential stands in for the host's identity provider: it hands the
// SDK a fixed identity token, which the registry's IdentityVerifier maps to
// a regkit subject through POST /oauth2/exchange.
type entraCredential string

func (c entraCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(c), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// basicPolicy sends Basic credentials on every request (ACR accepts them),
// so the SDK's challenge flow never starts.
type basicPolicy struct{ user, pass string }

func (p basicPolicy) Do(req *policy.Request) (*http.Response, error) {
	req.Raw().SetBasicAuth(p.user, p.pass)
	return req.Next()
}

func sdkOptions(extra ...policy.Policy) azcore.ClientOptions {
	return azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}, PerCallPolicies: extra}
}

// sdkClients are the SDK's two clients on one endpoint and credential.
type sdkClients struct {
	c  *azcontainerregistry.Client
	bc *azcontainerregistry.BlobClient
}

func newSDK(t *testing.T, endpoint string, cred azcore.TokenCredential, extra ...policy.Policy) sdkClients {
	t.Helper()
	c, err := azcontainerregistry.NewClient(endpoint, cred, &azcontainerregistry.ClientOptions{ClientOptions: sdkOptions(extra...)})
	if err != nil {
		t.Fatal(err)
	}
	bc, err := azcontainerregistry.NewBlobClient(endpoint, cred, &azcontainerregistry.BlobClientOptions{ClientOptions: sdkOptions(extra...)})
	if err != nil {
		t.Fatal(err)
	}
	return sdkClients{c: c, bc: bc}
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// upload pushes data in chunks of chunk bytes through the BlobClient.
func (s sdkClients) upload(ctx context.Context, name string, data []byte, chunk int) (digest.Digest, error) {
	calc := azcontainerregistry.NewBlobDigestCalculator()
	st, err := s.bc.StartUpload(ctx, name, nil)
	if err != nil {
		return "", err
	}
	loc := *st.Location
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		up, err := s.bc.UploadChunk(ctx, loc, bytes.NewReader(data[off:end]), calc,
			&azcontainerregistry.BlobClientUploadChunkOptions{RangeStart: to.Ptr(int32(off)), RangeEnd: to.Ptr(int32(end - 1))})
		if err != nil {
			return "", err
		}
		loc = *up.Location
	}
	done, err := s.bc.CompleteUpload(ctx, loc, calc, nil)
	if err != nil {
		return "", err
	}
	return digest.Digest(*done.DockerContentDigest), nil
}

// pushImageSDK uploads a config and a layer in chunks and a manifest under
// tag, all through the SDK, and returns the manifest's bytes and digest.
func (s sdkClients) pushImage(ctx context.Context, t *testing.T, name, tag string, layer []byte) ([]byte, digest.Digest) {
	t.Helper()
	cfg := []byte(`{"architecture":"arm64","os":"linux"}`)
	cd, err := s.upload(ctx, name, cfg, 16)
	if err != nil {
		t.Fatalf("upload config: %v", err)
	}
	ld, err := s.upload(ctx, name, layer, 4096)
	if err != nil {
		t.Fatalf("upload layer: %v", err)
	}
	m, _ := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cd, Size: int64(len(cfg))},
		Layers:    []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayer, Digest: ld, Size: int64(len(layer))}},
	})
	res, err := s.c.UploadManifest(ctx, name, tag, azcontainerregistry.ContentTypeApplicationVndOciImageManifestV1JSON, nopCloser{bytes.NewReader(m)}, nil)
	if err != nil {
		t.Fatalf("upload manifest: %v", err)
	}
	if got := digest.Digest(*res.DockerContentDigest); got != digest.FromBytes(m) {
		t.Fatalf("manifest digest %s, want %s", got, digest.FromBytes(m))
	}
	return m, digest.FromBytes(m)
}

func status(err error) int {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// exercise pushes, reads back byte for byte, locks, and deletes through the
// SDK, checking the registry's own view at each step.
func exercise(ctx context.Context, t *testing.T, s sdkClients, name string) {
	t.Helper()
	layer := bytes.Repeat([]byte("regkit layer bytes "), 1000) // 19 kB, five chunks
	m, md := s.pushImage(ctx, t, name, "v1", layer)

	got, err := s.c.GetManifest(ctx, name, "v1", &azcontainerregistry.ClientGetManifestOptions{Accept: to.Ptr(ocispec.MediaTypeImageManifest)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(got.ManifestData)
	if !bytes.Equal(b, m) {
		t.Fatalf("manifest read back differs")
	}
	blob, err := s.bc.GetBlob(ctx, name, digest.FromBytes(layer).String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(blob.BlobData)
	if !bytes.Equal(b, layer) {
		t.Fatalf("layer read back differs: %d bytes", len(b))
	}

	// Lock the tag: a push to it and a delete of it are refused.
	if _, err := s.c.UpdateTagProperties(ctx, name, "v1", &azcontainerregistry.ClientUpdateTagPropertiesOptions{
		Value: &azcontainerregistry.TagWriteableProperties{CanWrite: to.Ptr(false), CanDelete: to.Ptr(false)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.c.UploadManifest(ctx, name, "v1", azcontainerregistry.ContentTypeApplicationVndOciImageManifestV1JSON,
		nopCloser{bytes.NewReader(append(bytes.Clone(m[:len(m)-1]), []byte(`,"annotations":{"x":"y"}}`)...))}, nil); err == nil {
		t.Fatal("push onto a locked tag succeeded")
	}
	if _, err := s.c.DeleteTag(ctx, name, "v1", nil); status(err) != http.StatusMethodNotAllowed {
		t.Fatalf("delete of a locked tag: %v, want 405", err)
	}
	if _, err := s.c.UpdateTagProperties(ctx, name, "v1", &azcontainerregistry.ClientUpdateTagPropertiesOptions{
		Value: &azcontainerregistry.TagWriteableProperties{CanWrite: to.Ptr(true), CanDelete: to.Ptr(true)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.c.DeleteTag(ctx, name, "v1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.c.DeleteManifest(ctx, name, md.String(), nil); err != nil {
		t.Fatal(err)
	}
	s.pushImage(ctx, t, name, "v2", []byte("second"))
	if _, err := s.c.DeleteRepository(ctx, name, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.c.GetRepositoryProperties(ctx, name, nil); status(err) != http.StatusNotFound {
		t.Fatalf("deleted repository: %v, want 404", err)
	}
}

// TestSDKAgainstRegistryd runs the registryd program in its open default
// mode and drives it with the SDK's anonymous (nil credential) flow.
func TestSDKAgainstRegistryd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs registryd")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "registryd")
	build := exec.Command("go", "build", "-o", bin, "./examples/registryd")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build registryd: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "-addr", addr, "-data", filepath.Join(dir, "data"), "-log-level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i > 100 {
			t.Fatalf("registryd did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	exercise(context.Background(), t, newSDK(t, "http://"+addr, nil), "team/app")
}

// tokenServer is the stack registryd runs with credentials: the access
// model behind the token service behind the handler.
func tokenServer(t *testing.T) (endpoint string, acc *access.Service, reg *registry.Registry) {
	t.Helper()
	ctx := context.Background()
	reg = newRegistry(t)
	acc, err := access.New(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := token.New(token.WithAuthority(acc.StringAuthority()), token.WithKeyDir(t.TempDir()),
		token.WithIdentityVerifier(token.StaticIdentities{"entra-ci": "token:ci-bot"}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(reg, httpapi.WithAuthorizer(svc.Authorizer()), httpapi.WithTokenHandler(svc.Handler())))
	t.Cleanup(srv.Close)
	all := []access.Action{access.ContentRead, access.ContentWrite, access.ContentDelete, access.MetadataRead, access.MetadataWrite}
	if _, err := acc.CreateScopeMap(ctx, access.ScopeMap{Name: "team-all", Rules: []access.Rule{{Repository: "team/*", Actions: all}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := acc.CreateToken(ctx, "ci-bot", "team-all", access.StatusEnabled); err != nil {
		t.Fatal(err)
	}
	return srv.URL, acc, reg
}

// TestSDKWithToken uses a repository-scoped token: through the exchange of
// an identity token (the SDK's own flow with a credential) and with the
// token's password as Basic credentials. Outside its scope map the token is
// refused and nothing changes.
func TestSDKWithToken(t *testing.T) {
	ctx := context.Background()
	endpoint, acc, reg := tokenServer(t)
	pw, err := acc.GeneratePassword(ctx, "ci-bot", access.Password1, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	pushImage(t, reg, "private/app", "v1", "p")

	t.Run("exchange", func(t *testing.T) {
		s := newSDK(t, endpoint, entraCredential("entra-ci"))
		exercise(ctx, t, s, "team/one")
		if _, err := s.c.GetRepositoryProperties(ctx, "private/app", nil); status(err) != http.StatusUnauthorized && status(err) != http.StatusForbidden {
			t.Fatalf("outside the scope map: %v, want 401 or 403", err)
		}
		if _, err := s.c.DeleteRepository(ctx, "private/app", nil); err == nil {
			t.Fatal("delete outside the scope map succeeded")
		}
	})
	t.Run("basic", func(t *testing.T) {
		s := newSDK(t, endpoint, nil, basicPolicy{"ci-bot", pw})
		exercise(ctx, t, s, "team/two")
		if _, err := s.c.DeleteRepository(ctx, "private/app", nil); status(err) != http.StatusUnauthorized {
			t.Fatalf("delete outside the scope map: %v, want 401", err)
		}
		if _, err := s.upload(ctx, "private/app", []byte("nope"), 4); err == nil {
			t.Fatal("upload outside the scope map succeeded")
		}
	})
	t.Run("disabled", func(t *testing.T) {
		if _, err := acc.UpdateToken(ctx, "ci-bot", access.TokenUpdate{Status: to.Ptr(access.StatusDisabled)}); err != nil {
			t.Fatal(err)
		}
		s := newSDK(t, endpoint, nil, basicPolicy{"ci-bot", pw})
		if _, err := s.c.GetRepositoryProperties(ctx, "team/one", nil); status(err) != http.StatusUnauthorized {
			t.Fatalf("disabled token: %v, want 401", err)
		}
	})
	// Nothing the refused requests touched changed.
	repo, _ := reg.Repository(ctx, "private/app")
	if tags, err := repo.Tags().List(ctx, registry.ListOptions{}); err != nil || len(tags) != 1 {
		t.Fatalf("private/app tags %v, %v", tags, err)
	}
}
