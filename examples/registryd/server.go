package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// server is registryd's HTTP server. It counts running handlers, so that
// shutdown can return only after the last one and the registry is never
// closed under a request.
type server struct {
	http   *http.Server
	logger *slog.Logger
	// cancel cancels the context of every request (http.Server.BaseContext).
	cancel context.CancelFunc

	mu      sync.Mutex
	running int
	closing bool
	idle    chan struct{} // closed once closing and no handler runs
}

// newServer returns a server of h.
func newServer(h http.Handler, logger *slog.Logger) *server {
	base, cancel := context.WithCancel(context.Background())
	s := &server{logger: logger, cancel: cancel, idle: make(chan struct{})}
	s.http = &http.Server{
		Handler:           s.track(h),
		BaseContext:       func(net.Listener) context.Context { return base },
		ReadHeaderTimeout: 30 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return s
}

// track counts h's running calls. A request that reaches it after shutdown
// stopped waiting (one read off a connection as it was being closed) is
// refused with 503 instead of running against a registry about to close.
func (s *server) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			w.Header().Set("Connection", "close")
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		s.running++
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.running--
			if s.closing && s.running == 0 {
				close(s.idle)
			}
			s.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}

// shutdown stops accepting connections and lets running requests finish
// until ctx is done (http.Server.Shutdown). Past that, it closes the
// requests' connections and cancels their contexts, so body reads and
// registry operations stop, and still waits for every handler to return: when
// shutdown returns, no handler uses the registry. It returns ctx's error
// when requests had to be cut.
func (s *server) shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		// Connections first: a cut request gets no answer, as if the
		// process had stopped, rather than the 499 its handler may write.
		_ = s.http.Close()
		s.cancel()
	}
	s.mu.Lock()
	s.closing = true
	n := s.running
	if n == 0 {
		close(s.idle)
	}
	s.mu.Unlock()
	if n > 0 {
		s.logger.Warn("waiting for running requests", "requests", n)
	}
	<-s.idle
	s.cancel()
	return err
}
