package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/manifest"
	"github.com/regkit/regkit/registry"
)

// The OCI distribution-spec error codes, and ACR's refusal code.
const (
	CodeBlobUnknown         = "BLOB_UNKNOWN"
	CodeBlobUploadInvalid   = "BLOB_UPLOAD_INVALID"
	CodeBlobUploadUnknown   = "BLOB_UPLOAD_UNKNOWN"
	CodeDigestInvalid       = "DIGEST_INVALID"
	CodeManifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
	CodeManifestInvalid     = "MANIFEST_INVALID"
	CodeManifestUnknown     = "MANIFEST_UNKNOWN"
	CodeNameInvalid         = "NAME_INVALID"
	CodeNameUnknown         = "NAME_UNKNOWN"
	CodeSizeInvalid         = "SIZE_INVALID"
	CodeUnauthorized        = "UNAUTHORIZED"
	CodeDenied              = "DENIED"
	CodeUnsupported         = "UNSUPPORTED"
	CodeTooManyRequests     = "TOOMANYREQUESTS"
	// CodeDisallowed is ACR's answer to an operation a lock forbids.
	CodeDisallowed = "REGISTRY_DISALLOWED_OPERATION"
)

// apiError is one error of a response body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// statusError carries an HTTP status and OCI code chosen by a handler.
type statusError struct {
	status int
	code   string
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// withCode makes err answer with status and code.
func withCode(status int, code string, err error) error {
	return &statusError{status: status, code: code, err: err}
}

// classify maps an error to an HTTP status and OCI code. The specific
// registry errors come first, then the classes.
func classify(r *http.Request, rt route, err error) (int, string) {
	var se *statusError
	if errors.As(err, &se) {
		return se.status, se.code
	}
	switch {
	case errors.Is(err, registry.ErrNameInvalid):
		return http.StatusBadRequest, CodeNameInvalid
	case errors.Is(err, registry.ErrNameUnknown):
		return http.StatusNotFound, CodeNameUnknown
	case errors.Is(err, registry.ErrBlobUploadUnknown):
		return http.StatusNotFound, CodeBlobUploadUnknown
	case errors.Is(err, registry.ErrBlobUnknown):
		return http.StatusNotFound, CodeBlobUnknown
	case errors.Is(err, registry.ErrManifestUnknown):
		return http.StatusNotFound, CodeManifestUnknown
	case errors.Is(err, registry.ErrManifestBlobUnknown), errors.Is(err, registry.ErrManifestChildUnknown):
		return http.StatusBadRequest, CodeManifestBlobUnknown
	case errors.Is(err, registry.ErrTagInvalid):
		return http.StatusBadRequest, CodeManifestInvalid
	case errors.Is(err, registry.ErrBlobReferenced), errors.Is(err, registry.ErrManifestReferenced):
		// The spec's delete endpoints list 405 for deletes a registry refuses.
		return http.StatusMethodNotAllowed, CodeUnsupported
	case errors.Is(err, errdef.ErrLocked):
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return http.StatusForbidden, CodeDenied
		}
		return http.StatusMethodNotAllowed, CodeUnsupported
	case errors.Is(err, errdef.ErrUnauthorized):
		return http.StatusUnauthorized, CodeUnauthorized
	case errors.Is(err, errdef.ErrDenied):
		return http.StatusForbidden, CodeDenied
	case errors.Is(err, errdef.ErrDigestMismatch):
		return http.StatusBadRequest, CodeDigestInvalid
	case errors.Is(err, errdef.ErrSizeMismatch):
		return http.StatusBadRequest, CodeSizeInvalid
	case errors.Is(err, errdef.ErrTooLarge):
		if rt.kind == kindManifest {
			return http.StatusRequestEntityTooLarge, CodeManifestInvalid
		}
		return http.StatusTooManyRequests, CodeTooManyRequests
	}
	manifestRoute := rt.kind == kindManifest
	switch {
	case errors.Is(err, manifest.ErrUnsupported), errors.Is(err, errdef.ErrUnsupported):
		if manifestRoute {
			return http.StatusBadRequest, CodeManifestInvalid
		}
		return http.StatusBadRequest, CodeDigestInvalid
	case errors.Is(err, errdef.ErrInvalid):
		switch rt.kind {
		case kindManifest:
			return http.StatusBadRequest, CodeManifestInvalid
		case kindUpload, kindUploadStart:
			return http.StatusBadRequest, CodeDigestInvalid
		case kindBlob, kindReferrers:
			return http.StatusBadRequest, CodeDigestInvalid
		}
		return http.StatusBadRequest, CodeNameInvalid
	case errors.Is(err, errdef.ErrNotFound):
		return http.StatusNotFound, CodeNameUnknown
	case errors.Is(err, errdef.ErrConflict):
		return http.StatusConflict, CodeBlobUploadInvalid
	case errors.Is(err, errdef.ErrPrecondition):
		return http.StatusBadRequest, CodeBlobUploadInvalid
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 499, CodeUnsupported
	}
	return http.StatusInternalServerError, ""
}

// writeError is the one place that writes error responses.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, rt route, err error) {
	status, code := classify(r, rt, err)
	msg := err.Error()
	if code == "" {
		code = "UNKNOWN"
		msg = "internal error"
		h.logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var ch *Challenge
	if errors.As(err, &ch) {
		w.Header().Set("WWW-Authenticate", ch.String())
	}
	w.Header().Del("Content-Length") // set by upload headers; the body follows
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(errorBody{Errors: []apiError{{Code: code, Message: msg}}})
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Errors []apiError `json:"errors"`
}
