package httpapi_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/internal/settle"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
)

// mib is the size of blob.Copy's buffer: it switches to reading ahead on a
// second buffer once a body fills one.
const mib = 1 << 20

// copyBodySizes straddle the buffer size and span several buffers.
var copyBodySizes = []int{0, 1, mib - 1, mib, mib + 1, 3*mib + 12345}

// randomBytes returns n reproducible, incompressible bytes.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// seenRequest is what the server saw of one upload request's body.
type seenRequest struct {
	method           string
	contentLength    int64
	transferEncoding []string
}

// uploadServer is a handler over a registry behind a real HTTP server, so
// bodies of unknown length really arrive with chunked transfer encoding.
type uploadServer struct {
	url    string
	client *http.Client

	mu   sync.Mutex
	seen []seenRequest
}

func (s *uploadServer) requests() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.seen...)
}

// uploadBackends are the storages the size tests run against.
var uploadBackends = []struct {
	name string
	open func(t *testing.T) *registry.Registry
}{
	{"memory", func(t *testing.T) *registry.Registry {
		reg, err := registry.NewMemory()
		if err != nil {
			t.Fatal(err)
		}
		return reg
	}},
	{"disk", func(t *testing.T) *registry.Registry {
		reg, err := registry.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return reg
	}},
}

func newUploadServer(t *testing.T, reg *registry.Registry) *uploadServer {
	t.Helper()
	s := &uploadServer{}
	h := httpapi.New(reg)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.mu.Lock()
			s.seen = append(s.seen, seenRequest{r.Method, r.ContentLength, r.TransferEncoding})
			s.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hs.Close()
		if err := reg.Close(); err != nil {
			t.Errorf("close registry: %v", err)
		}
	})
	s.url = hs.URL
	s.client = hs.Client()
	return s
}

// do sends one request. A nil body sends none; a *bytes.Reader is sent with
// its Content-Length; any other reader is sent chunked.
func (s *uploadServer) do(t *testing.T, method, target string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+target, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		if _, ok := body.(*bytes.Reader); !ok {
			req.ContentLength = -1
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading response: %v", method, target, err)
	}
	return resp, b
}

// expect fails the test unless resp has status want.
func expect(t *testing.T, what string, resp *http.Response, body []byte, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s: status = %d, want %d; body %s", what, resp.StatusCode, want, body)
	}
}

// start opens an upload session and returns its location.
func (s *uploadServer) start(t *testing.T, name string, body []byte) string {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	resp, b := s.do(t, http.MethodPost, "/v2/"+name+"/blobs/uploads/", rd)
	expect(t, "POST", resp, b, http.StatusAccepted)
	if want := "0-" + strconv.Itoa(max(len(body)-1, 0)); resp.Header.Get("Range") != want {
		t.Errorf("POST Range = %q, want %q", resp.Header.Get("Range"), want)
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		t.Fatal("POST answered without a Location")
	}
	return loc
}

// piecewise returns a reader of data that an http.Client sends chunked, in
// pieces of odd sizes that never line up with the server's buffer.
func piecewise(data []byte) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 100_003)
			if _, err := pw.Write(rest[:n]); err != nil {
				return // the request ended early; its failure is reported
			}
			rest = rest[n:]
		}
		pw.Close()
	}()
	return pr
}

// withQuery appends q to a location that may already have a query.
func withQuery(loc, q string) string {
	if strings.Contains(loc, "?") {
		return loc + "&" + q
	}
	return loc + "?" + q
}

// TestCopyBodyHTTPSizes pushes bodies around the handler's buffer size through
// every endpoint that takes a blob body, with and without a Content-Length,
// and reads each blob back.
func TestCopyBodyHTTPSizes(t *testing.T) {
	type flow struct {
		name string
		// chunked are the methods whose bodies go without Content-Length.
		chunked []string
		push    func(t *testing.T, s *uploadServer, name string, data []byte, d digest.Digest) *http.Response
	}
	commit := func(t *testing.T, s *uploadServer, loc string, d digest.Digest, body io.Reader) *http.Response {
		t.Helper()
		resp, b := s.do(t, http.MethodPut, withQuery(loc, "digest="+d.String()), body)
		expect(t, "PUT", resp, b, http.StatusCreated)
		return resp
	}
	flows := []flow{
		{"monolithic POST", nil, func(t *testing.T, s *uploadServer, name string, data []byte, d digest.Digest) *http.Response {
			resp, b := s.do(t, http.MethodPost, "/v2/"+name+"/blobs/uploads/?digest="+d.String(), bytes.NewReader(data))
			expect(t, "POST", resp, b, http.StatusCreated)
			return resp
		}},
		{"POST then monolithic PUT", nil, func(t *testing.T, s *uploadServer, name string, data []byte, d digest.Digest) *http.Response {
			return commit(t, s, s.start(t, name, nil), d, bytes.NewReader(data))
		}},
		{"POST with body then PUT", nil, func(t *testing.T, s *uploadServer, name string, data []byte, d digest.Digest) *http.Response {
			return commit(t, s, s.start(t, name, data), d, nil)
		}},
		{"streamed PATCH then PUT", []string{http.MethodPatch}, func(t *testing.T, s *uploadServer, name string, data []byte, d digest.Digest) *http.Response {
			loc := s.start(t, name, nil)
			resp, b := s.do(t, http.MethodPatch, loc, piecewise(data))
			expect(t, "PATCH", resp, b, http.StatusAccepted)
			if want := "0-" + strconv.Itoa(max(len(data)-1, 0)); resp.Header.Get("Range") != want {
				t.Errorf("PATCH Range = %q, want %q", resp.Header.Get("Range"), want)
			}
			return commit(t, s, resp.Header.Get("Location"), d, nil)
		}},
		{"streamed PATCH then streamed PUT", []string{http.MethodPatch, http.MethodPut}, func(t *testing.T, s *uploadServer, name string, data []byte, d digest.Digest) *http.Response {
			half := len(data) / 2
			loc := s.start(t, name, nil)
			resp, b := s.do(t, http.MethodPatch, loc, piecewise(data[:half]))
			expect(t, "PATCH", resp, b, http.StatusAccepted)
			return commit(t, s, resp.Header.Get("Location"), d, piecewise(data[half:]))
		}},
	}
	for _, be := range uploadBackends {
		t.Run(be.name, func(t *testing.T) {
			s := newUploadServer(t, be.open(t))
			for fi, f := range flows {
				for _, size := range copyBodySizes {
					t.Run(f.name+"/"+strconv.Itoa(size), func(t *testing.T) {
						data := randomBytes(size, uint64(size)<<8|uint64(fi))
						d := digest.FromBytes(data)
						name := "sizes/app"
						before := len(s.requests())

						resp := f.push(t, s, name, data, d)
						if got := resp.Header.Get("Docker-Content-Digest"); got != d.String() {
							t.Errorf("Docker-Content-Digest = %q, want %q", got, d)
						}
						if got, want := resp.Header.Get("Location"), "/v2/"+name+"/blobs/"+d.String(); got != want {
							t.Errorf("Location = %q, want %q", got, want)
						}
						// The bodies meant to go chunked did, and the others did not.
						for _, r := range s.requests()[before:] {
							chunked := len(r.transferEncoding) > 0 && r.transferEncoding[0] == "chunked"
							wantChunked := false
							for _, m := range f.chunked {
								wantChunked = wantChunked || m == r.method
							}
							if chunked != wantChunked || chunked != (r.contentLength < 0) {
								t.Errorf("%s arrived with Content-Length %d, Transfer-Encoding %v; want chunked = %v",
									r.method, r.contentLength, r.transferEncoding, wantChunked)
							}
						}

						resp, got := s.do(t, http.MethodGet, "/v2/"+name+"/blobs/"+d.String(), nil)
						expect(t, "GET", resp, got, http.StatusOK)
						if !bytes.Equal(got, data) {
							t.Fatalf("GET returned %d bytes (digest %s), want the %d sent (digest %s)",
								len(got), digest.FromBytes(got), len(data), d)
						}
						if dg := resp.Header.Get("Docker-Content-Digest"); dg != d.String() {
							t.Errorf("GET Docker-Content-Digest = %q, want %q", dg, d)
						}
						resp, b := s.do(t, http.MethodHead, "/v2/"+name+"/blobs/"+d.String(), nil)
						expect(t, "HEAD", resp, b, http.StatusOK)
						if resp.ContentLength != int64(size) {
							t.Errorf("HEAD Content-Length = %d, want %d", resp.ContentLength, size)
						}
						// Delete it: the memory store need not hold every size.
						resp, b = s.do(t, http.MethodDelete, "/v2/"+name+"/blobs/"+d.String(), nil)
						expect(t, "DELETE", resp, b, http.StatusAccepted)
					})
				}
			}
		})
	}
}

// errAfter is a request body that yields n bytes of data, in pieces of
// piece bytes, then fails with err.
type errAfter struct {
	data  []byte
	piece int
	err   error
}

var errBodyBroken = errors.New("test: request body broken")

func (r *errAfter) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p[:min(len(p), r.piece)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestCopyBodyHTTPReadError sends bodies that fail part way, some after the
// handler has begun writing on its second goroutine, to every endpoint that
// copies a body into an upload: each request fails with 400
// BLOB_UPLOAD_INVALID and leaves no goroutine behind.
func TestCopyBodyHTTPReadError(t *testing.T) {
	// The requests go in process: over a connection a client that fails
	// to read its body drops the connection, and the server sees a body
	// that ends early (io.ErrUnexpectedEOF), not this reader's error.
	reg, err := registry.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	h := httpapi.New(reg)
	const name = "broken/app"
	session := func(t *testing.T) string {
		t.Helper()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v2/"+name+"/blobs/uploads/", nil))
		if w.Code != http.StatusAccepted {
			t.Fatalf("POST: status = %d; body %s", w.Code, w.Body)
		}
		return w.Header().Get("Location")
	}
	data := randomBytes(4*mib, 7)
	d := digest.FromBytes(data)
	endpoints := []struct {
		name   string
		method string
		target func(t *testing.T) string
		// contentLength is sent as the request's; -1 for chunked.
		contentLength int64
	}{
		{"streamed PATCH", http.MethodPatch, session, -1},
		{"PATCH with length", http.MethodPatch, session, int64(len(data))},
		{"PUT", http.MethodPut, func(t *testing.T) string { return withQuery(session(t), "digest="+d.String()) }, -1},
		{"POST with body", http.MethodPost, func(*testing.T) string { return "/v2/" + name + "/blobs/uploads/" }, int64(len(data))},
	}
	failAfter := []int{100, mib + 1, 2 * mib, 2*mib + 5, 3*mib + 12345}
	for _, ep := range endpoints {
		for _, n := range failAfter {
			for _, piece := range []int{32 << 10, 2*mib + 1} {
				t.Run(ep.name+"/"+strconv.Itoa(n)+"/"+strconv.Itoa(piece), func(t *testing.T) {
					target := ep.target(t)
					before := runtime.NumGoroutine()
					req := httptest.NewRequest(ep.method, target, &errAfter{data: data[:n], piece: piece, err: errBodyBroken})
					req.ContentLength = ep.contentLength
					if ep.contentLength < 0 {
						req.TransferEncoding = []string{"chunked"}
					}
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					checkError(t, ep.method, w.Code, w.Header(), w.Body.Bytes(), http.StatusBadRequest, httpapi.CodeBlobUploadInvalid)
					if after := settle.Goroutines(before); after > before {
						t.Errorf("%d goroutines after the request, %d before", after, before)
					}
				})
			}
		}
	}
}
