package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "registryd:", err)
		os.Exit(1)
	}
}

type config struct {
	addr, data, cert, key, level string
	anonymousMount               bool
	maxUploads                   int
	debugAddr                    string
	gcInterval, shutdown         time.Duration
	sweepInterval, pullInterval  time.Duration
	adminUser                    string
	anonymousPull                *bool // nil: keep the stored setting
	tokenLifetime                time.Duration
	softDeleteDays               int
	credentialSets               string
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("registryd", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", env("REGKIT_ADDR", "127.0.0.1:5000"), "listen address")
	fs.StringVar(&c.data, "data", env("REGKIT_DATA", "./data"), "data folder (blobs and metadata)")
	fs.StringVar(&c.cert, "tls-cert", env("REGKIT_TLS_CERT", ""), "TLS certificate file (with -tls-key: serve HTTPS)")
	fs.StringVar(&c.key, "tls-key", env("REGKIT_TLS_KEY", ""), "TLS key file")
	fs.StringVar(&c.level, "log-level", env("REGKIT_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	fs.BoolVar(&c.anonymousMount, "anonymous-mount", env("REGKIT_ANONYMOUS_MOUNT", "true") == "true", "let a mount without from= use any repository holding the blob (single-tenant registries)")
	fs.StringVar(&c.debugAddr, "debug-addr", env("REGKIT_DEBUG_ADDR", ""), "serve Go profiles (/debug/pprof/) on this loopback address")
	fs.IntVar(&c.maxUploads, "max-uploads", 1000, "cap on unfinished upload sessions (0: none)")
	gc, err := time.ParseDuration(env("REGKIT_GC_INTERVAL", "1h"))
	if err != nil {
		return c, fmt.Errorf("REGKIT_GC_INTERVAL: %w", err)
	}
	fs.DurationVar(&c.gcInterval, "gc-interval", gc, "garbage collection interval (0: off)")
	fs.DurationVar(&c.shutdown, "shutdown-timeout", 30*time.Second, "how long running requests may finish on shutdown")
	fs.DurationVar(&c.sweepInterval, "sweep-interval", time.Minute, "how often untagged retention and stored policies run (0: off)")
	fs.DurationVar(&c.pullInterval, "pull-interval", time.Minute, "how often last-pull times are written (0: not recorded)")
	fs.StringVar(&c.adminUser, "admin-user", env("REGKIT_ADMIN_USER", ""), "admin user name (password from $REGKIT_ADMIN_PASSWORD); turns credentials on")
	anon := fs.Bool("anonymous-pull", false, "let callers without credentials pull (stored in the data folder); turns credentials on")
	fs.IntVar(&c.softDeleteDays, "soft-delete-days", -1, "turn soft delete on, keeping deleted items restorable for N days (1-90; 0: off; unset: keep the stored setting)")
	fs.StringVar(&c.credentialSets, "credential-sets", env("REGKIT_CREDENTIAL_SETS", ""), "folder of the cache rules' credential sets: DIR/NAME/username and DIR/NAME/password, read at each use")
	fs.DurationVar(&c.tokenLifetime, "token-lifetime", 0, "lifetime of the access tokens the registry issues (0: the token service's default, 75m)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "anonymous-pull" {
			c.anonymousPull = anon
		}
	})
	if c.adminUser != "" && os.Getenv("REGKIT_ADMIN_PASSWORD") == "" {
		return c, errors.New("-admin-user needs its password in $REGKIT_ADMIN_PASSWORD")
	}
	if c.softDeleteDays > 90 || c.softDeleteDays < -1 {
		return c, errors.New("-soft-delete-days must be 0 to 90")
	}
	if c.tokenLifetime < 0 {
		return c, errors.New("-token-lifetime must not be negative")
	}
	if (c.cert == "") != (c.key == "") {
		return c, errors.New("-tls-cert and -tls-key go together")
	}
	return c, nil
}

func run(args []string) error {
	c, err := parseFlags(args)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.level)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	opts := []registry.Option{registry.WithBackgroundGC(c.gcInterval), registry.WithMaxUploads(c.maxUploads),
		registry.WithSweepInterval(c.sweepInterval), registry.WithPullRecording(c.pullInterval)}
	if c.credentialSets != "" {
		opts = append(opts, registry.WithCacheCredentials(credentialSets(c.credentialSets)))
	}
	reg, err := registry.Open(c.data, opts...)
	if err != nil {
		return err
	}
	if err := setSoftDelete(context.Background(), reg, c.softDeleteDays); err != nil {
		return errors.Join(err, reg.Close())
	}
	tokens, mode, err := credentials(context.Background(), c, reg)
	if err != nil {
		return errors.Join(err, reg.Close())
	}
	logger.Info(mode)
	api := httpapi.New(reg, httpapi.WithLogger(logger), httpapi.WithAnonymousMount(c.anonymousMount),
		httpapi.WithAuthorizer(tokens.Authorizer()), httpapi.WithTokenHandler(tokens.Handler()))
	srv := newServer(logRequests(logger, routes(reg, api)), logger)
	if c.debugAddr != "" {
		dbg := http.NewServeMux()
		dbg.HandleFunc("/debug/pprof/", pprof.Index)
		dbg.HandleFunc("/debug/pprof/profile", pprof.Profile)
		dbg.HandleFunc("/debug/pprof/trace", pprof.Trace)
		go func() { logger.Warn("debug server stopped", "err", http.ListenAndServe(c.debugAddr, dbg)) }()
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return errors.Join(err, reg.Close())
	}
	logger.Info("registryd listening", "addr", ln.Addr().String(), "data", c.data, "tls", c.cert != "")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		if c.cert != "" {
			errc <- srv.http.ServeTLS(ln, c.cert, c.key)
		} else {
			errc <- srv.http.Serve(ln)
		}
	}()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
		// A second signal kills the process (the default action), for
		// a handler that never returns.
		stop()
		logger.Info("shutting down", "timeout", c.shutdown)
	}
	// The registry is closed only once no handler runs: shutdown returns
	// after the last one, even past its timeout.
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdown)
	defer cancel()
	if err := srv.shutdown(sctx); err != nil {
		logger.Warn("running requests cut at the shutdown timeout", "err", err)
	}
	if err := reg.Close(); err != nil {
		return errors.Join(serveErr, fmt.Errorf("closing the registry: %w", err))
	}
	logger.Info("registry closed")
	return serveErr
}

// routes serves the OCI API under /v2, ACR's under /acr/v1, the token
// endpoints under /oauth2 and the health check at /healthz. Two
// routes need no ServeMux (and its path cleaning on every request).
func routes(reg *registry.Registry, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/v2"), strings.HasPrefix(r.URL.Path, "/acr/"),
			strings.HasPrefix(r.URL.Path, "/oauth2/"):
			api.ServeHTTP(w, r)
		case r.URL.Path == "/healthz":
			healthz(w, r, reg)
		default:
			http.NotFound(w, r)
		}
	})
}

// healthz answers 200 "ok" while the registry serves reads and writes, and
// 503 with the reason (Registry.Health) when it does not: a store went
// read-only or failed, or the registry is closed.
func healthz(w http.ResponseWriter, r *http.Request, reg *registry.Registry) {
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	if err := reg.Health(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "unavailable: "+err.Error()+"\n")
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

// statusWriter records the status and size of a response for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

// ReadFrom keeps the ResponseWriter's own ReadFrom (sendfile) in use.
func (s *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := io.Copy(s.ResponseWriter, r)
	s.bytes += n
	return n, err
}

// logRequests writes one structured line per request (at info level; at
// error for 5xx). When that level is off it costs nothing.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if !logger.Enabled(ctx, slog.LevelInfo) && !logger.Enabled(ctx, slog.LevelError) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		lvl := slog.LevelInfo
		if sw.status >= 500 {
			lvl = slog.LevelError
		}
		if r.URL.Path == "/healthz" {
			lvl = slog.LevelDebug
		}
		if logger.Enabled(ctx, lvl) {
			logger.LogAttrs(ctx, lvl, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes), slog.Duration("duration", time.Since(start)),
				slog.String("remote", r.RemoteAddr))
		}
	})
}

// setSoftDelete applies -soft-delete-days: N turns soft delete on for N
// days, 0 turns it off (keeping the stored days), -1 (unset) keeps the
// stored setting.
func setSoftDelete(ctx context.Context, reg *registry.Registry, days int) error {
	switch {
	case days < 0:
		return nil
	case days == 0:
		p, err := reg.SoftDelete(ctx)
		if err != nil || !p.Enabled {
			return err
		}
		_, err = reg.SetSoftDelete(ctx, false, p.Days)
		return err
	}
	_, err := reg.SetSoftDelete(ctx, true, days)
	return err
}
