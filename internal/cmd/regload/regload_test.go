package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeRegistry is just enough of the distribution API for regload's requests, with
// the checks a real registry makes on them (ranges, digests).
type fakeRegistry struct {
	mu        sync.Mutex
	blobs     map[string][]byte
	uploads   map[string][]byte
	manifests map[string][]byte // by "repo@digest" and "repo:tag"
	next      int
	patches   int
}

func newFake() *fakeRegistry {
	return &fakeRegistry{blobs: map[string][]byte{}, uploads: map[string][]byte{}, manifests: map[string][]byte{}}
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := r.URL.Path
	body, _ := io.ReadAll(r.Body)
	switch {
	case strings.HasSuffix(p, "/blobs/uploads/") && r.Method == http.MethodPost:
		f.next++
		id := strconv.Itoa(f.next)
		f.uploads[id] = nil
		// A relative Location with state in the query, as some registries answer.
		w.Header().Set("Location", strings.TrimSuffix(p, "/")+"/"+id+"?_state=s"+id)
		w.WriteHeader(http.StatusAccepted)
	case strings.Contains(p, "/blobs/uploads/"):
		id := p[strings.LastIndex(p, "/")+1:]
		data, ok := f.uploads[id]
		if !ok || r.URL.Query().Get("_state") != "s"+id {
			http.Error(w, "unknown upload", http.StatusNotFound)
			return
		}
		switch r.Method {
		case http.MethodPatch:
			f.patches++
			want := fmt.Sprintf("%d-%d", len(data), len(data)+len(body)-1)
			if got := r.Header.Get("Content-Range"); got != want {
				http.Error(w, "range "+got+", want "+want, http.StatusRequestedRangeNotSatisfiable)
				return
			}
			f.uploads[id] = append(data, body...)
			w.Header().Set("Location", r.URL.String())
			w.WriteHeader(http.StatusAccepted)
		case http.MethodPut:
			data = append(data, body...)
			d := r.URL.Query().Get("digest")
			if digestOf(data) != d {
				http.Error(w, "digest mismatch", http.StatusBadRequest)
				return
			}
			delete(f.uploads, id)
			f.blobs[d] = data
			w.Header().Set("Docker-Content-Digest", d)
			w.WriteHeader(http.StatusCreated)
		}
	case strings.Contains(p, "/blobs/") && r.Method == http.MethodGet:
		b, ok := f.blobs[p[strings.LastIndex(p, "/")+1:]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	case strings.Contains(p, "/manifests/"):
		i := strings.LastIndex(p, "/manifests/")
		repo, ref := p[len("/v2/"):i], p[i+len("/manifests/"):]
		key := repo + ":" + ref
		if strings.HasPrefix(ref, "sha256:") {
			key = repo + "@" + ref
		}
		switch r.Method {
		case http.MethodPut:
			d := digestOf(body)
			f.manifests[repo+"@"+d] = body
			f.manifests[key] = body
			w.Header().Set("Docker-Content-Digest", d)
			w.WriteHeader(http.StatusCreated)
		case http.MethodGet, http.MethodHead:
			b, ok := f.manifests[key]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", mediaManifest)
			w.Write(b)
		case http.MethodDelete:
			if _, ok := f.manifests[key]; !ok {
				http.NotFound(w, r)
				return
			}
			delete(f.manifests, key)
			w.WriteHeader(http.StatusAccepted)
		}
	default:
		http.NotFound(w, r)
	}
}

func runMode(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatalf("regload %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	s := out.String()
	if !strings.Contains(s, "\nresult: mode="+args[0]) {
		t.Fatalf("regload %s printed no result line:\n%s", args[0], s)
	}
	return s
}

func TestModesAgainstFake(t *testing.T) {
	f := newFake()
	srv := httptest.NewServer(f)
	defer srv.Close()
	u := "-url=" + srv.URL

	out := runMode(t, "pushblob", u, "-size=3MiB", "-mode=monolithic", "-repo=a/b")
	want := hashPayload(1, 3<<20).digest
	if !strings.Contains(out, "digest="+want) || f.blobs[want] == nil {
		t.Fatalf("monolithic push did not store %s:\n%s", want, out)
	}
	runMode(t, "pushblob", u, "-size=2500KiB", "-mode=chunked", "-chunk=1MiB", "-seed=2", "-repo=a/b")
	if f.patches != 3 {
		t.Errorf("chunked push of 2500KiB in 1MiB chunks sent %d PATCHes, want 3", f.patches)
	}
	if d := hashPayload(2, 2500<<10).digest; f.blobs[d] == nil {
		t.Errorf("chunked push did not store %s", d)
	}
	out = runMode(t, "pullblob", u, "-size=3MiB", "-repo=a/b", "-verify", "-n=2")
	if !strings.Contains(out, "bytes=6291456 ") {
		t.Errorf("pullblob did not read 2 × 3MiB:\n%s", out)
	}

	out = runMode(t, "seed", u)
	if !strings.Contains(out, "manifest_path=/v2/regload/seed/manifests/latest") {
		t.Errorf("seed output:\n%s", out)
	}
	out = runMode(t, "get", u, "-c=4", "-d=200ms", "-warmup=0s", "-n=300")
	if !strings.Contains(out, " requests=300 errors=0 ") {
		t.Errorf("get should stop at -n=300 without errors:\n%s", out)
	}
	var buf bytes.Buffer
	err := run(context.Background(), []string{"get", u, "-c=2", "-d=100ms", "-warmup=0s", "-path=/v2/none/manifests/x"}, &buf)
	if out := buf.String(); err == nil || strings.Contains(out, " errors=0 ") || !strings.Contains(out, "status 404") {
		t.Errorf("get of a missing path should count 404s and fail (err %v):\n%s", err, out)
	}

	before := len(f.manifests)
	out = runMode(t, "manifests", u, "-c=3", "-n=50", "-repo=m")
	if !strings.Contains(out, " put=50 put_errors=0 ") || !strings.Contains(out, " delete=50 delete_errors=0 ") {
		t.Errorf("manifests output:\n%s", out)
	}
	// Each manifest was stored by tag and by digest; the digests are gone again.
	if got := len(f.manifests) - before; got != 50 {
		t.Errorf("%d manifest records left, want the 50 tags", got)
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1:5000", "http://example.com:80", "http://192.168.1.1:5000", "ftp://127.0.0.1:21", "http://127.0.0.1"} {
		if _, err := newTarget(u, 1); err == nil {
			t.Errorf("newTarget(%q) accepted a target it must refuse", u)
		}
	}
	for _, u := range []string{"http://127.0.0.1:5000", "http://127.9.9.9:1", "http://[::1]:5000", "http://localhost:5000/"} {
		if _, err := newTarget(u, 1); err != nil {
			t.Errorf("newTarget(%q): %v", u, err)
		}
	}
	tg, _ := newTarget("http://127.0.0.1:5000", 1)
	if _, err := tg.resolve("http://203.0.113.9:5000/v2/x/blobs/uploads/1"); err == nil {
		t.Error("resolve accepted a Location on another host")
	}
}

func TestStreamIsDeterministic(t *testing.T) {
	a := make([]byte, 200_001)
	io.ReadFull(payload(5, int64(len(a))), a)
	// Read the same stream in odd pieces: the bytes must not depend on read sizes.
	var b bytes.Buffer
	s := payload(5, int64(len(a)))
	buf := make([]byte, 7919)
	for {
		n, err := s.Read(buf[:1+b.Len()%7918])
		b.Write(buf[:n])
		if err == io.EOF {
			break
		}
	}
	if !bytes.Equal(a, b.Bytes()) {
		t.Fatal("stream bytes depend on read sizes")
	}
	c := make([]byte, len(a))
	io.ReadFull(payload(6, int64(len(c))), c)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same bytes")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"512MiB": 512 << 20, "16MiB": 16 << 20, "1KiB": 1024, "100MB": 100e6, "7": 7, "2GiB": 2 << 30, "3B": 3} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1MiB", "1.5MiB", "MiB", "12XB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

func TestRawClientFraming(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		mu.Unlock()
		switch r.URL.Path {
		case "/v2/chunked":
			w.Write([]byte("part one, "))
			w.(http.Flusher).Flush() // forces chunked encoding
			w.Write([]byte("part two"))
		case "/v2/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		default:
			w.Header().Set("Content-Length", "5")
			w.Write([]byte("hello"))
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct {
		method, path string
		wantConns    int
	}{
		{"GET", "/v2/plain", 1}, {"HEAD", "/v2/plain", 1}, {"GET", "/v2/chunked", 1}, {"GET", "/v2/close", 20},
	} {
		clear(conns)
		c := newRawConn(host, tc.method, tc.path, "")
		for i := 0; i < 20; i++ {
			if _, code, err := c.do(context.Background()); err != nil || code != 200 {
				t.Fatalf("%s %s #%d: status %d, %v", tc.method, tc.path, i, code, err)
			}
		}
		c.close()
		if len(conns) != tc.wantConns {
			t.Errorf("%s %s used %d connections, want %d", tc.method, tc.path, len(conns), tc.wantConns)
		}
	}
}

func TestGetWithStdClient(t *testing.T) {
	srv := httptest.NewServer(newFake())
	defer srv.Close()
	runMode(t, "seed", "-url="+srv.URL)
	out := runMode(t, "get", "-url="+srv.URL, "-client=std", "-c=2", "-d=100ms", "-warmup=0s", "-n=50")
	if !strings.Contains(out, " requests=50 errors=0 ") {
		t.Errorf("get -client=std:\n%s", out)
	}
}

func TestRepoOfPath(t *testing.T) {
	for path, want := range map[string]string{
		"/v2/regload/seed/manifests/latest": "regload/seed",
		"/v2/a/blobs/sha256:00":             "a",
		"/v2/team/app/tags/list":            "team/app",
	} {
		if got := repoOfPath(path); got != want {
			t.Errorf("repoOfPath(%q) = %q, want %q", path, got, want)
		}
	}
}
