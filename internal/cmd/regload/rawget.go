package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// rawConn is one keep-alive HTTP/1.1 connection that sends prepared requests (the same
// GET or HEAD again and again, or PUTs and DELETEs built by rawRequest) and reads only
// what it needs of each answer (status, length, framing).
// It costs a fraction of net/http's client per request, so that on a small machine
// the load tool leaves the CPU to the server it measures. Plain http only.
type rawConn struct {
	addr    string // host:port to dial
	req     []byte // the whole request, sent as is
	head    bool   // HEAD: answers have no body
	timeout time.Duration
	conn    net.Conn
	br      *bufio.Reader
	reused  bool // conn has carried a request before
}

// newRawConn prepares requests of method for path on host (the Host header and the
// address dialed), with the given Accept header and any other header pairs.
func newRawConn(host, method, path, accept string, header ...string) *rawConn {
	req := rawRequest(host, method, path, nil, append([]string{"Accept", accept}, header...)...)
	return &rawConn{addr: host, req: req, head: method == "HEAD", timeout: time.Minute}
}

// rawRequest returns a whole request of method for path on host, for rawConn.send:
// the header pairs given (name, value; an empty value is left out), then the body
// with its Content-Length when body is not nil.
func rawRequest(host, method, path string, body []byte, header ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: regload\r\n", method, path, host)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] != "" {
			fmt.Fprintf(&b, "%s: %s\r\n", header[i], header[i+1])
		}
	}
	if body != nil {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

func (c *rawConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.br, c.reused = nil, nil, false
	}
}

// do sends one request and reads its whole answer. It returns the latency and the
// status; a request that got no complete answer returns an error and status 0. A
// keep-alive connection the server had already closed is redialed once, uncounted.
func (c *rawConn) do(ctx context.Context) (time.Duration, int, error) {
	return c.send(ctx, c.req)
}

// send is do with another request than the connection's own (one that
// rawRequest built, for a method whose answer has a body unless it is HEAD).
func (c *rawConn) send(ctx context.Context, req []byte) (time.Duration, int, error) {
	start := time.Now()
	code, err := c.roundTrip(ctx, req)
	if err != nil && c.reused && code == 0 && (errors.Is(err, io.EOF) || isReset(err)) {
		c.close()
		start = time.Now()
		code, err = c.roundTrip(ctx, req)
	}
	if err != nil {
		c.close()
		return time.Since(start), 0, err
	}
	return time.Since(start), code, nil
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

func (c *rawConn) roundTrip(ctx context.Context, req []byte) (int, error) {
	if c.conn == nil {
		conn, err := dialLoopback(ctx, "tcp", c.addr)
		if err != nil {
			return 0, err
		}
		c.conn, c.br = conn, bufio.NewReaderSize(conn, 64<<10)
	}
	wasReused := c.reused
	c.reused = true
	c.conn.SetDeadline(time.Now().Add(c.timeout))
	if _, err := c.conn.Write(req); err != nil {
		c.reused = wasReused
		return 0, err
	}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		c.reused = wasReused
		return 0, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length, chunked, closing := int64(-1), false, line[7] == '0' // HTTP/1.0 closes
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, fmt.Errorf("bad header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return 0, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closing = closing || bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case c.head || code == 204 || code == 304 || code < 200:
	case chunked:
		err = c.discardChunked()
	case length >= 0:
		_, err = c.br.Discard(int(length))
	default: // the body runs to the end of the connection
		_, err = io.Copy(io.Discard, c.br)
		closing = true
	}
	if err != nil {
		return 0, err
	}
	if closing {
		c.close()
	}
	return code, nil
}

// discardChunked reads and drops a chunked body and its trailers.
func (c *rawConn) discardChunked() error {
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		sizeText, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		size, err := strconv.ParseInt(string(bytes.TrimSpace(sizeText)), 16, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			for { // trailers, then the empty line
				line, err := c.br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if _, err := c.br.Discard(int(size) + 2); err != nil {
			return err
		}
	}
}
