package interop_test

import (
	"testing"

	"github.com/regkit/regkit/registry"
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
			srv := registrytest.NewWith(t, registrytest.Options{Dir: t.TempDir()})
			return &server{Host: srv.Host, Reg: srv.Registry}
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}
