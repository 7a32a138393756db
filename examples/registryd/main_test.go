package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/regkit/regkit/internal/bearer"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(config) bool
		wantErr bool
	}{
		{"defaults", nil, nil, func(c config) bool {
			return c.addr == "127.0.0.1:5000" && c.data == "./data" && c.level == "info" && c.gcInterval == time.Hour && c.anonymousMount
		}, false},
		{"environment", map[string]string{"REGKIT_ADDR": ":6000", "REGKIT_DATA": "/srv/reg", "REGKIT_GC_INTERVAL": "5m"}, nil,
			func(c config) bool { return c.addr == ":6000" && c.data == "/srv/reg" && c.gcInterval == 5*time.Minute }, false},
		{"flags win over environment", map[string]string{"REGKIT_ADDR": ":6000"}, []string{"-addr", ":7000"},
			func(c config) bool { return c.addr == ":7000" }, false},
		{"cert without key", nil, []string{"-tls-cert", "c.pem"}, nil, true},
		{"bad gc interval", map[string]string{"REGKIT_GC_INTERVAL": "soon"}, nil, nil, true},
		{"unknown flag", nil, []string{"-nope"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"REGKIT_ADDR", "REGKIT_DATA", "REGKIT_GC_INTERVAL", "REGKIT_TLS_CERT", "REGKIT_TLS_KEY", "REGKIT_LOG_LEVEL", "REGKIT_ANONYMOUS_MOUNT", "REGKIT_DEBUG_ADDR"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := parseFlags(tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && !tt.check(c) {
				t.Fatalf("config = %+v", c)
			}
		})
	}
}

// TestGracefulShutdown runs the real binary: it answers /healthz, and on
// SIGTERM it refuses new connections but lets an upload in progress finish.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	dir := t.TempDir()
	bin := buildRegistryd(t, dir)
	addr := freeAddr(t)
	cmd := exec.Command(bin, "-addr", addr, "-data", filepath.Join(dir, "data"), "-log-level", "warn", "-shutdown-timeout", "20s")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	waitReady(t, base+"/healthz")

	// Start an upload session, then stream its body slowly.
	res, err := client.Post(base+"/v2/app/blobs/uploads/", "", nil)
	if err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("start upload: %v %v", res, err)
	}
	loc := res.Header.Get("Location")
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPatch, base+loc, pr)
	req.Header.Set("Content-Type", "application/octet-stream")
	done := make(chan *http.Response, 1)
	go func() {
		res, err := client.Do(req)
		if err != nil {
			t.Errorf("PATCH during shutdown: %v", err)
		}
		done <- res
	}()
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	pw.Write(chunk)
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	// New connections are refused while the upload goes on.
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("server accepted a connection after SIGTERM")
	}
	for i := 0; i < 4; i++ {
		pw.Write(chunk)
		time.Sleep(50 * time.Millisecond)
	}
	pw.Close()
	res = <-done
	if res == nil || res.StatusCode != http.StatusAccepted || res.Header.Get("Range") != fmt.Sprintf("0-%d", 5*len(chunk)-1) {
		t.Fatalf("upload cut by shutdown: %+v", res)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("registryd exited with %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("registryd did not exit after SIGTERM")
	}
}

// client follows registryd's Bearer challenges: even open, a write takes
// an anonymous token first.
var client = &http.Client{Transport: &bearer.Transport{}}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if res, err := client.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", url)
}
