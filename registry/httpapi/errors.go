package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

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
	// CodeUnavailable answers a request the registry cannot serve now (a
	// store closed, read-only or failed; an operation cut short by the
	// server), with 503. The distribution spec has no code for it; this is
	// the one CNCF distribution uses.
	CodeUnavailable = "UNAVAILABLE"
	// CodeDisallowed is ACR's answer to an operation a lock forbids.
	CodeDisallowed = "REGISTRY_DISALLOWED_OPERATION"
)

// StatusClientClosedRequest is the bare status (no body, no error code)
// written when a request's own context was cancelled before its answer: the
// client went away, or the host cancelled the request (registryd does when a
// shutdown runs out of time). Nobody reads that answer; the status is for
// the host's access log, where 499 reads as nginx's "client closed request".
const StatusClientClosedRequest = 499

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

// classify maps an error to an HTTP status and OCI code. ErrUnavailable
// comes first, since a store failure may wrap a cause of another class (a
// corrupt record is not the client's invalid input); then the specific
// registry errors, then the classes.
func classify(r *http.Request, rt route, err error) (int, string) {
	if rt.kind.acr() {
		if status, code, ok := classifyACR(rt, err); ok {
			return status, code
		}
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.status, se.code
	}
	switch {
	case errors.Is(err, registry.ErrBadUpstream):
		// The artifact cache's upstream refused the registry or sent bad
		// bytes: a gateway's failure, not the client's nor a busy server.
		return http.StatusBadGateway, CodeUnavailable
	case errors.Is(err, errdef.ErrUnavailable),
		// Canceled here is an operation the server cut short (the
		// request's own cancellation never reaches classify), and a
		// deadline is the host's or the server's, not the client's.
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, CodeUnavailable
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
	case errors.Is(err, registry.ErrSoftDeleted):
		// A push of a soft-deleted manifest: the message says to restore it.
		return http.StatusConflict, CodeManifestInvalid
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
		return http.StatusConflict, conflictCode(r, rt, err)
	case errors.Is(err, errdef.ErrPrecondition):
		if manifestRoute {
			// The specific ones (a missing blob or child) are above.
			return http.StatusBadRequest, CodeManifestInvalid
		}
		return http.StatusBadRequest, CodeBlobUploadInvalid
	}
	return http.StatusInternalServerError, ""
}

// conflictCode picks the OCI code of a 409: a concurrent change won (a tag
// compare-and-swap lost, an upload session held by another writer, a blob
// being garbage collected). The spec's table has no code for "retry", so the
// status says that and the code names what the request was about.
func conflictCode(r *http.Request, rt route, err error) string {
	switch rt.kind {
	case kindUpload, kindUploadStart:
		return CodeBlobUploadInvalid
	case kindManifest:
		switch {
		case errors.Is(err, registry.ErrCollecting):
			// A blob the manifest needs is going away: push it again.
			return CodeManifestBlobUnknown
		case r.Method == http.MethodPut:
			return CodeManifestInvalid
		}
		// A delete or read of a tag or manifest that changed under it.
		return CodeManifestUnknown
	case kindBlob:
		return CodeBlobUnknown
	case kindReferrers:
		return CodeManifestUnknown
	}
	return CodeNameUnknown
}

// cancelled reports whether err is the request's own cancellation: the
// operation stopped because the request's context was cancelled.
func cancelled(r *http.Request, err error) bool {
	return errors.Is(err, context.Canceled) && errors.Is(r.Context().Err(), context.Canceled)
}

// writeError is the one place that writes error responses.
// A cancelled request gets StatusClientClosedRequest and no body. The
// messages of 500 and 503 answers name files and stores, so the client gets a
// generic one and the log gets the error.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, rt route, err error) {
	if cancelled(r, err) {
		h.logger.DebugContext(r.Context(), "request cancelled", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Del("Content-Length")
		w.WriteHeader(StatusClientClosedRequest)
		return
	}
	status, code := classify(r, rt, err)
	msg := err.Error()
	switch code {
	case "":
		code = "UNKNOWN"
		msg = "internal error"
		h.logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	case CodeUnavailable:
		msg = "service unavailable, retry later"
		switch {
		case errors.Is(err, registry.ErrBadUpstream):
			msg = "the artifact cache's upstream refused the registry or sent bad content"
		case errors.Is(err, registry.ErrUpstreamUnavailable):
			msg = "the artifact cache's upstream is unavailable, retry later"
		}
		h.logger.WarnContext(r.Context(), "request failed: registry unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
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
	e := apiError{Code: code, Message: msg}
	if ch != nil {
		if d := scopeDetail(ch.Scope); len(d) > 0 {
			e.Detail = d // what the request needed, as ACR writes it
		}
	}
	if e.Detail == nil && rt.kind.acr() {
		e.Detail = struct{}{} // ACR's errors carry a detail object
	}
	_ = json.NewEncoder(w).Encode(errorBody{Errors: []apiError{e}})
}

// scopeAction is one entry of a challenge's error detail, as ACR and the
// distribution registry write it: what the request needed.
type scopeAction struct {
	Type   string
	Name   string
	Action string
}

// scopeDetail lists the actions of a challenge scope
// ("repository:team/app:pull,push"), one entry each.
func scopeDetail(scope string) []scopeAction {
	typ, rest, ok1 := strings.Cut(scope, ":")
	i := strings.LastIndexByte(rest, ':')
	if !ok1 || i < 0 {
		return nil
	}
	var out []scopeAction
	for _, a := range strings.Split(rest[i+1:], ",") {
		if a != "" {
			out = append(out, scopeAction{Type: typ, Name: rest[:i], Action: a})
		}
	}
	return out
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Errors []apiError `json:"errors"`
}
