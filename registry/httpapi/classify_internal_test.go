package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/regkit/regkit/registry"
)

// TestClassifyConflictsAndFaults covers mappings no request reaches
// deterministically: a manifest push racing the collector, other lost races
// and preconditions by route, and failures that wrap a cause of another
// class.
func TestClassifyConflictsAndFaults(t *testing.T) {
	enospc := fmt.Errorf("blob/fs: write: %w: %w", syscall.ENOSPC, registry.ErrUnavailable)
	tests := []struct {
		name   string
		method string
		kind   kind
		err    error
		status int
		code   string
	}{
		{"collecting on manifest PUT", "PUT", kindManifest, fmt.Errorf("registry: blob x: %w", registry.ErrCollecting), http.StatusConflict, CodeManifestBlobUnknown},
		{"tag moved on manifest PUT", "PUT", kindManifest, fmt.Errorf("registry: tag %q points to y, expected x: %w", "v1", registry.ErrConflict), http.StatusConflict, CodeManifestInvalid},
		{"tag moved on untag", "DELETE", kindManifest, registry.ErrConflict, http.StatusConflict, CodeManifestUnknown},
		{"conflict on manifest GET", "GET", kindManifest, registry.ErrConflict, http.StatusConflict, CodeManifestUnknown},
		{"conflict on tags list", "GET", kindTags, registry.ErrConflict, http.StatusConflict, CodeNameUnknown},
		{"conflict on referrers", "GET", kindReferrers, registry.ErrConflict, http.StatusConflict, CodeManifestUnknown},
		{"collecting on blob DELETE", "DELETE", kindBlob, registry.ErrCollecting, http.StatusConflict, CodeBlobUnknown},
		{"session in use on PATCH", "PATCH", kindUpload, registry.ErrConflict, http.StatusConflict, CodeBlobUploadInvalid},
		{"collecting on mount", "POST", kindUploadStart, registry.ErrCollecting, http.StatusConflict, CodeBlobUploadInvalid},

		{"other precondition on manifest PUT", "PUT", kindManifest, registry.ErrPrecondition, http.StatusBadRequest, CodeManifestInvalid},
		{"precondition on upload", "PUT", kindUpload, registry.ErrPrecondition, http.StatusBadRequest, CodeBlobUploadInvalid},
		{"missing blob on manifest PUT", "PUT", kindManifest, registry.ErrManifestBlobUnknown, http.StatusBadRequest, CodeManifestBlobUnknown},

		{"unavailable on PUT", "PUT", kindManifest, registry.ErrUnavailable, http.StatusServiceUnavailable, CodeUnavailable},
		{"ENOSPC on upload", "PUT", kindUpload, enospc, http.StatusServiceUnavailable, CodeUnavailable},
		{"unavailable over not found", "GET", kindBlob, fmt.Errorf("%w: %w", registry.ErrBlobUnknown, registry.ErrUnavailable), http.StatusServiceUnavailable, CodeUnavailable},
		{"unavailable over conflict", "PUT", kindManifest, fmt.Errorf("%w: %w", registry.ErrConflict, registry.ErrUnavailable), http.StatusServiceUnavailable, CodeUnavailable},
		{"deadline", "GET", kindCatalog, context.DeadlineExceeded, http.StatusServiceUnavailable, CodeUnavailable},
		{"plain I/O error", "GET", kindBlob, syscall.EIO, http.StatusInternalServerError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/v2/a/x", nil)
			status, code := classify(r, route{kind: tt.kind, name: "a"}, tt.err)
			if status != tt.status || code != tt.code {
				t.Errorf("classify(%v) = %d %q, want %d %q", tt.err, status, code, tt.status, tt.code)
			}
		})
	}
}
