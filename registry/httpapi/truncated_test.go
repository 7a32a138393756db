package httpapi_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry"
)

// TestTruncatedBody sends bodies that end before their Content-Length (the
// client half-closes its connection) over a real connection, to the memory
// and the embedded default storage: every upload route must answer 400
// BLOB_UPLOAD_INVALID, never accept the partial body as complete, and store
// no blob. An answer about a session (PATCH, PUT, POST without a digest)
// carries its Location and Range, so the client knows where to resume.
func TestTruncatedBody(t *testing.T) {
	data := randomBytes(3*mib+7, 42)
	d := digest.FromBytes(data)
	open := map[string]func(t *testing.T) (*registry.Registry, error){
		"memory":   func(*testing.T) (*registry.Registry, error) { return registry.NewMemory() },
		"embedded": func(t *testing.T) (*registry.Registry, error) { return registry.Open(t.TempDir()) },
	}
	for store, openReg := range open {
		for _, sent := range []int{10, mib, 2*mib + 5} {
			for _, route := range []string{"patch", "put", "post-digest", "post"} {
				t.Run(fmt.Sprintf("%s/%s/%d", store, route, sent), func(t *testing.T) {
					truncatedBody(t, openReg, route, data, d, sent)
				})
			}
		}
	}
}

func truncatedBody(t *testing.T, openReg func(*testing.T) (*registry.Registry, error), route string, data []byte, d digest.Digest, sent int) {
	reg, err := openReg(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	s := newUploadServer(t, reg)
	var method, target string
	switch route {
	case "patch":
		method, target = http.MethodPatch, s.start(t, "a/b", nil)
	case "put":
		method, target = http.MethodPut, withQuery(s.start(t, "a/b", nil), "digest="+d.String())
	case "post-digest":
		method, target = http.MethodPost, "/v2/a/b/blobs/uploads/?digest="+d.String()
	case "post":
		method, target = http.MethodPost, "/v2/a/b/blobs/uploads/"
	}
	code, body, hd := sendTruncated(t, s.url, method, target, len(data), data[:sent])
	if code != http.StatusBadRequest || !strings.Contains(body, "BLOB_UPLOAD_INVALID") {
		t.Fatalf("%s of %d of %d bytes: status %d, body %s; want 400 BLOB_UPLOAD_INVALID", method, sent, len(data), code, body)
	}
	if route != "post-digest" {
		if want := fmt.Sprintf("0-%d", sent-1); hd.Get("Range") != want || hd.Get("Location") == "" {
			t.Errorf("after a body cut at %d: Range %q, Location %q; want Range %q and the session's Location", sent, hd.Get("Range"), hd.Get("Location"), want)
		}
	}
	resp, b := s.do(t, http.MethodHead, "/v2/a/b/blobs/"+d.String(), nil)
	expect(t, "HEAD after truncated upload", resp, b, http.StatusNotFound)
}

// sendTruncated writes a request declaring size body bytes but sending only
// part, half-closes the connection, and returns the answer's status and body.
func sendTruncated(t *testing.T, base, method, target string, size int, part []byte) (int, string, http.Header) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", method, target, u.Host, size)
	if _, err := conn.Write(part); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&sb)
	return resp.StatusCode, sb.String(), resp.Header
}
