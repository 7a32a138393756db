package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// manifestAccept is the Accept header regload sends for manifests: every type a
// registry may store, so that a GET by tag is never refused for its media type.
const manifestAccept = "application/vnd.oci.image.manifest.v1+json, " +
	"application/vnd.oci.image.index.v1+json, " +
	"application/vnd.docker.distribution.manifest.v2+json, " +
	"application/vnd.docker.distribution.manifest.list.v2+json"

// maxSamples bounds the latency samples a run keeps (and so its memory).
const maxSamples = 20_000_000

func runGet(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	c := addCommon(fs)
	path := fs.String("path", "/v2/regload/seed/manifests/latest", "path to request (starts with /v2/)")
	conc := fs.Int("c", 16, "concurrent connections (each a client loop with keep-alive)")
	dur := fs.Duration("d", 10*time.Second, "how long to send requests")
	limit := fs.Int("n", 5_000_000, "upper bound on requests")
	method := fs.String("method", "GET", "GET or HEAD")
	accept := fs.String("accept", manifestAccept, "Accept header")
	warm := fs.Duration("warmup", time.Second, "requests sent first and not counted")
	client := fs.String("client", "raw", "raw (a minimal HTTP/1.1 client, cheap on the CPU) or std (net/http)")
	bearer := fs.Bool("bearer", false, "raw client: send a Bearer token for pulls of the path's repository, from the server's /oauth2/token")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !strings.HasPrefix(*path, "/v2/") {
		return fmt.Errorf("bad -path %q: it starts with /v2/", *path)
	}
	if *method != http.MethodGet && *method != http.MethodHead {
		return fmt.Errorf("bad -method %q: GET or HEAD", *method)
	}
	if *conc < 1 || *conc > 1024 {
		return errors.New("-c must be within 1..1024")
	}
	if *dur <= 0 || *dur > time.Hour || *warm < 0 || *warm > time.Minute {
		return errors.New("-d must be within (0, 1h] and -warmup within [0, 1m]")
	}
	if *client != "raw" && *client != "std" {
		return fmt.Errorf("bad -client %q: raw or std", *client)
	}
	if *limit < 1 || *limit > maxSamples {
		return fmt.Errorf("-n must be within 1..%d", maxSamples)
	}
	t, err := newTarget(c.url, *conc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	url := t.endpoint(*path)
	if t.base.Scheme != "http" {
		*client = "std" // the raw client speaks plain HTTP only
	}
	fmt.Fprintf(out, "get: %s %s, %d connections, %v (after %v warm-up), %s client\n",
		*method, url, *conc, *dur, *warm, *client)

	one := func(ctx context.Context, _ int) (time.Duration, int, error) {
		req, err := http.NewRequestWithContext(ctx, *method, url, nil)
		if err != nil {
			return 0, 0, err
		}
		req.Header.Set("Accept", *accept)
		start := time.Now()
		resp, err := t.client.Do(req)
		if err != nil {
			return time.Since(start), 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start), resp.StatusCode, err
	}
	if *client == "raw" {
		// One connection per loop: a loop takes one from the pool for each request.
		var auth []string
		if *bearer {
			a := t.rawAuthorization(repoOfPath(*path), "pull") // what a puller holds
			if a == "" {
				return errors.New("-bearer: the server gave no token")
			}
			auth = []string{"Authorization", a}
		}
		pool := make(chan *rawConn, *conc)
		for i := 0; i < *conc; i++ {
			pool <- newRawConn(t.base.Host, *method, t.base.Path+*path, *accept, auth...)
		}
		defer func() {
			for i := 0; i < *conc; i++ {
				(<-pool).close()
			}
		}()
		one = func(ctx context.Context, _ int) (time.Duration, int, error) {
			c := <-pool
			defer func() { pool <- c }()
			return c.do(ctx)
		}
	}
	if *warm > 0 {
		hammer(ctx, *conc, *warm, *limit, one)
	}
	r := hammer(ctx, *conc, *dur, *limit, one)
	if r.ok+r.failed() == 0 {
		return errors.New("no request completed")
	}
	fmt.Fprintf(out, "  requests      %d ok, %d errors in %v\n", r.ok, r.failed(), r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(out, "  rate          %.0f requests/s\n", perSecond(r.ok, r.elapsed))
	lat := r.latency()
	fmt.Fprintf(out, "  latency       p50 %s  p90 %s  p99 %s  max %s\n", ms(lat.p50), ms(lat.p90), ms(lat.p99), ms(lat.max))
	if r.failed() > 0 {
		fmt.Fprintf(out, "  errors        %s (first: %v)\n", r.errorKinds(), r.firstErr)
	}
	fmt.Fprintf(out, "result: mode=get client=%s conns=%d requests=%d errors=%d seconds=%.3f rps=%.0f p50=%s p90=%s p99=%s max=%s\n",
		*client, *conc, r.ok, r.failed(), r.elapsed.Seconds(), perSecond(r.ok, r.elapsed), ms(lat.p50), ms(lat.p90), ms(lat.p99), ms(lat.max))
	if r.failed() > 0 {
		return fmt.Errorf("%d requests failed", r.failed())
	}
	return nil
}

// loadResult gathers what concurrent request loops measured.
type loadResult struct {
	mu       sync.Mutex
	ok       int
	samples  []time.Duration // latency of each successful request
	status   map[int]int     // unexpected statuses by code
	netErrs  int             // requests that got no response
	firstErr error
	elapsed  time.Duration
}

func (r *loadResult) failed() int {
	n := r.netErrs
	for _, c := range r.status {
		n += c
	}
	return n
}

// errorKinds lists the failures by kind, most frequent first.
func (r *loadResult) errorKinds() string {
	var parts []string
	if r.netErrs > 0 {
		parts = append(parts, fmt.Sprintf("%d without response", r.netErrs))
	}
	codes := make([]int, 0, len(r.status))
	for code := range r.status {
		codes = append(codes, code)
	}
	sort.Ints(codes)
	for _, code := range codes {
		parts = append(parts, fmt.Sprintf("%d × status %d", r.status[code], code))
	}
	return strings.Join(parts, ", ")
}

// percentiles of a latency distribution.
type percentiles struct{ p50, p90, p99, max time.Duration }

func (r *loadResult) latency() percentiles {
	s := r.samples
	if len(s) == 0 {
		return percentiles{}
	}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) time.Duration {
		i := int(q*float64(len(s))+0.5) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(s) {
			i = len(s) - 1
		}
		return s[i]
	}
	return percentiles{at(0.50), at(0.90), at(0.99), s[len(s)-1]}
}

// hammer runs conc loops that call one until d has passed or limit calls were
// started, whichever comes first; one gets the call's sequence number 0, 1, ...
// A call succeeds when it returns a 2xx status and no error. Requests in flight at the
// deadline finish and count.
func hammer(ctx context.Context, conc int, d time.Duration, limit int,
	one func(ctx context.Context, i int) (time.Duration, int, error)) *loadResult {
	res := &loadResult{status: map[int]int{}}
	var started atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			ok, noResp := 0, 0
			status := map[int]int{}
			var first error
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := started.Add(1) - 1
				if i >= int64(limit) {
					break
				}
				lat, code, err := one(ctx, int(i))
				switch {
				case err != nil: // no response, or its body broke off
					noResp++
				case code < 200 || code > 299:
					status[code]++
					err = fmt.Errorf("status %d", code)
				default:
					ok++
					local = append(local, lat)
				}
				if err != nil && first == nil {
					first = err
				}
			}
			res.mu.Lock()
			defer res.mu.Unlock()
			res.ok += ok
			res.netErrs += noResp
			res.samples = append(res.samples, local...)
			for code, n := range status {
				res.status[code] += n
			}
			if res.firstErr == nil {
				res.firstErr = first
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// repoOfPath is the repository a /v2/NAME/(manifests|blobs|tags)/... path names.
func repoOfPath(path string) string {
	rest := strings.TrimPrefix(path, "/v2/")
	for _, sep := range []string{"/manifests/", "/blobs/", "/tags/"} {
		if i := strings.Index(rest, sep); i >= 0 {
			return rest[:i]
		}
	}
	return rest
}
