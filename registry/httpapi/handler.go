package httpapi

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/regkit/regkit/registry"
)

// Handler serves a registry.Registry over the OCI distribution API v1.1.
// It holds no state of its own: upload sessions live in the registry.
type Handler struct {
	reg         *registry.Registry
	auth        Authorizer
	logger      *slog.Logger
	maxManifest int64
	// anonymousMount lets a mount without from= link any readable copy.
	anonymousMount bool
	// token serves /oauth2/token and /oauth2/exchange when set.
	token http.Handler
	bufs  sync.Pool
}

// Option configures a Handler.
type Option func(*Handler)

// WithAuthorizer sets who may do what (default AllowAll).
func WithAuthorizer(a Authorizer) Option { return func(h *Handler) { h.auth = a } }

// WithLogger sets where internal errors are logged (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.logger = l } }

// WithMaxManifestSize sets the largest manifest body accepted (default 4
// MiB); larger pushes get 413. Keep it in step with the registry's
// manifest.Options.MaxSize.
func WithMaxManifestSize(n int64) Option { return func(h *Handler) { h.maxManifest = n } }

// WithAnonymousMount lets POST ?mount=<digest> without from= link the blob
// from any readable repository that holds it (off by default). Enable it
// only where knowing a blob's digest may grant access to its bytes, as in a
// single-tenant registry.
func WithAnonymousMount(enabled bool) Option { return func(h *Handler) { h.anonymousMount = enabled } }

// WithTokenHandler passes requests for /oauth2/token and /oauth2/exchange
// (ACR's token endpoints, any method) to th, before any authorization: the
// token service does its own. Without it those paths are 404.
func WithTokenHandler(th http.Handler) Option { return func(h *Handler) { h.token = th } }

// New returns the handler of reg.
func New(reg *registry.Registry, opts ...Option) *Handler {
	h := &Handler{
		reg:         reg,
		auth:        AllowAll(),
		logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		maxManifest: 4 << 20,
	}
	h.bufs.New = func() any { b := make([]byte, 1<<20); return &b }
	for _, opt := range opts {
		opt(h)
	}
	return h
}

// ServeHTTP routes a request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	if h.token != nil && (p == "/oauth2/token" || p == "/oauth2/exchange") {
		h.token.ServeHTTP(w, r)
		return
	}
	rt, ok := parseRoute(p)
	if !ok {
		rt, ok = parseACRRoute(p)
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	if !rt.kind.acr() {
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	}
	if err := h.serve(w, r, rt); err != nil {
		h.writeError(w, r, rt, err)
	}
}

// endpoint is one method of one route kind: the access it needs and the
// function serving it.
type endpoint struct {
	actions []Action
	serve   func(h *Handler, w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error
}

var (
	pull       = []Action{ActionPull, ActionContentRead}
	pullMeta   = []Action{ActionPull, ActionMetadataRead}
	push       = []Action{ActionPush, ActionContentWrite}
	pushDelete = []Action{ActionDelete, ActionContentDelete}
	untag      = []Action{ActionDelete, ActionMetadataWrite}
)

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, rt route) error {
	ctx := r.Context()
	if rt.kind.acr() {
		return h.serveACR(w, r, rt)
	}
	switch rt.kind {
	case kindBase:
		if err := h.auth.Authorize(ctx, r, Access{}); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
		return nil
	case kindCatalog:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return methodNotAllowed(w, rt.kind)
		}
		if err := h.auth.Authorize(ctx, r, Access{Actions: []Action{ActionPull, ActionMetadataRead}}); err != nil {
			return err
		}
		return h.catalog(w, r)
	}
	ep, ok := endpointFor(rt, r)
	if !ok {
		return methodNotAllowed(w, rt.kind)
	}
	repo, err := h.reg.Repository(ctx, rt.name)
	if err != nil {
		return err
	}
	if err := h.auth.Authorize(ctx, r, Access{Repository: rt.name, Actions: ep.actions}); err != nil {
		return err
	}
	return ep.serve(h, w, r, repo, rt)
}

// endpointFor picks the endpoint of a route and method.
func endpointFor(rt route, r *http.Request) (endpoint, bool) {
	m := r.Method
	get := m == http.MethodGet || m == http.MethodHead
	switch rt.kind {
	case kindTags:
		if get {
			return endpoint{pullMeta, (*Handler).tagsList}, true
		}
	case kindReferrers:
		if get {
			return endpoint{pullMeta, (*Handler).referrers}, true
		}
	case kindManifest:
		switch {
		case get:
			return endpoint{pull, (*Handler).getManifest}, true
		case m == http.MethodPut:
			return endpoint{push, (*Handler).putManifest}, true
		case m == http.MethodDelete:
			if isDigest(rt.ref) {
				return endpoint{pushDelete, (*Handler).deleteManifest}, true
			}
			return endpoint{untag, (*Handler).deleteManifest}, true
		}
	case kindBlob:
		switch {
		case get:
			return endpoint{pull, (*Handler).getBlob}, true
		case m == http.MethodDelete:
			return endpoint{pushDelete, (*Handler).deleteBlob}, true
		}
	case kindUploadStart:
		if m == http.MethodPost {
			return endpoint{push, (*Handler).startUpload}, true
		}
	case kindUpload:
		switch m {
		case http.MethodGet:
			return endpoint{push, (*Handler).uploadStatus}, true
		case http.MethodPatch:
			return endpoint{push, (*Handler).patchUpload}, true
		case http.MethodPut:
			return endpoint{push, (*Handler).putUpload}, true
		case http.MethodDelete:
			return endpoint{push, (*Handler).cancelUpload}, true
		}
	}
	return endpoint{}, false
}

// allowed lists the methods each kind of endpoint serves.
func allowed(k kind) string {
	switch k {
	case kindManifest:
		return "GET, HEAD, PUT, DELETE"
	case kindBlob:
		return "GET, HEAD, DELETE"
	case kindUploadStart:
		return "POST"
	case kindUpload:
		return "GET, PATCH, PUT, DELETE"
	case kindACRRepo, kindACRTag, kindACRManifest:
		return "GET, HEAD, PATCH, DELETE"
	case kindACRDeletedManifest:
		return "POST"
	}
	return "GET, HEAD"
}

func methodNotAllowed(w http.ResponseWriter, k kind) error {
	w.Header().Set("Allow", allowed(k))
	return withCode(http.StatusMethodNotAllowed, CodeUnsupported, errUnsupportedMethod)
}

var errUnsupportedMethod = errors.New("httpapi: method not allowed on this endpoint")
