package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	blobmem "github.com/regkit/regkit/blob/memory"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/meta"
	metamem "github.com/regkit/regkit/registry/meta/memory"
)

// faultyStore is a metadata store whose transactions fail with a set error,
// as a store that went read-only, was closed or lost a race would.
type faultyStore struct {
	meta.Store
	mu    sync.Mutex
	fault error
}

func (s *faultyStore) set(err error) {
	s.mu.Lock()
	s.fault = err
	s.mu.Unlock()
}

func (s *faultyStore) get() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fault
}

func (s *faultyStore) View(ctx context.Context, fn func(meta.Tx) error) error {
	if err := s.get(); err != nil {
		return err
	}
	return s.Store.View(ctx, fn)
}

func (s *faultyStore) Update(ctx context.Context, fn func(meta.Tx) error) error {
	if err := s.get(); err != nil {
		return err
	}
	return s.Store.Update(ctx, fn)
}

// newFaultyFixture is a fixture whose metadata store fails on demand. The
// manifest cache is off, so every read reaches the store.
func newFaultyFixture(t *testing.T, opts ...httpapi.Option) (*fixture, *faultyStore) {
	t.Helper()
	store := &faultyStore{Store: metamem.New()}
	reg, err := registry.New(blobmem.New(), store, registry.WithManifestCache(0), registry.WithBlobCache(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		store.set(nil)
		reg.Close()
		store.Store.Close()
	})
	return &fixture{reg: reg, h: httpapi.New(reg, opts...)}, store
}

// TestStoreFaults: a store that cannot serve answers 503 UNAVAILABLE on every
// route, whatever else the error wraps; a lost race answers 409 with a code
// of the route, never BLOB_UPLOAD_INVALID outside uploads.
func TestStoreFaults(t *testing.T) {
	f, store := newFaultyFixture(t)
	man, dgst := f.image(t, "team/app", "v1", "1")
	man2, _ := f.image(t, "team/app", "", "2")
	layer := digest.FromString("layer 1")
	om := []string{"Content-Type", ocispec.MediaTypeImageManifest}

	readOnly := fmt.Errorf("meta: store is read-only after a failed fsync: %w: %w", syscall.EIO, meta.ErrUnavailable)
	// A corrupt record is the store's failure, not the client's invalid input.
	corrupt := fmt.Errorf("corrupt record: %w: %w", fmt.Errorf("bad varint: %w", meta.ErrInvalid), meta.ErrUnavailable)
	const (
		unavailable = http.StatusServiceUnavailable
		conflict    = http.StatusConflict
	)
	tests := []struct {
		fault error
		c     errorCase
	}{
		{readOnly, errorCase{"read-only manifest GET", "GET", "/v2/team/app/manifests/v1", nil, nil, unavailable, httpapi.CodeUnavailable}},
		{readOnly, errorCase{"read-only manifest HEAD", "HEAD", "/v2/team/app/manifests/" + dgst.String(), nil, nil, unavailable, httpapi.CodeUnavailable}},
		{readOnly, errorCase{"read-only manifest PUT", "PUT", "/v2/team/app/manifests/v2", man2, om, unavailable, httpapi.CodeUnavailable}},
		{readOnly, errorCase{"read-only untag", "DELETE", "/v2/team/app/manifests/v1", nil, nil, unavailable, httpapi.CodeUnavailable}},
		{readOnly, errorCase{"read-only manifest DELETE", "DELETE", "/v2/team/app/manifests/" + dgst.String(), nil, nil, unavailable, httpapi.CodeUnavailable}},
		{readOnly, errorCase{"read-only tags", "GET", "/v2/team/app/tags/list", nil, nil, unavailable, httpapi.CodeUnavailable}},
		{readOnly, errorCase{"read-only catalog", "GET", "/v2/_catalog", nil, nil, unavailable, httpapi.CodeUnavailable}},
		{readOnly, errorCase{"read-only blob GET", "GET", "/v2/team/app/blobs/" + layer.String(), nil, nil, unavailable, httpapi.CodeUnavailable}},
		{readOnly, errorCase{"read-only blob DELETE", "DELETE", "/v2/team/app/blobs/" + layer.String(), nil, nil, unavailable, httpapi.CodeUnavailable}},
		{readOnly, errorCase{"read-only referrers", "GET", "/v2/team/app/referrers/" + dgst.String(), nil, nil, unavailable, httpapi.CodeUnavailable}},
		{readOnly, errorCase{"read-only monolithic upload", "POST", "/v2/team/app/blobs/uploads/?digest=" + digest.FromString("x").String(), []byte("x"), nil, unavailable, httpapi.CodeUnavailable}},
		{corrupt, errorCase{"corrupt manifest GET", "GET", "/v2/team/app/manifests/v1", nil, nil, unavailable, httpapi.CodeUnavailable}},
		{corrupt, errorCase{"corrupt manifest PUT", "PUT", "/v2/team/app/manifests/v2", man2, om, unavailable, httpapi.CodeUnavailable}},
		{corrupt, errorCase{"corrupt tags", "GET", "/v2/team/app/tags/list", nil, nil, unavailable, httpapi.CodeUnavailable}},
		{context.DeadlineExceeded, errorCase{"store deadline", "GET", "/v2/team/app/manifests/v1", nil, nil, unavailable, httpapi.CodeUnavailable}},
		// Canceled by the server, not by the request: still an answer.
		{fmt.Errorf("operation aborted: %w", context.Canceled), errorCase{"server cancelled", "PUT", "/v2/team/app/manifests/v2", man2, om, unavailable, httpapi.CodeUnavailable}},

		{meta.ErrConflict, errorCase{"conflict manifest PUT", "PUT", "/v2/team/app/manifests/v2", man2, om, conflict, httpapi.CodeManifestInvalid}},
		{meta.ErrConflict, errorCase{"conflict manifest PUT by digest", "PUT", "/v2/team/app/manifests/" + dgst.String(), man, om, conflict, httpapi.CodeManifestInvalid}},
		{meta.ErrConflict, errorCase{"conflict untag", "DELETE", "/v2/team/app/manifests/v1", nil, nil, conflict, httpapi.CodeManifestUnknown}},
		{meta.ErrConflict, errorCase{"conflict manifest DELETE", "DELETE", "/v2/team/app/manifests/" + dgst.String(), nil, nil, conflict, httpapi.CodeManifestUnknown}},
		{meta.ErrConflict, errorCase{"conflict manifest GET", "GET", "/v2/team/app/manifests/v1", nil, nil, conflict, httpapi.CodeManifestUnknown}},
		{meta.ErrConflict, errorCase{"conflict tags", "GET", "/v2/team/app/tags/list", nil, nil, conflict, httpapi.CodeNameUnknown}},
		{meta.ErrConflict, errorCase{"conflict blob DELETE", "DELETE", "/v2/team/app/blobs/" + layer.String(), nil, nil, conflict, httpapi.CodeBlobUnknown}},
		{meta.ErrConflict, errorCase{"conflict monolithic upload", "POST", "/v2/team/app/blobs/uploads/?digest=" + digest.FromString("x").String(), []byte("x"), nil, conflict, httpapi.CodeBlobUploadInvalid}},
	}
	for _, tt := range tests {
		store.set(tt.fault)
		runErrorCases(t, f.h, []errorCase{tt.c})
		store.set(nil)
	}
	// The client gets a generic message; the log gets the cause.
	var logs bytes.Buffer
	lf, lstore := newFaultyFixture(t, httpapi.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	lstore.set(readOnly)
	w := call(t, lf.h, "GET", "/v2/team/app/tags/list", nil)
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "fsync") || !strings.Contains(logs.String(), "read-only after a failed fsync") {
		t.Errorf("%d %q, log %q: want 503 with the cause in the log only", w.Code, w.Body, logs.String())
	}
	// The faults changed nothing.
	if w := call(t, f.h, "GET", "/v2/team/app/manifests/v1", nil); w.Code != http.StatusOK || w.Header().Get("Docker-Content-Digest") != dgst.String() {
		t.Errorf("after the faults: GET v1 = %d %s", w.Code, w.Header().Get("Docker-Content-Digest"))
	}
}

// TestCancelledRequest: a request whose own context was cancelled (the
// client went away) gets a bare 499: no body, no OCI error code.
func TestCancelledRequest(t *testing.T) {
	f := newFixture(t)
	man, dgst := f.image(t, "team/app", "v1", "1")
	man2, _ := f.image(t, "team/app", "", "2")
	om := []string{"Content-Type", ocispec.MediaTypeImageManifest}
	tests := []struct {
		name, method, target string
		body                 []byte
		hdr                  []string
	}{
		{"manifest PUT", "PUT", "/v2/team/app/manifests/v2", man2, om},
		{"manifest PUT by digest", "PUT", "/v2/team/app/manifests/" + dgst.String(), man, om},
		{"untag", "DELETE", "/v2/team/app/manifests/v1", nil, nil},
		{"manifest DELETE", "DELETE", "/v2/team/app/manifests/" + dgst.String(), nil, nil},
		{"tags", "GET", "/v2/team/app/tags/list", nil, nil},
		{"catalog", "GET", "/v2/_catalog", nil, nil},
		{"upload start", "POST", "/v2/team/app/blobs/uploads/", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			req := httptest.NewRequestWithContext(ctx, tt.method, tt.target, bytesReader(tt.body))
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				req.Header.Set(tt.hdr[i], tt.hdr[i+1])
			}
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, req)
			if w.Code != httpapi.StatusClientClosedRequest {
				t.Errorf("status = %d, want %d; body %s", w.Code, httpapi.StatusClientClosedRequest, w.Body)
			}
			if w.Body.Len() != 0 || w.Header().Get("Content-Type") != "" {
				t.Errorf("cancelled request answered %q (Content-Type %q), want no body", w.Body, w.Header().Get("Content-Type"))
			}
		})
	}
	// Nothing changed.
	if w := call(t, f.h, "GET", "/v2/team/app/manifests/v1", nil); w.Code != http.StatusOK {
		t.Errorf("after the cancelled requests: GET v1 = %d", w.Code)
	}
	if w := call(t, f.h, "GET", "/v2/team/app/manifests/v2", nil); w.Code != http.StatusNotFound {
		t.Errorf("after the cancelled requests: GET v2 = %d, want 404", w.Code)
	}
}

// bytesReader is a request body of b, or none for nil.
func bytesReader(b []byte) io.Reader {
	if b == nil {
		return nil
	}
	return bytes.NewReader(b)
}
