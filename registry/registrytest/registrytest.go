package registrytest

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
)

// Server is a running test registry.
type Server struct {
	// Host is host:port, for image references ("Host/repo:tag").
	Host string
	// URL is the base URL, "http://Host".
	URL string
	// Registry is the registry behind the server, for assertions and setup.
	Registry *registry.Registry
	// HTTP is the underlying test server.
	HTTP *httptest.Server
}

// Options adjust the test server.
type Options struct {
	// Registry are options for the registry.
	Registry []registry.Option
	// Dir, when set, holds the registry on disk (registry.Open: the
	// embedded default) instead of in memory; use t.TempDir().
	Dir string
	// HTTP are options for the handler (authorizer, limits).
	HTTP []httpapi.Option
}

// New starts a server with default options and registers its cleanup.
func New(t testing.TB) *Server { return NewWith(t, Options{}) }

// NewWith starts a server with opts and registers its cleanup.
func NewWith(t testing.TB, opts Options) *Server {
	t.Helper()
	var (
		reg *registry.Registry
		err error
	)
	if opts.Dir != "" {
		reg, err = registry.Open(opts.Dir, opts.Registry...)
	} else {
		reg, err = registry.NewMemory(opts.Registry...)
	}
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	hs := httptest.NewServer(httpapi.New(reg, opts.HTTP...))
	t.Cleanup(func() {
		hs.Close()
		if err := reg.Close(); err != nil {
			t.Errorf("registrytest: close registry: %v", err)
		}
	})
	return &Server{
		Host:     strings.TrimPrefix(hs.URL, "http://"),
		URL:      hs.URL,
		Registry: reg,
		HTTP:     hs,
	}
}
