package interop_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/registrytest"
)

// server is a running registry under test, whichever storage backs it.
type server struct {
	Host string // host:port
	Reg  *registry.Registry
}

// backend starts a registry server for a test.
type backend struct {
	name  string
	start func(t *testing.T) *server
}

// eachBackend runs fn as a subtest against the one-line in-memory test
// server and a handler over the embedded on-disk default.
func eachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	backends := []backend{
		{"memory", func(t *testing.T) *server {
			srv := registrytest.New(t)
			return &server{Host: srv.Host, Reg: srv.Registry}
		}},
		{"disk", func(t *testing.T) *server {
			reg, err := registry.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(httpapi.New(reg))
			t.Cleanup(func() {
				hs.Close()
				if err := reg.Close(); err != nil {
					t.Errorf("close registry: %v", err)
				}
			})
			return &server{Host: strings.TrimPrefix(hs.URL, "http://"), Reg: reg}
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}
