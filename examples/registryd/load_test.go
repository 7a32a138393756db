package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/bearer"
	"github.com/regkit/regkit/registry/httpapi"
)

// TestShutdownUnderLoad pushes manifests, moves and removes tags and deletes
// manifests from several clients, sends SIGTERM in the middle, restarts the
// server on the same folder and checks that every write the server
// acknowledged is there and every acknowledged delete stayed done. Each
// client stops at its first failed request; that last request may or may
// not have been applied, so its repository may be in the state before it or
// after it, and in no other.
//
// Stragglers are manifest pushes whose bodies are half sent at SIGTERM and
// finished once the server refuses new connections: with time to finish,
// every one must be acknowledged during the shutdown and be there after the
// restart. With a shutdown timeout shorter than the requests, the server
// cuts them at the timeout and must still close the registry only after
// their handlers returned, and exit 0.
func TestShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary under load")
	}
	bin := buildRegistryd(t, t.TempDir())
	tests := []struct {
		name    string
		timeout string // -shutdown-timeout
		finish  bool   // running requests have time to finish
	}{
		{"requests finish", "10s", true},
		{"requests cut at the timeout", "1ms", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { shutdownUnderLoad(t, bin, tt.timeout, tt.finish) })
	}
}

func shutdownUnderLoad(t *testing.T, bin, timeout string, finish bool) {
	data := filepath.Join(t.TempDir(), "data")
	first := startRegistryd(t, bin, data, timeout)

	const (
		clients    = 8
		stragglers = 4
		// acksBeforeSignal is how many writes are acknowledged before
		// SIGTERM: the load is well under way and still running.
		acksBeforeSignal = 400
	)
	client := &http.Client{
		Transport: &bearer.Transport{Base: &http.Transport{MaxIdleConnsPerHost: clients}},
		Timeout:   20 * time.Second,
	}
	var acks atomic.Int64
	var loadWG, slowWG sync.WaitGroup
	// The stragglers' requests are on the server before the load starts.
	release := make(chan struct{})
	slow := make([]*repoModel, stragglers)
	var sent sync.WaitGroup
	for c := range stragglers {
		slow[c] = newRepoModel(fmt.Sprintf("load/s%d", c))
		if err := slow[c].pushBlobs(client, first.base); err != nil {
			t.Fatal(err)
		}
		slowWG.Add(1)
		sent.Add(1)
		go func() {
			defer slowWG.Done()
			slow[c].slowPut(client, first.base, sent.Done, release, func() { acks.Add(1) })
		}()
	}
	sent.Wait()
	loaded := make(chan struct{})
	models := make([]*repoModel, clients)
	for c := range clients {
		models[c] = newRepoModel(fmt.Sprintf("load/c%d", c))
		loadWG.Add(1)
		go func() {
			defer loadWG.Done()
			models[c].run(client, first.base, func() {
				if acks.Add(1) == acksBeforeSignal {
					close(loaded)
				}
			})
		}()
	}
	loadDone := make(chan struct{})
	go func() { loadWG.Wait(); close(loadDone) }()
	select {
	case <-loaded:
	case <-loadDone:
		close(release)
		t.Fatalf("every client stopped after %d acknowledged writes, before SIGTERM:\n%s\n%s", acks.Load(), failures(models), first.logs())
	}
	atSignal := acks.Load()
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, first.base)
	close(release)
	<-loadDone
	slowWG.Wait()
	if err := first.wait(20 * time.Second); err != nil {
		t.Fatalf("registryd after SIGTERM: %v\n%s", err, first.logs())
	}
	t.Logf("%d writes acknowledged, %d of them after SIGTERM", acks.Load(), acks.Load()-atSignal)
	for _, m := range models {
		if m.stopErr == nil {
			t.Errorf("%s: the client never failed, the server never stopped", m.repo)
		} else if m.unexpected {
			t.Errorf("%s: %v", m.repo, m.stopErr)
		}
	}
	for _, m := range slow {
		switch {
		case finish && m.stopErr != nil:
			t.Errorf("%s: a push running at SIGTERM failed: %v", m.repo, m.stopErr)
		case m.unexpected:
			t.Errorf("%s: %v", m.repo, m.stopErr)
		}
	}
	models = append(models, slow...)

	second := startRegistryd(t, bin, data, "10s")
	for _, m := range models {
		m.verify(t, client, second.base)
	}
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.wait(20 * time.Second); err != nil {
		t.Fatalf("registryd after the second SIGTERM: %v\n%s", err, second.logs())
	}
}

// failures lists why each client stopped.
func failures(models []*repoModel) string {
	var b strings.Builder
	for _, m := range models {
		fmt.Fprintf(&b, "%s: %v\n", m.repo, m.stopErr)
	}
	return b.String()
}

// repoState is what a repository holds: its tags and its manifests.
type repoState struct {
	tags      map[string]digest.Digest
	manifests map[digest.Digest]bool // false: deleted
}

func (s repoState) clone() repoState {
	return repoState{tags: maps.Clone(s.tags), manifests: maps.Clone(s.manifests)}
}

func (s repoState) String() string {
	var b strings.Builder
	for _, tg := range slices.Sorted(maps.Keys(s.tags)) {
		fmt.Fprintf(&b, "%s=%.19s ", tg, s.tags[tg])
	}
	for _, d := range slices.Sorted(maps.Keys(s.manifests)) {
		fmt.Fprintf(&b, "%.19s:%v ", d, s.manifests[d])
	}
	return b.String()
}

// repoModel is one client's repository: the writes it made and the state
// they leave, applied only when the server acknowledged them.
type repoModel struct {
	repo   string
	layer  []byte
	bodies map[digest.Digest][]byte
	blobs  []digest.Digest // acknowledged blob pushes
	state  repoState
	// after is the state had the last, failed request been applied.
	after      *repoState
	tagsUsed   map[string]bool
	stopErr    error
	unexpected bool // stopErr is not a refused or cut connection, a 503 or a 499
}

func newRepoModel(repo string) *repoModel {
	return &repoModel{
		repo:     repo,
		layer:    []byte("layer of " + repo),
		bodies:   map[digest.Digest][]byte{},
		state:    repoState{tags: map[string]digest.Digest{}, manifests: map[digest.Digest]bool{}},
		tagsUsed: map[string]bool{},
	}
}

// run writes until a request fails: per round a config blob and a manifest
// tagged t<i>; every third round "latest" moves to the previous manifest,
// every fourth the tag of two rounds back is removed, every fifth the
// manifest of three rounds back is deleted (with its tags). ack is called
// for every acknowledged write.
func (m *repoModel) run(client *http.Client, base string, ack func()) {
	do := func(method, path, contentType string, body []byte, want int, apply func(*repoState)) bool {
		return m.do(client, base, method, path, contentType, bytes.NewReader(body), want, apply, ack)
	}
	pushBlob := func(b []byte) bool {
		d := digest.FromBytes(b)
		ok := do("POST", "/v2/"+m.repo+"/blobs/uploads/?digest="+d.String(), "application/octet-stream", b, http.StatusCreated, nil)
		if ok {
			m.blobs = append(m.blobs, d)
		}
		return ok
	}
	putManifest := func(tag string, d digest.Digest) bool {
		m.tagsUsed[tag] = true
		return do("PUT", "/v2/"+m.repo+"/manifests/"+tag, ocispec.MediaTypeImageManifest, m.bodies[d], http.StatusCreated, func(s *repoState) {
			s.tags[tag] = d
			s.manifests[d] = true
		})
	}
	if !pushBlob(m.layer) {
		return
	}
	var pushed []digest.Digest
	for i := 0; ; i++ {
		config := m.config(i)
		if !pushBlob(config) {
			return
		}
		body := imageManifest(config, m.layer)
		d := digest.FromBytes(body)
		m.bodies[d] = body
		pushed = append(pushed, d)
		if !putManifest(fmt.Sprintf("t%d", i), d) {
			return
		}
		if i%3 == 2 && !putManifest("latest", pushed[i-1]) {
			return
		}
		if i%4 == 3 {
			tag := fmt.Sprintf("t%d", i-2)
			if !do("DELETE", "/v2/"+m.repo+"/manifests/"+tag, "", nil, http.StatusAccepted, func(s *repoState) { delete(s.tags, tag) }) {
				return
			}
		}
		if i%5 == 4 && i-3 >= 1 { // manifest 0 stays, so the repository does
			gone := pushed[i-3]
			if !do("DELETE", "/v2/"+m.repo+"/manifests/"+gone.String(), "", nil, http.StatusAccepted, func(s *repoState) {
				s.manifests[gone] = false
				for tg, d := range s.tags {
					if d == gone {
						delete(s.tags, tg)
					}
				}
			}) {
				return
			}
		}
	}
}

// do sends one request and applies it to the model if the server answers
// want; otherwise it records why the client stops, and the state had the
// request been applied.
func (m *repoModel) do(client *http.Client, base, method, path, contentType string, body io.Reader, want int, apply func(*repoState), ack func()) bool {
	next := m.state.clone()
	if apply != nil {
		apply(&next)
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		panic(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := client.Do(req)
	if err == nil {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		res.Body.Close()
		if res.StatusCode != want {
			err = fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, msg)
			// 503: refused while stopping; 499: cut at the
			// shutdown timeout (httpapi's answer to a cancelled
			// request). Anything else is a failure.
			m.unexpected = res.StatusCode != http.StatusServiceUnavailable && res.StatusCode != httpapi.StatusClientClosedRequest
		}
	} else {
		err = fmt.Errorf("%s %s: %w", method, path, err)
		m.unexpected = !connectionCut(err)
	}
	if err != nil {
		m.stopErr = err
		m.after = &next
		return false
	}
	m.state = next
	ack()
	return true
}

// pushBlobs pushes the layer and the config of a straggler's manifest.
func (m *repoModel) pushBlobs(client *http.Client, base string) error {
	for _, b := range [][]byte{m.layer, m.config(0)} {
		d := digest.FromBytes(b)
		if !m.do(client, base, "POST", "/v2/"+m.repo+"/blobs/uploads/?digest="+d.String(), "application/octet-stream", bytes.NewReader(b), http.StatusCreated, nil, func() {}) {
			return m.stopErr
		}
		m.blobs = append(m.blobs, d)
	}
	return nil
}

// slowPut pushes the straggler's manifest as tag t0: half of the body now
// (then it calls sent), the rest once release is closed.
func (m *repoModel) slowPut(client *http.Client, base string, sent func(), release <-chan struct{}, ack func()) {
	body := imageManifest(m.config(0), m.layer)
	d := digest.FromBytes(body)
	m.bodies[d] = body
	m.tagsUsed["t0"] = true
	pr, pw := io.Pipe()
	go func() {
		half := len(body) / 2
		_, err := pw.Write(body[:half])
		sent()
		if err != nil {
			return
		}
		<-release
		_, _ = pw.Write(body[half:])
		pw.Close()
	}()
	m.do(client, base, "PUT", "/v2/"+m.repo+"/manifests/t0", ocispec.MediaTypeImageManifest, pr, http.StatusCreated, func(s *repoState) {
		s.tags["t0"] = d
		s.manifests[d] = true
	}, ack)
	pr.Close()
}

// config is the config blob of round i.
func (m *repoModel) config(i int) []byte {
	return []byte(fmt.Sprintf(`{"repo":%q,"round":%d}`, m.repo, i))
}

// waitRefused waits until the server at base refuses new connections.
func waitRefused(t *testing.T, base string) {
	t.Helper()
	addr := strings.TrimPrefix(base, "http://")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s still accepts connections after SIGTERM", addr)
}

// connectionCut reports whether err is a request the stopping server
// refused or cut: no answer, so it may or may not have been applied.
func connectionCut(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) // the client's side, closed on the server's close
}

// observe reads the repository's state from the server: every tag and
// manifest the client ever wrote.
func (m *repoModel) observe(t *testing.T, client *http.Client, base string) repoState {
	t.Helper()
	s := repoState{tags: map[string]digest.Digest{}, manifests: map[digest.Digest]bool{}}
	get := func(ref string) (digest.Digest, []byte, bool) {
		res, err := client.Get(base + "/v2/" + m.repo + "/manifests/" + ref)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch res.StatusCode {
		case http.StatusOK:
			return digest.Digest(res.Header.Get("Docker-Content-Digest")), body, true
		case http.StatusNotFound:
			return "", nil, false
		}
		t.Fatalf("GET %s@%s after restart: %d %s", m.repo, ref, res.StatusCode, body)
		return "", nil, false
	}
	for tg := range m.tagsUsed {
		if d, _, ok := get(tg); ok {
			s.tags[tg] = d
		}
	}
	for d, want := range m.bodies {
		_, body, ok := get(d.String())
		if ok && !bytes.Equal(body, want) {
			t.Errorf("%s@%s after restart: other bytes than pushed", m.repo, d)
		}
		s.manifests[d] = ok
	}
	return s
}

// verify checks the restarted server holds the acknowledged state (or the
// state after the last, unanswered request) and every acknowledged blob.
func (m *repoModel) verify(t *testing.T, client *http.Client, base string) {
	t.Helper()
	got := m.observe(t, client, base)
	want := m.state
	// A manifest the client built but whose push was never acknowledged
	// may be present only if its push was the last request.
	for d := range m.bodies {
		if _, ok := want.manifests[d]; !ok {
			want.manifests[d] = false
		}
	}
	if got.String() != want.String() {
		alt := m.after
		if alt != nil {
			for d := range m.bodies {
				if _, ok := alt.manifests[d]; !ok {
					alt.manifests[d] = false
				}
			}
		}
		if alt == nil || got.String() != alt.String() {
			t.Errorf("%s after restart:\n got %s\nwant %s\n  or %v (last request: %v)", m.repo, got, want, alt, m.stopErr)
		}
	}
	for _, d := range m.blobs {
		res, err := client.Head(base + "/v2/" + m.repo + "/blobs/" + d.String())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: acknowledged blob %s after restart: %d", m.repo, d, res.StatusCode)
		}
	}
}

// imageManifest is an OCI image manifest of a config and one layer.
func imageManifest(config, layer []byte) []byte {
	m := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(config), Size: int64(len(config))},
		Layers:    []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(layer), Size: int64(len(layer))}},
	}
	m.SchemaVersion = 2
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// buildRegistryd builds the server binary into dir.
func buildRegistryd(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "registryd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// process is a running registryd.
type process struct {
	cmd    *exec.Cmd
	base   string
	stderr *bytes.Buffer
	exited chan error
	err    error
}

// startRegistryd starts bin on a free port over data, with a shutdown
// timeout, and waits until it answers /healthz. The process is killed at the
// end of the test if it is still running.
func startRegistryd(t *testing.T, bin, data, shutdownTimeout string) *process {
	t.Helper()
	addr := freeAddr(t)
	p := &process{base: "http://" + addr, stderr: new(bytes.Buffer), exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, "-addr", addr, "-data", data, "-log-level", "warn", "-gc-interval", "0", "-shutdown-timeout", shutdownTimeout)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.exited != nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	waitReady(t, p.base+"/healthz")
	return p
}

// wait waits up to timeout for the process to exit and returns its error.
func (p *process) wait(timeout time.Duration) error {
	if p.exited == nil {
		return p.err
	}
	select {
	case p.err = <-p.exited:
		p.exited = nil
		return p.err
	case <-time.After(timeout):
		return fmt.Errorf("still running %v after SIGTERM", timeout)
	}
}

// logs returns what the process wrote to stderr, once it exited.
func (p *process) logs() string {
	if p.exited != nil {
		return "(still running)"
	}
	return p.stderr.String()
}
