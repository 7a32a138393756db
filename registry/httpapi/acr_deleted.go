package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry"
)

// The access the routes of soft-deleted items ask for: deleted/read to
// list, deleted/restore to restore. The deleted catalog is registry-wide
// (Access.Repository ""), as the catalog is.
var (
	acrDeletedRead    = []Action{ActionDeletedRead}
	acrDeletedRestore = []Action{ActionDeletedRestore}
)

// parseACRDeletedRoute parses what follows "/acr/v1/_deleted/": "_catalog",
// or a repository name (ending, as on the other ACR routes, at the first
// segment starting with "_") followed by "_tags", "_manifests" or
// "_manifests/{digest}".
func parseACRDeletedRoute(rest string) (route, bool) {
	if rest == "_catalog" {
		return route{kind: kindACRDeletedCatalog}, true
	}
	nameSegs, tail, ok := splitACRName(rest)
	if !ok {
		return route{}, false
	}
	var rt route
	switch {
	case len(tail) == 1 && tail[0] == "_tags":
		rt.kind = kindACRDeletedTags
	case len(tail) == 1 && tail[0] == "_manifests":
		rt.kind = kindACRDeletedManifests
	case len(tail) == 2 && tail[0] == "_manifests" && tail[1] != "":
		rt.kind, rt.ref = kindACRDeletedManifest, tail[1]
	default:
		return route{}, false
	}
	return unescapeACRRoute(rt, nameSegs)
}

// serveACRDeleted serves the routes of soft-deleted items. As on the other
// ACR routes, authorization comes before any lookup.
func (h *Handler) serveACRDeleted(w http.ResponseWriter, r *http.Request, rt route) error {
	ctx := r.Context()
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	var ep endpoint
	switch {
	case rt.kind == kindACRDeletedCatalog && get:
		if err := h.auth.Authorize(ctx, r, Access{Actions: acrDeletedRead}); err != nil {
			return err
		}
		return h.acrDeletedCatalog(w, r)
	case rt.kind == kindACRDeletedTags && get:
		ep = endpoint{acrDeletedRead, (*Handler).acrDeletedTags}
	case rt.kind == kindACRDeletedManifests && get:
		ep = endpoint{acrDeletedRead, (*Handler).acrDeletedManifests}
	case rt.kind == kindACRDeletedManifest && r.Method == http.MethodPost:
		ep = endpoint{acrDeletedRestore, (*Handler).acrRestore}
	default:
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

// deletedPaging reads n and last for a listing of deleted items: opts for
// the registry (last is its opaque cursor; no n asks for
// registry.DefaultDeletedPage) and none for n=0, which asks for an empty
// page.
func deletedPaging(r *http.Request) (opts registry.DeletedListOptions, none bool, err error) {
	n, last, err := paging(r)
	if err != nil {
		return opts, false, err
	}
	if n < 0 {
		n = registry.DefaultDeletedPage
	}
	return registry.DeletedListOptions{Cursor: last, N: n}, n == 0, nil
}

// acrDeletedCatalog serves GET /acr/v1/_deleted/_catalog: the soft-deleted
// repositories, newest first.
func (h *Handler) acrDeletedCatalog(w http.ResponseWriter, r *http.Request) error {
	opts, none, err := deletedPaging(r)
	if err != nil {
		return err
	}
	body := acrDeletedCatalogBody{Repositories: []acrDeletedRepository{}}
	if none {
		return writeJSON(w, r, "application/json", body)
	}
	page, next, err := h.reg.DeletedRepositories(r.Context(), opts)
	if err != nil {
		return err
	}
	for _, d := range page {
		body.Repositories = append(body.Repositories, acrDeletedRepository{
			Repository: d.Name, CreatedAt: acrTime(d.CreatedAt),
			DeletedAt: acrTime(d.DeletedAt), ExpiresAt: acrTime(d.ExpiresAt),
		})
	}
	if next != "" {
		nextLink(w, "/acr/v1/_deleted/_catalog", next, opts.N)
	}
	return writeJSON(w, r, "application/json", body)
}

// acrDeletedTags serves GET /acr/v1/_deleted/{name}/_tags: the tags
// untagged or deleted with their manifests, newest first (a tag deleted
// twice is listed twice).
func (h *Handler) acrDeletedTags(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	opts, none, err := deletedPaging(r)
	if err != nil {
		return err
	}
	body := acrDeletedTagList{Registry: r.Host, ImageName: rt.name, Tags: []acrDeletedTag{}}
	if none {
		return writeJSON(w, r, "application/json", body)
	}
	page, next, err := repo.DeletedTags(r.Context(), opts)
	if err != nil {
		return err
	}
	for _, d := range page {
		body.Tags = append(body.Tags, acrDeletedTag{
			Tag: d.Name, Digest: d.Digest.String(),
			DeletedAt: acrTime(d.DeletedAt), ExpiresAt: acrTime(d.ExpiresAt),
		})
	}
	if next != "" {
		nextLink(w, "/acr/v1/_deleted/"+rt.name+"/_tags", next, opts.N)
	}
	return writeJSON(w, r, "application/json", body)
}

// acrDeletedManifests serves GET /acr/v1/_deleted/{name}/_manifests: the
// soft-deleted manifests, newest first.
func (h *Handler) acrDeletedManifests(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	opts, none, err := deletedPaging(r)
	if err != nil {
		return err
	}
	body := acrDeletedManifestList{Registry: r.Host, ImageName: rt.name, Manifests: []acrDeletedManifest{}}
	if none {
		return writeJSON(w, r, "application/json", body)
	}
	page, next, err := repo.DeletedManifests(r.Context(), opts)
	if err != nil {
		return err
	}
	for _, d := range page {
		body.Manifests = append(body.Manifests, toACRDeletedManifest(d))
	}
	if next != "" {
		nextLink(w, "/acr/v1/_deleted/"+rt.name+"/_manifests", next, opts.N)
	}
	return writeJSON(w, r, "application/json", body)
}

// acrRestore serves POST /acr/v1/_deleted/{name}/_manifests/{digest}
// ?force=true|false with an optional body {"tag": "..."}: it restores the
// manifest (with every tag it carried, or only the tag named) and answers
// 200 with what came back.
func (h *Handler) acrRestore(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	d, err := acrDigest(rt.ref)
	if err != nil {
		return err
	}
	force := false
	if s := r.URL.Query().Get("force"); s != "" {
		if force, err = strconv.ParseBool(s); err != nil {
			return withCode(http.StatusBadRequest, CodeUnsupported, fmt.Errorf("httpapi: bad force=%q: want true or false", s))
		}
	}
	tagName, err := readRestoreBody(r)
	if err != nil {
		return err
	}
	res, err := repo.Restore(r.Context(), registry.RestoreOptions{Digest: d, Tag: tagName, Force: force})
	if err != nil {
		return err
	}
	body := acrRestored{
		Registry: r.Host, ImageName: rt.name, Digest: res.Digest.String(),
		ManifestRestored: res.Manifest, RepositoryRestored: res.Repository,
		Tags: res.Tags, OverwrittenTags: []acrOverwrittenTag{}, DeletedManifests: []string{},
	}
	if body.Tags == nil {
		body.Tags = []string{}
	}
	for _, o := range res.Overwritten {
		body.OverwrittenTags = append(body.OverwrittenTags, acrOverwrittenTag{Tag: o.Name, Digest: o.Digest.String()})
	}
	for _, m := range res.Deleted {
		body.DeletedManifests = append(body.DeletedManifests, m.String())
	}
	return writeJSON(w, r, "application/json", body)
}

var errRestoreBody = errors.New(`httpapi: restore body: want nothing, or a JSON object such as {"tag":"v1"}`)

// readRestoreBody reads a restore's optional body: nothing, or a JSON
// object whose "tag" names the one tag to restore (other fields are
// ignored).
func readRestoreBody(r *http.Request) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxPatchBody+1))
	if err != nil {
		return "", withCode(http.StatusBadRequest, CodeUnsupported, fmt.Errorf("httpapi: reading restore body: %w", err))
	}
	if int64(len(b)) > maxPatchBody {
		return "", withCode(http.StatusBadRequest, CodeUnsupported, fmt.Errorf("httpapi: restore body too large: %w", errdef.ErrInvalid))
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", nil
	}
	if b[0] != '{' {
		return "", withCode(http.StatusBadRequest, CodeUnsupported, errRestoreBody)
	}
	var body struct {
		Tag string `json:"tag"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&body); err != nil {
		return "", withCode(http.StatusBadRequest, CodeUnsupported, fmt.Errorf("%w: %w: %w", errRestoreBody, errdef.ErrInvalid, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", withCode(http.StatusBadRequest, CodeUnsupported, fmt.Errorf("%w: %w: trailing data", errRestoreBody, errdef.ErrInvalid))
	}
	return body.Tag, nil
}

// classifyACRDeleted maps the refusals of a restore: items it needs first
// (an index's children, a referrer's subject; the message names them) and
// a blob that has gone are 409 MANIFEST_UNKNOWN and MANIFEST_BLOB_UNKNOWN; a
// tag that points elsewhere without force is 409 UNSUPPORTED (the message
// says to force it). A lock was mapped before (405
// REGISTRY_DISALLOWED_OPERATION); the rest map as on the other ACR routes.
func classifyACRDeleted(err error) (status int, code string, ok bool) {
	switch {
	case errors.Is(err, registry.ErrRestoreBlocked):
		return http.StatusConflict, CodeManifestUnknown, true
	case errors.Is(err, registry.ErrManifestBlobUnknown):
		return http.StatusConflict, CodeManifestBlobUnknown, true
	case errors.Is(err, errdef.ErrConflict):
		return http.StatusConflict, CodeUnsupported, true
	}
	return 0, "", false
}
