package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/regkit/regkit/internal/bearer"
)

// modes maps each mode name to the function that runs it with its arguments.
var modes = map[string]func(ctx context.Context, args []string, out io.Writer) error{
	"pushblob":  runPushBlob,
	"pullblob":  runPullBlob,
	"get":       runGet,
	"manifests": runManifests,
	"seed":      runSeed,
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "regload:", err)
		os.Exit(1)
	}
}

// run dispatches to the mode named by args[0].
func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || modes[args[0]] == nil {
		names := make([]string, 0, len(modes))
		for n := range modes {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: regload <mode> [flags]; modes: %s\n", strings.Join(names, ", "))
		return flag.ErrHelp
	}
	return modes[args[0]](ctx, args[1:], out)
}

// common holds the flags every mode takes.
type common struct {
	url     string
	timeout time.Duration
}

func addCommon(fs *flag.FlagSet) *common {
	c := &common{}
	fs.StringVar(&c.url, "url", "http://127.0.0.1:5000", "registry base URL (loopback only)")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "bound on the whole run")
	return c
}

// target is a registry on a loopback address and an HTTP client that cannot leave it.
type target struct {
	base   *url.URL
	client *http.Client
}

// newTarget checks rawURL and builds a client with up to conns keep-alive connections.
func newTarget(rawURL string, conns int) (*target, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bad -url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("bad -url %q: scheme must be http or https", rawURL)
	}
	if !loopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("refusing %q: only loopback hosts (127.0.0.0/8, ::1, localhost)", rawURL)
	}
	if u.Port() == "" {
		return nil, fmt.Errorf("bad -url %q: give the port", rawURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	if conns < 1 {
		conns = 1
	}
	tr := &http.Transport{
		Proxy:                 nil, // never through a proxy: the traffic stays on this machine
		DialContext:           dialLoopback,
		MaxIdleConns:          2 * conns,
		MaxIdleConnsPerHost:   conns,
		MaxConnsPerHost:       conns,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ResponseHeaderTimeout: 2 * time.Minute,
	}
	client := &http.Client{
		// Writes to registryd take a token first, even on an open server.
		Transport: &bearer.Transport{Base: tr},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if !loopbackHost(req.URL.Hostname()) {
				return fmt.Errorf("refusing redirect to non-loopback %s", req.URL.Host)
			}
			return nil
		},
	}
	return &target{base: u, client: client}, nil
}

var dialer = &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}

// dialLoopback connects to addr and keeps the connection only if its far end is a
// loopback address. This is the guard that matters: whatever name was asked for, and
// wherever a redirect pointed, no connection leaves this machine.
func dialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if ta, ok := conn.RemoteAddr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		conn.Close()
		return nil, fmt.Errorf("refusing connection to non-loopback %s", conn.RemoteAddr())
	}
	return bulkConn{conn}, nil
}

// bulkWrite is the size of the writes bulkConn makes of a request body.
const bulkWrite = 1 << 20

// bulkConn sends request bodies in writes of bulkWrite bytes. net/http's client
// copies a body to the connection through the connection's ReadFrom, which for a
// TCP connection writes 32 KiB at a time: for a large push that is 32 times the
// system calls and loopback wake-ups, all on the CPU the server is measured on.
type bulkConn struct{ net.Conn }

// ReadFrom copies r to the connection in writes of up to bulkWrite bytes.
func (c bulkConn) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, bulkWrite)
	var total int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			m, werr := c.Conn.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// loopbackHost reports whether host names this machine's loopback.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// endpoint returns the absolute URL of path (which starts with /v2/) on the registry.
func (t *target) endpoint(path string) string {
	return t.base.String() + path
}

// resolve turns a Location header (absolute or relative) into an absolute URL on the
// registry, refusing a different host.
func (t *target) resolve(loc string) (*url.URL, error) {
	if loc == "" {
		return nil, errors.New("response has no Location header")
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("bad Location %q: %w", loc, err)
	}
	u := t.base.ResolveReference(ref)
	if !loopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("refusing Location %q: not loopback", loc)
	}
	return u, nil
}

// do sends req and returns the response after checking its status is one of want; on
// a mismatch it drains the body and returns an error that quotes the start of it.
func (t *target) do(req *http.Request, want ...int) (*http.Response, error) {
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	for _, w := range want {
		if resp.StatusCode == w {
			return resp, nil
		}
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	return nil, &statusError{method: req.Method, url: req.URL.Path, code: resp.StatusCode, body: strings.TrimSpace(string(body))}
}

// statusError is an HTTP answer with an unexpected status.
type statusError struct {
	method, url string
	code        int
	body        string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.method, e.url, e.code, e.body)
}

// drain reads what is left of a response body and closes it, so that the connection
// can be reused.
func drain(resp *http.Response) {
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// mibps returns n bytes over d in MiB per second.
func mibps(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / (1 << 20) / d.Seconds()
}

// perSecond returns n events over d per second.
func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// ms formats d in milliseconds with three decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
}

// parseFlags parses args into fs and rejects positional leftovers.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return nil
}

// checkRepo rejects repository names the OCI grammar would not accept, so that a typo
// fails before any load is sent.
func checkRepo(repo string) error {
	if repo == "" || len(repo) > 255 || strings.HasPrefix(repo, "/") || strings.HasSuffix(repo, "/") {
		return fmt.Errorf("bad -repo %q", repo)
	}
	for _, r := range repo {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/", r)
		if !ok {
			return fmt.Errorf("bad -repo %q: only a-z, 0-9, '.', '_', '-' and '/'", repo)
		}
	}
	return nil
}
