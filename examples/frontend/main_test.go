package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

var testNow = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// signing is a RoundTripper standing in for the upstream proxy: it signs
// every request for one identity.
type signing struct {
	s  signer
	id *identity // nil: no headers
}

func (t signing) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if t.id != nil {
		t.s.sign(r.Header, *t.id, time.Minute)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func newFrontend(t *testing.T, dir string) (*httptest.Server, signer) {
	t.Helper()
	reg, closeAll, err := openRegistry(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := signer{secret: []byte("test secret"), now: func() time.Time { return testNow }}
	srv := httptest.NewServer(newMux(reg, groupAuthorizer{signer: s, adminGroup: "admins"}, slog.New(slog.DiscardHandler)))
	t.Cleanup(func() {
		srv.Close()
		if err := closeAll(); err != nil {
			t.Error(err)
		}
	})
	return srv, s
}

func repoAs(t *testing.T, srv *httptest.Server, s signer, id *identity, name string) *remote.Repository {
	t.Helper()
	repo, err := remote.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	repo.Client = &http.Client{Transport: signing{s: s, id: id}}
	return repo
}

func push(ctx context.Context, repo *remote.Repository, tag string) (ocispec.Descriptor, error) {
	layer, err := oras.PushBytes(ctx, repo, "application/vnd.example.layer", []byte("layer of "+tag))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "application/vnd.example", oras.PackManifestOptions{
		Layers:              []ocispec.Descriptor{layer},
		ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2026-12-03T00:00:00Z"},
	})
}

func status(err error) int {
	var e *errcode.ErrorResponse
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

func TestFrontendRules(t *testing.T) {
	for _, storage := range []string{"memory", "disk"} {
		t.Run(storage, func(t *testing.T) {
			dir := ""
			if storage == "disk" {
				dir = t.TempDir()
			}
			srv, s := newFrontend(t, dir)
			ctx := context.Background()
			alice := &identity{User: "alice", Groups: []string{"ml-team"}}
			bob := &identity{User: "bob"}

			// Alice writes under her group and her own namespace.
			for _, name := range []string{"ml-team/model", "users/alice/scratch"} {
				desc, err := push(ctx, repoAs(t, srv, s, alice, name), "v1")
				if err != nil {
					t.Fatalf("alice push %s: %v", name, err)
				}
				if err := repoAs(t, srv, s, alice, name).Tag(ctx, desc, "v1"); err != nil {
					t.Fatal(err)
				}
			}
			// Bob may pull what alice pushed, not push beside it.
			if _, _, err := oras.FetchBytes(ctx, repoAs(t, srv, s, bob, "ml-team/model"), "v1", oras.DefaultFetchBytesOptions); err != nil {
				t.Fatalf("bob pull: %v", err)
			}
			if _, err := push(ctx, repoAs(t, srv, s, bob, "ml-team/model"), "v2"); status(err) != http.StatusForbidden {
				t.Fatalf("bob push into ml-team: %v, want 403", err)
			}
			// No signature: 401, nothing read.
			if _, _, err := oras.FetchBytes(ctx, repoAs(t, srv, s, nil, "ml-team/model"), "v1", oras.DefaultFetchBytesOptions); status(err) != http.StatusUnauthorized {
				t.Fatalf("unsigned pull: %v, want 401", err)
			}
			// Only admins list the catalog.
			catalogAs := func(id *identity) *remote.Registry {
				reg, err := remote.NewRegistry(strings.TrimPrefix(srv.URL, "http://"))
				if err != nil {
					t.Fatal(err)
				}
				reg.PlainHTTP = true
				reg.Client = &http.Client{Transport: signing{s: s, id: id}}
				return reg
			}
			if err := catalogAs(bob).Repositories(ctx, "", func([]string) error { return nil }); status(err) != http.StatusForbidden {
				t.Fatalf("bob catalog: %v, want 403", err)
			}
			reg := catalogAs(&identity{User: "root", Groups: []string{"admins"}})
			var names []string
			if err := reg.Repositories(ctx, "", func(page []string) error { names = append(names, page...); return nil }); err != nil {
				t.Fatal(err)
			}
			if strings.Join(names, ",") != "ml-team/model,users/alice/scratch" {
				t.Fatalf("catalog %v", names)
			}

			// The frontend's own routes.
			var got struct {
				Namespaces   []string `json:"namespaces"`
				Repositories []string `json:"repositories"`
			}
			getJSON(t, srv, s, alice, "/frontend/repositories", &got)
			if strings.Join(got.Repositories, ",") != "ml-team/model,users/alice/scratch" || len(got.Namespaces) != 2 {
				t.Fatalf("repositories %+v", got)
			}
			var who identity
			getJSON(t, srv, s, alice, "/frontend/whoami", &who)
			if who.User != "alice" {
				t.Fatalf("whoami %+v", who)
			}
		})
	}
}

func getJSON(t *testing.T, srv *httptest.Server, s signer, id *identity, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	s.sign(req.Header, *id, time.Minute)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestSignatureRefused(t *testing.T) {
	s := signer{secret: []byte("k"), now: func() time.Time { return testNow }}
	good := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/v2/", nil)
		s.sign(r.Header, identity{User: "alice", Groups: []string{"a"}}, time.Minute)
		return r
	}
	tests := []struct {
		name   string
		mutate func(r *http.Request)
		ok     bool
	}{
		{"valid", func(*http.Request) {}, true},
		{"no headers", func(r *http.Request) { r.Header = http.Header{} }, false},
		{"other user", func(r *http.Request) { r.Header.Set(headerUser, "mallory") }, false},
		{"extra group", func(r *http.Request) { r.Header.Set(headerGroups, "a,admins") }, false},
		{"later expiry", func(r *http.Request) { r.Header.Set(headerExpires, "99999999999") }, false},
		{"not hex", func(r *http.Request) { r.Header.Set(headerSignature, "zz") }, false},
		{"another key", func(r *http.Request) {
			signer{secret: []byte("other"), now: s.now}.sign(r.Header, identity{User: "alice"}, time.Minute)
		}, false},
		{"expired", func(r *http.Request) {
			signer{secret: s.secret, now: func() time.Time { return testNow.Add(-time.Hour) }}.sign(r.Header, identity{User: "alice"}, time.Minute)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.mutate(r)
			_, err := s.verify(r)
			if (err == nil) != tt.ok {
				t.Fatalf("verify: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	t.Setenv("FRONTEND_SECRET", "")
	var out, errb bytes.Buffer
	if got := run(context.Background(), nil, &out, &errb); got != 2 {
		t.Fatalf("no secret: exit %d", got)
	}
	t.Setenv("FRONTEND_SECRET", "k")
	if got := run(context.Background(), []string{"-nope"}, &out, &errb); got != 2 {
		t.Fatalf("bad flag: exit %d", got)
	}
	if got := run(context.Background(), []string{"-sign", "alice", "-groups", "ml-team"}, &out, &errb); got != 0 || !strings.Contains(out.String(), headerSignature) {
		t.Fatalf("sign: exit %d, %q", got, out.String())
	}
}
