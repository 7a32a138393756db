package bearer_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/internal/bearer"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/token"
)

func TestFollowsChallenges(t *testing.T) {
	reg, err := registry.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	svc, err := token.New(token.WithAuthority(token.Open()), token.WithKeyDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(reg, httpapi.WithAuthorizer(svc.Authorizer()), httpapi.WithTokenHandler(svc.Handler())))
	defer srv.Close()
	c := &http.Client{Transport: &bearer.Transport{}}

	// A monolithic push: POST (no body) then PUT with a replayable body.
	data := []byte("hello")
	d := digest.FromBytes(data)
	resp, err := c.Post(srv.URL+"/v2/team/app/blobs/uploads/", "", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start upload: %v %v", err, resp)
	}
	loc := resp.Header.Get("Location")
	resp.Body.Close()
	if !strings.HasPrefix(loc, "http") {
		loc = srv.URL + loc
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	req, _ := http.NewRequest(http.MethodPut, loc+sep+"digest="+d.String(), bytes.NewReader(data))
	resp, err = c.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("put: %v %v", err, resp)
	}
	resp.Body.Close()
	// The catalog and an /acr/v1/ read, each with its own scope.
	for _, path := range []string{"/v2/_catalog", "/acr/v1/_catalog", "/v2/team/app/blobs/" + d.String()} {
		resp, err = c.Get(srv.URL + path)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %v %v", path, err, resp)
		}
		resp.Body.Close()
	}
}

// TestOneConnection: with one connection per host, the token request must
// not wait on the connection the 401 came over.
func TestOneConnection(t *testing.T) {
	reg, err := registry.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	svc, err := token.New(token.WithAuthority(token.Open()), token.WithKeyDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(reg, httpapi.WithAuthorizer(svc.Authorizer()), httpapi.WithTokenHandler(svc.Handler())))
	defer srv.Close()
	c := &http.Client{Transport: &bearer.Transport{Base: &http.Transport{MaxConnsPerHost: 1}}, Timeout: 10 * time.Second}
	resp, err := c.Post(srv.URL+"/v2/team/app/blobs/uploads/", "", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start upload: %v %v", err, resp)
	}
	resp.Body.Close()
}
