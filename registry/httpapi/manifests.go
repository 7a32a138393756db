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
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/manifest"
	"github.com/regkit/regkit/registry"
)

// getManifest serves GET and HEAD of a manifest by tag or digest.
func (h *Handler) getManifest(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	ctx := r.Context()
	var desc ocispec.Descriptor
	var body []byte
	opts := registry.GetOptions{Accept: acceptList(r)}
	if r.Method == http.MethodHead {
		d, err := repo.Manifests().Stat(ctx, rt.ref, opts)
		if err != nil {
			return err
		}
		desc = d
	} else {
		m, err := repo.Manifests().Get(ctx, rt.ref, opts)
		if err != nil {
			return err
		}
		desc, body = m.Descriptor, m.Bytes
	}
	hd := w.Header()
	hd.Set("Content-Type", desc.MediaType)
	hd.Set("Content-Length", strconv.FormatInt(desc.Size, 10))
	hd.Set("Docker-Content-Digest", desc.Digest.String())
	hd.Set("ETag", `"`+desc.Digest.String()+`"`)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

// acceptList splits the Accept headers into media types.
func acceptList(r *http.Request) []string {
	var out []string
	for _, h := range r.Header.Values("Accept") {
		for _, part := range strings.Split(h, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// putManifest serves PUT of a manifest by tag or digest.
func (h *Handler) putManifest(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	if rt.ref == "" {
		return withCode(http.StatusBadRequest, CodeManifestInvalid, errors.New("httpapi: manifest PUT needs a tag or digest"))
	}
	if r.ContentLength > h.maxManifest {
		return withCode(http.StatusRequestEntityTooLarge, CodeManifestInvalid,
			fmt.Errorf("httpapi: manifest of %d bytes is over the limit of %d: %w", r.ContentLength, h.maxManifest, registry.ErrTooLarge))
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, h.maxManifest+1))
	if err != nil {
		return withCode(http.StatusBadRequest, CodeManifestInvalid, fmt.Errorf("httpapi: reading manifest: %w", err))
	}
	if n > h.maxManifest {
		return withCode(http.StatusRequestEntityTooLarge, CodeManifestInvalid,
			fmt.Errorf("httpapi: manifest is over the limit of %d bytes: %w", h.maxManifest, registry.ErrTooLarge))
	}
	opts := registry.PutOptions{MediaType: r.Header.Get("Content-Type")}
	if isDigest(rt.ref) {
		d, err := parseDigest(rt.ref)
		if err != nil {
			return err
		}
		opts.Digest = d
		opts.Tags = r.URL.Query()["tag"]
	} else {
		opts.Tag = rt.ref
	}
	data := buf.Bytes()
	desc, err := repo.Manifests().Put(r.Context(), data, opts)
	if err != nil {
		return err
	}
	hd := w.Header()
	if bytes.Contains(data, []byte(`"subject"`)) {
		// Only referrers pay for a second parse, to name their subject.
		if m, perr := manifest.Parse(desc.MediaType, data, &manifest.Options{AllowUnknown: true, AllowSchema1: true, MaxSize: h.maxManifest}); perr == nil {
			if s := m.Subject(); s != nil {
				hd.Set("OCI-Subject", s.Digest.String())
			}
		}
	}
	for _, tg := range opts.Tags {
		hd.Add("OCI-Tag", tg)
	}
	hd.Set("Location", "/v2/"+rt.name+"/manifests/"+desc.Digest.String())
	hd.Set("Docker-Content-Digest", desc.Digest.String())
	hd.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

// deleteManifest deletes a manifest by digest, or removes a tag.
func (h *Handler) deleteManifest(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	ctx := r.Context()
	var err error
	if isDigest(rt.ref) {
		var d digest.Digest
		if d, err = parseDigest(rt.ref); err != nil {
			return err
		}
		err = repo.Manifests().Delete(ctx, d)
	} else {
		err = repo.Tags().Untag(ctx, rt.ref)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// paging reads n and last; n < 0 means no limit was given.
func paging(r *http.Request) (n int, last string, err error) {
	q := r.URL.Query()
	last = q.Get("last")
	n = -1
	if s := q.Get("n"); s != "" {
		v, perr := strconv.Atoi(s)
		if perr != nil || v < 0 {
			return 0, "", withCode(http.StatusBadRequest, CodeUnsupported, fmt.Errorf("httpapi: bad n=%q", s))
		}
		n = min(v, 10000)
	}
	return n, last, nil
}

// nextLink sets a relative Link header for the page after last.
func nextLink(w http.ResponseWriter, path, last string, n int) {
	q := url.Values{}
	q.Set("last", last)
	q.Set("n", strconv.Itoa(n))
	w.Header().Set("Link", "<"+path+"?"+q.Encode()+`>; rel="next"`)
}

func writeJSON(w http.ResponseWriter, r *http.Request, contentType string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
	return nil
}

// tagsList serves GET .../tags/list with n/last pagination.
func (h *Handler) tagsList(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	ctx := r.Context()
	if _, err := repo.Properties(ctx); err != nil {
		return err
	}
	tags, err := page(w, r, "/v2/"+rt.name+"/tags/list", func(last string, limit int) ([]string, error) {
		return repo.Tags().List(ctx, registry.ListOptions{Last: last, N: limit})
	})
	if err != nil {
		return err
	}
	return writeJSON(w, r, "application/json", struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{rt.name, tags})
}

// catalog serves GET /v2/_catalog with n/last pagination.
func (h *Handler) catalog(w http.ResponseWriter, r *http.Request) error {
	repos, err := page(w, r, "/v2/_catalog", func(last string, limit int) ([]string, error) {
		return h.reg.Repositories(r.Context(), last, limit)
	})
	if err != nil {
		return err
	}
	return writeJSON(w, r, "application/json", struct {
		Repositories []string `json:"repositories"`
	}{repos})
}

// page reads one page of a name listing as n and last ask: it fetches one
// name more than n to learn whether a next page exists, and then sets the
// relative Link header to it. The result is never nil (JSON []).
func page(w http.ResponseWriter, r *http.Request, path string, fetch func(last string, limit int) ([]string, error)) ([]string, error) {
	n, last, err := paging(r)
	if err != nil || n == 0 {
		return []string{}, err
	}
	limit := 0 // n < 0: no limit
	if n > 0 {
		limit = n + 1
	}
	got, err := fetch(last, limit)
	if err != nil {
		return nil, err
	}
	if n > 0 && len(got) > n {
		got = got[:n]
		nextLink(w, path, got[n-1], n)
	}
	if got == nil {
		got = []string{}
	}
	return got, nil
}

// referrers serves GET .../referrers/<digest>, filtered by artifactType.
func (h *Handler) referrers(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	d, err := parseDigest(rt.ref)
	if err != nil {
		return err
	}
	at := r.URL.Query().Get("artifactType")
	descs, err := repo.Manifests().Referrers(r.Context(), d, at)
	if err != nil {
		return err
	}
	if descs == nil {
		descs = []ocispec.Descriptor{}
	}
	if at != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	return writeJSON(w, r, ocispec.MediaTypeImageIndex, struct {
		SchemaVersion int                  `json:"schemaVersion"`
		MediaType     string               `json:"mediaType"`
		Manifests     []ocispec.Descriptor `json:"manifests"`
	}{2, ocispec.MediaTypeImageIndex, descs})
}
