package blob

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// copyBufferSize is the chunk Copy moves at a time: large enough that
// backends can overlap hashing and writing, small enough for constant memory.
const copyBufferSize = 1 << 20

// copyBuffers recycles Copy's buffers between calls.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

// Copy copies src to dst until src reports io.EOF, and stops with ctx.Err()
// once ctx is done. Use it to feed a Writer from a network body.
//
// A dst that implements io.ReaderFrom (the fs backend's Writer) does the
// copy itself. Otherwise Copy fills a whole 1 MiB buffer before each Write,
// since a streamed body arrives in small pieces and backends hash and write
// large chunks better; once src proves larger than one buffer, each full
// buffer is written on a second goroutine while this one reads the next, so
// reading src overlaps the Writer's hashing instead of adding to it. Writes
// stay in order, one at a time, and Copy returns only after the last one
// ended. A src that fails, io.ErrUnexpectedEOF included (a request body cut
// short), makes Copy return that error after writing the bytes read before
// it: a short body is never taken for a complete one. A panic in dst.Write
// on the second goroutine is returned as an error.
func Copy(ctx context.Context, dst io.Writer, src io.Reader) (int64, error) {
	if rf, ok := dst.(io.ReaderFrom); ok {
		return rf.ReadFrom(ctxReader{ctx, src})
	}
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	cur := *bp
	var (
		spare    *[]byte
		other    []byte
		done     chan error
		inflight bool
		total    int64
		pending  int
	)
	defer func() {
		if spare != nil {
			copyBuffers.Put(spare)
		}
	}()
	for {
		n, rerr := Fill(ctx, src, cur)
		if inflight {
			inflight = false
			if werr := <-done; werr != nil {
				return total, werr
			}
			total += int64(pending)
		}
		if n > 0 {
			if rerr == nil {
				// A full buffer: more may follow. Write it while reading on.
				if spare == nil {
					spare = copyBuffers.Get().(*[]byte)
					other = *spare
					done = make(chan error, 1)
				}
				go func(p []byte) { done <- writeAll(dst, p) }(cur[:n])
				inflight, pending = true, n
				cur, other = other, cur
				continue
			}
			if werr := writeAll(dst, cur[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		switch rerr {
		case nil:
		case io.EOF:
			return total, nil
		default:
			return total, rerr
		}
	}
}

// Fill reads from r until p is full, r fails or ctx is done, and returns
// how many bytes it read and the error that stopped it (nil when p is
// full). Unlike io.ReadFull, it returns io.EOF only at r's clean end: a
// reader that ends early with io.ErrUnexpectedEOF (a request body cut
// short) keeps that error. Backends that implement io.ReaderFrom for a
// Writer read their chunks with it.
func Fill(ctx context.Context, r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// writeAll writes p to dst as one Write, reporting a short write and turning
// a panic in dst (which on Copy's second goroutine would end the process)
// into an error.
func writeAll(dst io.Writer, p []byte) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if perr, ok := v.(error); ok {
				err = fmt.Errorf("panic in write: %w", perr)
			} else {
				err = fmt.Errorf("panic in write: %v", v)
			}
		}
	}()
	n, err := dst.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return err
}
