package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/tag"
)

// ACR's error codes for an unknown tag and an invalid tag, beside the
// distribution spec's.
const (
	CodeTagUnknown = "TAG_UNKNOWN"
	CodeTagInvalid = "TAG_INVALID"
)

// The access each ACR route asks for: metadata/read to read properties and
// lists, metadata/write to change attributes, content/delete to delete a
// repository or manifest. Untagging asks what a /v2/ untag asks (OCI delete
// and metadata/write), so both routes need the same permission.
var (
	acrRead        = []Action{ActionMetadataRead}
	acrWrite       = []Action{ActionMetadataWrite}
	acrDelete      = []Action{ActionContentDelete}
	acrUntag       = untag
	maxPatchBody   = int64(64 << 10)
	errEmptyPatch  = errors.New("httpapi: PATCH needs a JSON object of changeable attributes")
	errPatchTooBig = errors.New("httpapi: PATCH body too large")
)

// serveACR serves a route of ACR's data-plane API (/acr/v1/). The
// api-version parameter is accepted and ignored. Authorization comes before
// any lookup, so a refused request learns nothing about the repository.
func (h *Handler) serveACR(w http.ResponseWriter, r *http.Request, rt route) error {
	ctx := r.Context()
	if rt.kind.deleted() {
		return h.serveACRDeleted(w, r, rt)
	}
	if rt.kind == kindACRCatalog {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return methodNotAllowed(w, rt.kind)
		}
		if err := h.auth.Authorize(ctx, r, Access{Actions: acrRead}); err != nil {
			return err
		}
		return h.acrCatalog(w, r)
	}
	ep, ok := acrEndpointFor(rt, r.Method)
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

// acrEndpointFor picks the endpoint of an ACR route and method.
func acrEndpointFor(rt route, m string) (endpoint, bool) {
	get := m == http.MethodGet || m == http.MethodHead
	switch rt.kind {
	case kindACRRepo:
		switch {
		case get:
			return endpoint{acrRead, (*Handler).acrRepoGet}, true
		case m == http.MethodPatch:
			return endpoint{acrWrite, (*Handler).acrRepoPatch}, true
		case m == http.MethodDelete:
			return endpoint{acrDelete, (*Handler).acrRepoDelete}, true
		}
	case kindACRTags:
		if get {
			return endpoint{acrRead, (*Handler).acrTagsList}, true
		}
	case kindACRTag:
		switch {
		case get:
			return endpoint{acrRead, (*Handler).acrTagGet}, true
		case m == http.MethodPatch:
			return endpoint{acrWrite, (*Handler).acrTagPatch}, true
		case m == http.MethodDelete:
			return endpoint{acrUntag, (*Handler).acrTagDelete}, true
		}
	case kindACRManifests:
		if get {
			return endpoint{acrRead, (*Handler).acrManifestsList}, true
		}
	case kindACRManifest:
		switch {
		case get:
			return endpoint{acrRead, (*Handler).acrManifestGet}, true
		case m == http.MethodPatch:
			return endpoint{acrWrite, (*Handler).acrManifestPatch}, true
		case m == http.MethodDelete:
			return endpoint{acrDelete, (*Handler).acrManifestDelete}, true
		}
	}
	return endpoint{}, false
}

// acrCatalog serves GET /acr/v1/_catalog: names after last, at most n, with
// a relative Link to the next page.
func (h *Handler) acrCatalog(w http.ResponseWriter, r *http.Request) error {
	repos, err := page(w, r, "/acr/v1/_catalog", func(last string, limit int) ([]string, error) {
		return h.reg.Repositories(r.Context(), last, limit)
	})
	if err != nil {
		return err
	}
	return writeJSON(w, r, "application/json", struct {
		Repositories []string `json:"repositories"`
	}{repos})
}

func (h *Handler) acrRepoGet(w http.ResponseWriter, r *http.Request, repo *registry.Repository, _ route) error {
	p, err := repo.Properties(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, r, "application/json", toACRRepository(r.Host, p))
}

func (h *Handler) acrRepoPatch(w http.ResponseWriter, r *http.Request, repo *registry.Repository, _ route) error {
	patch, err := readPatch(r)
	if err != nil {
		return err
	}
	p, err := repo.SetAttributes(r.Context(), patch)
	if err != nil {
		return err
	}
	return writeJSON(w, r, "application/json", toACRRepository(r.Host, p))
}

// acrRepoDelete deletes a repository and answers 202 with what went.
func (h *Handler) acrRepoDelete(w http.ResponseWriter, r *http.Request, repo *registry.Repository, _ route) error {
	rep, err := h.reg.DeleteRepositoryReport(r.Context(), repo.Name())
	if err != nil {
		return err
	}
	body := acrDeleted{ManifestsDeleted: make([]string, 0, len(rep.Manifests)), TagsDeleted: rep.Tags}
	for _, d := range rep.Manifests {
		body.ManifestsDeleted = append(body.ManifestsDeleted, d.String())
	}
	if body.TagsDeleted == nil {
		body.TagsDeleted = []string{}
	}
	return writeJSONStatus(w, r, http.StatusAccepted, body)
}

// pageOptions reads n, last, orderby and (for tags) digest. none is true
// for n=0, which asks for an empty page.
func pageOptions(r *http.Request, withDigest bool) (opts registry.PageOptions, none bool, err error) {
	n, last, err := paging(r)
	if err != nil {
		return opts, false, err
	}
	q := r.URL.Query()
	order, err := registry.ParseListOrder(q.Get("orderby"))
	if err != nil {
		return opts, false, withCode(http.StatusBadRequest, CodeUnsupported, err)
	}
	opts = registry.PageOptions{Last: last, N: n, Order: order}
	if s := q.Get("digest"); s != "" && withDigest {
		if opts.Digest, err = parseDigest(s); err != nil {
			return opts, false, err
		}
	}
	if n == 0 {
		// Still read one entry, so a missing repository is NAME_UNKNOWN.
		opts.N = 1
	}
	return opts, n == 0, nil
}

// acrNextLink sets the relative Link header of the page after next,
// keeping the request's orderby and digest.
func acrNextLink(w http.ResponseWriter, r *http.Request, path, next string, n int) {
	q := url.Values{}
	q.Set("last", next)
	q.Set("n", strconv.Itoa(n))
	in := r.URL.Query()
	for _, k := range []string{"orderby", "digest"} {
		if v := in.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	w.Header().Set("Link", "<"+path+"?"+q.Encode()+`>; rel="next"`)
}

func (h *Handler) acrTagsList(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	opts, none, err := pageOptions(r, true)
	if err != nil {
		return err
	}
	pg, err := repo.Tags().Page(r.Context(), opts)
	if err != nil {
		return err
	}
	body := acrTagList{Registry: r.Host, ImageName: rt.name, Tags: []acrTag{}}
	if !none {
		for _, t := range pg.Tags {
			body.Tags = append(body.Tags, toACRTag(t))
		}
		if pg.Next != "" {
			acrNextLink(w, r, "/acr/v1/"+rt.name+"/_tags", pg.Next, opts.N)
		}
	}
	return writeJSON(w, r, "application/json", body)
}

func (h *Handler) acrTagGet(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	p, err := repo.Tags().Properties(r.Context(), rt.ref)
	if err != nil {
		return err
	}
	return writeJSON(w, r, "application/json", acrTagProperties{Registry: r.Host, ImageName: rt.name, Tag: toACRTag(p)})
}

func (h *Handler) acrTagPatch(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	patch, err := readPatch(r)
	if err != nil {
		return err
	}
	p, err := repo.Tags().SetAttributes(r.Context(), rt.ref, patch)
	if err != nil {
		return err
	}
	return writeJSON(w, r, "application/json", acrTagProperties{Registry: r.Host, ImageName: rt.name, Tag: toACRTag(p)})
}

// acrTagDelete removes the tag only (its manifest stays) and answers 202.
func (h *Handler) acrTagDelete(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	if err := repo.Tags().Untag(r.Context(), rt.ref); err != nil {
		return err
	}
	return accepted(w)
}

func (h *Handler) acrManifestsList(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	opts, none, err := pageOptions(r, false)
	if err != nil {
		return err
	}
	pg, err := repo.Manifests().Page(r.Context(), opts)
	if err != nil {
		return err
	}
	body := acrManifestList{Registry: r.Host, ImageName: rt.name, Manifests: []acrManifest{}}
	if !none {
		for _, m := range pg.Manifests {
			body.Manifests = append(body.Manifests, toACRManifest(m))
		}
		if pg.Next != "" {
			acrNextLink(w, r, "/acr/v1/"+rt.name+"/_manifests", pg.Next, opts.N)
		}
	}
	return writeJSON(w, r, "application/json", body)
}

// acrDigest reads the digest of a manifest route; the API names manifests
// by digest only.
func acrDigest(ref string) (digest.Digest, error) { return parseDigest(ref) }

func (h *Handler) acrManifestGet(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	d, err := acrDigest(rt.ref)
	if err != nil {
		return err
	}
	p, err := repo.Manifests().Properties(r.Context(), d)
	if err != nil {
		return err
	}
	return writeJSON(w, r, "application/json", acrManifestProperties{Registry: r.Host, ImageName: rt.name, Manifest: toACRManifest(p)})
}

func (h *Handler) acrManifestPatch(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	d, err := acrDigest(rt.ref)
	if err != nil {
		return err
	}
	patch, err := readPatch(r)
	if err != nil {
		return err
	}
	p, err := repo.Manifests().SetAttributes(r.Context(), d, patch)
	if err != nil {
		return err
	}
	return writeJSON(w, r, "application/json", acrManifestProperties{Registry: r.Host, ImageName: rt.name, Manifest: toACRManifest(p)})
}

// acrManifestDelete deletes a manifest with its tags and referrers, as
// DELETE /v2/<name>/manifests/<digest> does, and answers 202.
func (h *Handler) acrManifestDelete(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	d, err := acrDigest(rt.ref)
	if err != nil {
		return err
	}
	if err := repo.Manifests().Delete(r.Context(), d); err != nil {
		return err
	}
	return accepted(w)
}

func accepted(w http.ResponseWriter) error {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// readPatch reads a PATCH body: a JSON object with any of deleteEnabled,
// writeEnabled, readEnabled and listEnabled (other fields are ignored). An
// empty body is refused rather than read as "no change": a client that lost
// its body (the Azure SDK sends its first request of a kind without one
// until it holds a token) must not be told its change was made.
func readPatch(r *http.Request) (tag.Patch, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxPatchBody+1))
	if err != nil {
		return tag.Patch{}, withCode(http.StatusBadRequest, CodeUnsupported, fmt.Errorf("httpapi: reading PATCH body: %w", err))
	}
	if int64(len(b)) > maxPatchBody {
		return tag.Patch{}, withCode(http.StatusBadRequest, CodeUnsupported, errPatchTooBig)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return tag.Patch{}, withCode(http.StatusBadRequest, CodeUnsupported, errEmptyPatch)
	}
	var p tag.Patch
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&p); err != nil {
		return tag.Patch{}, withCode(http.StatusBadRequest, CodeUnsupported, fmt.Errorf("httpapi: PATCH body: %w: %w", errdef.ErrInvalid, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return tag.Patch{}, withCode(http.StatusBadRequest, CodeUnsupported, fmt.Errorf("httpapi: PATCH body: %w: trailing data", errdef.ErrInvalid))
	}
	return p, nil
}

// writeJSONStatus writes v as JSON with status.
func writeJSONStatus(w http.ResponseWriter, r *http.Request, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
	return nil
}

// classifyACR maps the errors whose answer differs on ACR's routes: a lock
// refuses with 405 REGISTRY_DISALLOWED_OPERATION, an unknown tag is
// TAG_UNKNOWN. ok is false for the rest, which classify maps as on /v2/.
func classifyACR(rt route, err error) (status int, code string, ok bool) {
	var se *statusError
	switch {
	case errors.As(err, &se), errors.Is(err, errdef.ErrUnavailable):
		return 0, "", false
	case errors.Is(err, errdef.ErrLocked):
		return http.StatusMethodNotAllowed, CodeDisallowed, true
	case errors.Is(err, registry.ErrManifestUnknown) && rt.kind == kindACRTag:
		return http.StatusNotFound, CodeTagUnknown, true
	case errors.Is(err, registry.ErrTagInvalid):
		return http.StatusBadRequest, CodeTagInvalid, true
	case errors.Is(err, registry.ErrNameInvalid):
		return http.StatusBadRequest, CodeNameInvalid, true
	case errors.Is(err, errdef.ErrInvalid):
		// A cursor or parameter the registry refused.
		return http.StatusBadRequest, CodeUnsupported, true
	case rt.kind.deleted():
		return classifyACRDeleted(err)
	}
	return 0, "", false
}
