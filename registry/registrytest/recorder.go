package registrytest

import (
	"net/http"
	"sync"
)

// Recorder is an http.RoundTripper that logs the requests a client sends
// and the statuses it gets back, for tests that check what a real client
// (go-containerregistry, oras-go, the Azure SDK) says on the wire. Pass it
// as the client's transport; it forwards to http.DefaultTransport. It is safe
// for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	reqs []Request
}

// Request is one request a Recorder saw.
type Request struct {
	// Method, Path and RawQuery are the request's.
	Method, Path, RawQuery string
	// ContentLength is the body's declared length; -1 for a body sent
	// chunked (length unknown).
	ContentLength int64
	// ContentRange is the Content-Range header, if any.
	ContentRange string
	// Status is the response's status code (0 when the request failed).
	Status int
}

// RoundTrip records r and sends it with http.DefaultTransport.
func (rc *Recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	n := r.ContentLength
	if n == 0 && r.Body != nil && r.Body != http.NoBody {
		n = -1 // sent chunked: the length is unknown
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	rec := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		ContentLength: n, ContentRange: r.Header.Get("Content-Range")}
	if resp != nil {
		rec.Status = resp.StatusCode
	}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, rec)
	rc.mu.Unlock()
	return resp, err
}

// Requests returns a copy of the requests recorded so far, in order.
func (rc *Recorder) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.reqs...)
}

// Reset forgets the requests recorded so far.
func (rc *Recorder) Reset() {
	rc.mu.Lock()
	rc.reqs = nil
	rc.mu.Unlock()
}
