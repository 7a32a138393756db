package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"

	blobmem "github.com/regkit/regkit/blob/memory"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/meta"
	metamem "github.com/regkit/regkit/registry/meta/memory"
)

// sickStore is a metadata store that reports its health, as a store that
// went read-only after a failed flush does.
type sickStore struct {
	meta.Store
	health error
}

func (s sickStore) Health() error { return s.health }

// TestHealthz: /healthz answers 200 while the registry serves, and 503 with
// the reason when a store is read-only or failed, or the registry is closed.
func TestHealthz(t *testing.T) {
	readOnly := fmt.Errorf("meta/bolt: read-only after a failed fsync: %w: %w", syscall.EIO, meta.ErrUnavailable)
	tests := []struct {
		name   string
		health error
		closed bool // the registry is closed before the check
		status int
		body   []string // substrings of the body
	}{
		{"healthy", nil, false, http.StatusOK, []string{"ok"}},
		{"read-only store", readOnly, false, http.StatusServiceUnavailable, []string{"unavailable", "read-only after a failed fsync", syscall.EIO.Error()}},
		{"failed checkpoint", errors.New("checkpoint: write meta.db: no space left on device"), false, http.StatusServiceUnavailable, []string{"unavailable", "checkpoint: write meta.db: no space left on device"}},
		{"closed registry", nil, true, http.StatusServiceUnavailable, []string{"unavailable", "closed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := metamem.New()
			t.Cleanup(func() { store.Close() })
			reg, err := registry.New(blobmem.New(), sickStore{Store: store, health: tt.health})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { reg.Close() })
			if tt.closed {
				if err := reg.Close(); err != nil {
					t.Fatal(err)
				}
			}
			h := routes(reg, httpapi.New(reg))
			for _, method := range []string{"GET", "HEAD"} {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(method, "/healthz", nil))
				if w.Code != tt.status {
					t.Errorf("%s /healthz = %d %q, want %d", method, w.Code, w.Body, tt.status)
				}
				if method == "HEAD" {
					continue
				}
				for _, want := range tt.body {
					if !strings.Contains(w.Body.String(), want) {
						t.Errorf("/healthz body %q does not name %q", w.Body, want)
					}
				}
			}
		})
	}
}

// TestShutdownWaitsForHandlers: shutdown returns only after every running
// handler returned. A handler that outlives the shutdown's deadline has its
// context cancelled and is still waited for, so the registry closed after
// shutdown is never closed under it.
func TestShutdownWaitsForHandlers(t *testing.T) {
	tests := []struct {
		name string
		// expire ends the shutdown's deadline while the handler runs.
		expire bool
	}{
		{"finishes in time", false},
		{"outlives the deadline", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started := make(chan struct{})
			cancelled := make(chan struct{})
			release := make(chan struct{})
			var mu sync.Mutex
			var order []string
			note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(started)
				if tt.expire {
					<-r.Context().Done()
					close(cancelled)
				}
				<-release // a handler slow to return after its cancellation
				note("handler returned")
				_, _ = io.WriteString(w, "done")
			})
			srv := newServer(h, slog.New(slog.NewTextHandler(io.Discard, nil)))
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.http.Serve(ln)
			resc := make(chan error, 1)
			go func() {
				res, err := client.Get("http://" + ln.Addr().String() + "/")
				if err == nil {
					res.Body.Close()
				}
				resc <- err
			}()
			<-started

			ctx, expire := context.WithCancel(context.Background())
			defer expire()
			done := make(chan error, 1)
			go func() {
				err := srv.shutdown(ctx)
				note("shutdown returned")
				done <- err
			}()
			if tt.expire {
				expire()
				<-cancelled
			}
			select {
			case err := <-done:
				t.Fatalf("shutdown returned (%v) while a handler runs", err)
			default:
			}
			close(release)
			err = <-done
			if tt.expire != errors.Is(err, context.Canceled) {
				t.Errorf("shutdown = %v, want the deadline's error: %v", err, tt.expire)
			}
			if err := <-resc; (err == nil) == tt.expire {
				t.Errorf("request finished with %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(order) != 2 || order[0] != "handler returned" {
				t.Errorf("order = %q, want the handler to return before shutdown", order)
			}
		})
	}
}
