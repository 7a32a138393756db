package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/registry"
)

func isDigest(ref string) bool { return strings.Contains(ref, ":") }

func parseDigest(s string) (digest.Digest, error) {
	d, err := blob.ParseDigest(s)
	if err != nil {
		return "", withCode(http.StatusBadRequest, CodeDigestInvalid, err)
	}
	return d, nil
}

// getBlob serves GET and HEAD of a blob, with ranges, through
// http.ServeContent (or a redirect when the storage offers one).
func (h *Handler) getBlob(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	d, err := parseDigest(rt.ref)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if rd, ok := h.reg.Blobs().(blob.Redirector); ok && r.Method == http.MethodGet {
		if _, err := repo.Blobs().Stat(ctx, d); err != nil {
			return err
		}
		if u, err := rd.RedirectURL(ctx, d, 15*time.Minute); err == nil {
			w.Header().Set("Docker-Content-Digest", d.String())
			http.Redirect(w, r, u, http.StatusTemporaryRedirect)
			return nil
		}
	}
	hd := w.Header()
	hd.Set("Docker-Content-Digest", d.String())
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("ETag", `"`+d.String()+`"`)
	hd.Set("Cache-Control", "max-age=31536000")
	hd.Set("Accept-Ranges", "bytes")
	if r.Method == http.MethodHead {
		info, err := repo.Blobs().Stat(ctx, d)
		if err != nil {
			return err
		}
		hd.Set("Content-Length", strconv.FormatInt(info.Size, 10))
		w.WriteHeader(http.StatusOK)
		return nil
	}
	ra, err := repo.Blobs().Open(ctx, d)
	if err != nil {
		return err
	}
	defer ra.Close()
	var body io.ReadSeeker = io.NewSectionReader(ra, 0, ra.Size())
	if f, ok := ra.(blob.Filer); ok {
		// A plain file: the response writer sends it with sendfile.
		body = f.File()
	}
	if plainGet(r) {
		// The common case: the whole blob, no conditions. Skip
		// ServeContent's header parsing and seeks.
		hd.Set("Content-Length", strconv.FormatInt(ra.Size(), 10))
		w.WriteHeader(http.StatusOK)
		if f, ok := body.(*os.File); ok {
			_ = sendFile(w, f, ra.Size(), loopbackConn(r))
			return nil
		}
		// Through the response's buffer: a small blob leaves in the same
		// write as the headers.
		bp := h.bufs.Get().(*[]byte)
		_, _ = io.CopyBuffer(onlyWriter{w}, onlyReader{body}, *bp)
		h.bufs.Put(bp)
		return nil
	}
	http.ServeContent(&contentErrors{ResponseWriter: w}, r, "", time.Time{}, body)
	return nil
}

// plainGet reports whether r asks for the whole body unconditionally.
func plainGet(r *http.Request) bool {
	h := r.Header
	return h.Get("Range") == "" && h.Get("If-Match") == "" && h.Get("If-None-Match") == "" &&
		h.Get("If-Modified-Since") == "" && h.Get("If-Unmodified-Since") == "" && h.Get("If-Range") == ""
}

// contentErrors turns the plain-text errors http.ServeContent writes (416
// for a bad Range, 412 for a failed precondition) into the API's JSON error
// body, keeping ServeContent's status and Content-Range.
type contentErrors struct {
	http.ResponseWriter
	failed bool
}

func (c *contentErrors) WriteHeader(status int) {
	if status < 400 {
		c.ResponseWriter.WriteHeader(status)
		return
	}
	c.failed = true
	hd := c.Header()
	hd.Del("Content-Length")
	hd.Del("X-Content-Type-Options")
	hd.Set("Content-Type", "application/json")
	c.ResponseWriter.WriteHeader(status)
	msg := http.StatusText(status)
	if status == http.StatusRequestedRangeNotSatisfiable {
		msg = "requested range not satisfiable"
	}
	_ = json.NewEncoder(c.ResponseWriter).Encode(errorBody{Errors: []apiError{{Code: CodeBlobUnknown, Message: msg}}})
}

func (c *contentErrors) Write(p []byte) (int, error) {
	if c.failed {
		return len(p), nil // ServeContent's plain-text message
	}
	return c.ResponseWriter.Write(p)
}

// ReadFrom keeps the ResponseWriter's sendfile path for blob bodies.
func (c *contentErrors) ReadFrom(r io.Reader) (int64, error) {
	if c.failed {
		return io.Copy(io.Discard, r)
	}
	return io.Copy(c.ResponseWriter, r)
}

// deleteBlob removes the blob from the repository.
func (h *Handler) deleteBlob(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	d, err := parseDigest(rt.ref)
	if err != nil {
		return err
	}
	if err := repo.Blobs().Delete(r.Context(), d); err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func uploadLocation(name, id string) string { return "/v2/" + name + "/blobs/uploads/" + id }

func blobLocation(name string, d digest.Digest) string { return "/v2/" + name + "/blobs/" + d.String() }

// startUpload serves POST .../blobs/uploads/: a mount (?mount=&from=), a
// monolithic upload (?digest=), or a new session.
func (h *Handler) startUpload(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	ctx := r.Context()
	q := r.URL.Query()
	if mount := q.Get("mount"); mount != "" {
		d, err := parseDigest(mount)
		if err != nil {
			return err
		}
		from := q.Get("from")
		allowed := false
		switch {
		case from == "":
			allowed = h.anonymousMount
		case registry.ValidateName(from) == nil:
			allowed = h.auth.Authorize(ctx, r, Access{Repository: from, Actions: []Action{ActionPull, ActionContentRead}}) == nil
		}
		if allowed {
			_, err := repo.Blobs().Mount(ctx, d, from)
			if err == nil {
				return created(w, blobLocation(rt.name, d), d)
			}
			if !errors.Is(err, registry.ErrBlobUnknown) && !errors.Is(err, registry.ErrLocked) {
				return err
			}
		}
		// Fall back to a session, as the spec says.
	}
	if ds := q.Get("digest"); ds != "" {
		d, err := parseDigest(ds)
		if err != nil {
			return err
		}
		body := &bodyReader{r: r.Body}
		if _, err := repo.Blobs().Put(ctx, d, r.ContentLength, body); err != nil {
			if body.err != nil {
				return badBody(body.err)
			}
			return err
		}
		return created(w, blobLocation(rt.name, d), d)
	}
	var opts []blob.WriterOption
	if alg := q.Get("digest-algorithm"); alg != "" {
		opts = append(opts, blob.WithAlgorithm(digest.Algorithm(alg)))
	}
	u, err := repo.Blobs().StartUpload(ctx, opts...)
	if err != nil {
		return err
	}
	if r.ContentLength != 0 {
		// A body on POST without a digest (of known length or chunked) is
		// appended to the new session.
		if err := h.copyBody(u, r.Body); err != nil {
			setUploadHeaders(w, rt.name, u.ID(), u.Size()) // as for PATCH
			u.Close()
			return err
		}
	}
	size := u.Size()
	if err := u.Close(); err != nil {
		return err
	}
	return uploadAccepted(w, rt.name, u.ID(), size)
}

func created(w http.ResponseWriter, loc string, d digest.Digest) error {
	hd := w.Header()
	hd.Set("Location", loc)
	hd.Set("Docker-Content-Digest", d.String())
	hd.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

func uploadAccepted(w http.ResponseWriter, name, id string, size int64) error {
	setUploadHeaders(w, name, id, size)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func setUploadHeaders(w http.ResponseWriter, name, id string, size int64) {
	hd := w.Header()
	hd.Set("Location", uploadLocation(name, id))
	hd.Set("Docker-Upload-UUID", id)
	hd.Set("Range", fmt.Sprintf("0-%d", max(size-1, 0)))
	hd.Set("Content-Length", "0")
}

// uploadStatus serves GET of a session: 204 with the Range received so far.
func (h *Handler) uploadStatus(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	u, err := repo.Blobs().ResumeUpload(r.Context(), rt.ref)
	if err != nil {
		return err
	}
	size := u.Size()
	if err := u.Close(); err != nil {
		return err
	}
	setUploadHeaders(w, rt.name, rt.ref, size)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// patchUpload appends a chunk (with Content-Range) or a stream (without).
func (h *Handler) patchUpload(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	u, err := repo.Blobs().ResumeUpload(r.Context(), rt.ref)
	if err != nil {
		return err
	}
	defer u.Close()
	if cr := r.Header.Get("Content-Range"); cr != "" {
		// The body must carry exactly the bytes the range declares, checked
		// before any is written: a body-less request with a range (the
		// Azure SDK's first request, sent without its body to draw an
		// authentication challenge) must not pass for an empty chunk. A body
		// of unknown length cannot be checked up front, so a chunk with a
		// range needs a Content-Length.
		start, end, ok := parseContentRange(cr)
		if !ok || start != u.Size() || end-start+1 != r.ContentLength {
			setUploadHeaders(w, rt.name, rt.ref, u.Size())
			return withCode(http.StatusRequestedRangeNotSatisfiable, CodeBlobUploadInvalid,
				fmt.Errorf("httpapi: chunk %q with a body of %d bytes does not continue the upload at offset %d", cr, r.ContentLength, u.Size()))
		}
	}
	if err := h.copyBody(u, r.Body); err != nil {
		// The bytes read before the failure stay in the session: its
		// Range tells the client where to resume.
		setUploadHeaders(w, rt.name, rt.ref, u.Size())
		return err
	}
	size := u.Size()
	if err := u.Close(); err != nil {
		return err
	}
	return uploadAccepted(w, rt.name, rt.ref, size)
}

// putUpload appends an optional last chunk and commits the session.
func (h *Handler) putUpload(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	d, err := parseDigest(r.URL.Query().Get("digest"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	u, err := repo.Blobs().ResumeUpload(ctx, rt.ref)
	if err != nil {
		return err
	}
	defer u.Close()
	if cr := r.Header.Get("Content-Range"); cr != "" {
		if start, _, ok := parseContentRange(cr); !ok || start != u.Size() {
			setUploadHeaders(w, rt.name, rt.ref, u.Size())
			return withCode(http.StatusRequestedRangeNotSatisfiable, CodeBlobUploadInvalid,
				fmt.Errorf("httpapi: chunk %q does not continue the upload at offset %d", cr, u.Size()))
		}
	}
	if err := h.copyBody(u, r.Body); err != nil {
		setUploadHeaders(w, rt.name, rt.ref, u.Size()) // as for PATCH
		return err
	}
	if _, err := u.Commit(ctx, d, -1); err != nil {
		return err
	}
	return created(w, blobLocation(rt.name, d), d)
}

// cancelUpload serves DELETE of a session.
func (h *Handler) cancelUpload(w http.ResponseWriter, r *http.Request, repo *registry.Repository, rt route) error {
	if err := repo.Blobs().CancelUpload(r.Context(), rt.ref); err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// copyBody streams a request body into an upload with blob.Copy, which
// overlaps reading the body with the storage's hashing and writing. A body
// cut short (the client went away before Content-Length bytes, or before a
// chunked body's last chunk) is a 400, never a complete upload; a storage
// failure is returned wrapped. It watches no context: a client that goes
// away fails the body's reads, which is what tells the two cases apart.
func (h *Handler) copyBody(dst io.Writer, body io.Reader) error {
	br := &bodyReader{r: body}
	if _, err := blob.Copy(context.Background(), dst, br); err != nil {
		if br.err != nil {
			return badBody(br.err)
		}
		return fmt.Errorf("httpapi: storing upload: %w", err)
	}
	return nil
}

// badBody is the error for a request body that could not be read whole.
func badBody(err error) error {
	return withCode(http.StatusBadRequest, CodeBlobUploadInvalid, fmt.Errorf("httpapi: reading upload body: %w", err))
}

// bodyReader remembers the first error reading a request body, so a failed
// Put can tell the client's fault (400) from the storage's.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// onlyReader hides WriterTo/ReaderFrom so CopyBuffer uses our buffer.
type onlyReader struct{ io.Reader }

// onlyWriter hides the ResponseWriter's ReadFrom, which flushes headers
// on their own before copying.
type onlyWriter struct{ io.Writer }

// parseContentRange reads "start-end" (optionally "bytes start-end").
func parseContentRange(s string) (start, end int64, ok bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "bytes ")
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	var err1, err2 error
	start, err1 = strconv.ParseInt(a, 10, 64)
	end, err2 = strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, false
	}
	return start, end, true
}
