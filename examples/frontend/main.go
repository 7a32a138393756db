package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	blobfs "github.com/regkit/regkit/blob/fs"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/meta/bolt"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

type config struct {
	addr, data, adminGroup string
	sign, groups           string
	ttl                    time.Duration
}

// run is the program; it returns the exit status: 0, 1 (failed), 2 (bad usage).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flag.NewFlagSet("frontend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:5050", "listen address")
	fs.StringVar(&c.data, "data", "", "data folder (empty: hold everything in memory)")
	fs.StringVar(&c.adminGroup, "admin-group", "admins", "group whose members may list the catalog")
	fs.StringVar(&c.sign, "sign", "", "print signed identity headers for this user and exit (for curl)")
	fs.StringVar(&c.groups, "groups", "", "with -sign: comma-separated groups")
	fs.DurationVar(&c.ttl, "ttl", time.Hour, "with -sign: how long the signature holds")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	secret := os.Getenv("FRONTEND_SECRET")
	if secret == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "frontend: set FRONTEND_SECRET (the secret shared with the proxy); no arguments are taken")
		return 2
	}
	s := signer{secret: []byte(secret), now: time.Now}
	if c.sign != "" {
		h := http.Header{}
		s.sign(h, identity{User: c.sign, Groups: strings.Split(c.groups, ",")}, c.ttl)
		for _, k := range []string{headerUser, headerGroups, headerExpires, headerSignature} {
			fmt.Fprintf(stdout, "-H '%s: %s' ", k, h.Get(k))
		}
		fmt.Fprintln(stdout)
		return 0
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if err := serve(ctx, c, s, logger); err != nil {
		logger.Error("frontend stopped", "err", err)
		return 1
	}
	return 0
}

// openRegistry is the frontend's storage choice: blob/fs and plain bbolt
// under dir, or memory.
func openRegistry(dir string) (reg *registry.Registry, closeAll func() error, err error) {
	if dir == "" {
		reg, err := registry.NewMemory()
		if err != nil {
			return nil, nil, err
		}
		return reg, reg.Close, nil
	}
	blobs, err := blobfs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		return nil, nil, err
	}
	store, err := bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		return nil, nil, err
	}
	reg, err = registry.New(blobs, store)
	if err != nil {
		return nil, nil, errors.Join(err, store.Close())
	}
	// The host made the stores, so the host closes them, after the registry.
	return reg, func() error { return errors.Join(reg.Close(), store.Close()) }, nil
}

func serve(ctx context.Context, c config, s signer, logger *slog.Logger) error {
	reg, closeAll, err := openRegistry(c.data)
	if err != nil {
		return err
	}
	auth := groupAuthorizer{signer: s, adminGroup: c.adminGroup}
	srv := &http.Server{Handler: newMux(reg, auth, logger), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return errors.Join(err, closeAll())
	}
	logger.Info("frontend listening", "addr", ln.Addr().String(), "data", c.data)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err = srv.Shutdown(sctx)
	}
	return errors.Join(err, closeAll())
}

// newMux puts the registry's handler beside the frontend's own routes.
func newMux(reg *registry.Registry, auth groupAuthorizer, logger *slog.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/v2/", httpapi.New(reg, httpapi.WithAuthorizer(auth), httpapi.WithLogger(logger)))
	mux.HandleFunc("GET /frontend/whoami", func(w http.ResponseWriter, r *http.Request) {
		id, err := auth.signer.verify(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		writeJSON(w, id)
	})
	mux.HandleFunc("GET /frontend/repositories", func(w http.ResponseWriter, r *http.Request) {
		id, err := auth.signer.verify(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		repos, err := writable(r.Context(), reg, auth, id)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, map[string]any{"namespaces": auth.namespaces(id), "repositories": repos})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := reg.Health(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

// writable lists the repositories id may push to, walking the catalog.
func writable(ctx context.Context, reg *registry.Registry, auth groupAuthorizer, id identity) ([]string, error) {
	out := []string{}
	last := ""
	for {
		page, err := reg.Repositories(ctx, last, 1000)
		if err != nil {
			return nil, err
		}
		for _, name := range page {
			if auth.mayWrite(id, name) {
				out = append(out, name)
			}
		}
		if len(page) < 1000 {
			return out, nil
		}
		last = page[len(page)-1]
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
