package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// sendFileData writes n pattern bytes to a new file and opens it.
func sendFileData(t *testing.T, n int) ([]byte, *os.File) {
	t.Helper()
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + i>>12)
	}
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return data, f
}

// TestSendFile sends files around the window size, mapped and by sendfile,
// to a plain writer and through a real TCP connection (where sendfile is
// used), and checks every byte.
func TestSendFile(t *testing.T) {
	for _, size := range []int{100, sendWindowMin, sendWindow - 1, sendWindow, 2*sendWindow + 12345} {
		data, f := sendFileData(t, size)
		for _, mapped := range []bool{true, false} {
			t.Run(fmt.Sprintf("%d/mapped=%v/buffer", size, mapped), func(t *testing.T) {
				var buf bytes.Buffer
				if err := sendFile(&buf, f, int64(size), mapped); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), data) {
					t.Fatal("sent bytes differ from the file")
				}
			})
			t.Run(fmt.Sprintf("%d/mapped=%v/tcp", size, mapped), func(t *testing.T) {
				got := sendOverTCP(t, func(c net.Conn) error { return sendFile(c, f, int64(size), mapped) })
				if !bytes.Equal(got, data) {
					t.Fatal("received bytes differ from the file")
				}
			})
		}
	}
}

// TestSendFileShort declares more bytes than the file holds: sendFile
// fails instead of sending a short body as if it were whole.
func TestSendFileShort(t *testing.T) {
	_, f := sendFileData(t, sendWindowMin)
	for _, mapped := range []bool{true, false} {
		if err := sendFile(io.Discard, f, sendWindowMin+1, mapped); err == nil {
			t.Errorf("mapped=%v: sendFile past the end of the file succeeded", mapped)
		}
	}
}

// sendOverTCP runs send on the server side of a loopback connection and
// returns what the client received.
func sendOverTCP(t *testing.T, send func(net.Conn) error) []byte {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	errc := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		err = send(c)
		c.Close()
		errc <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return got
}

// TestLoopbackConn checks the address test that picks mapped sends.
func TestLoopbackConn(t *testing.T) {
	cases := []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}, true},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 5000}, true},
		{&net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 5000}, false},
		{&net.UnixAddr{Name: "/tmp/s", Net: "unix"}, false},
		{nil, false},
	}
	for _, c := range cases {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		if c.addr != nil {
			r = r.WithContext(contextWithLocalAddr(r, c.addr))
		}
		if got := loopbackConn(r); got != c.want {
			t.Errorf("loopbackConn(%v) = %v, want %v", c.addr, got, c.want)
		}
	}
}

func contextWithLocalAddr(r *http.Request, a net.Addr) context.Context {
	return context.WithValue(r.Context(), http.LocalAddrContextKey, a)
}
