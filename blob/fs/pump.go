package fs

import (
	"context"
	"hash"
	"io"
	"sync"

	"github.com/regkit/regkit/blob"
)

const (
	// pumpBuffer is the size of one buffer of the read, hash and write
	// pipeline: large enough for efficient direct writes, small enough that
	// the first bytes are hashed soon after they arrive.
	pumpBuffer = 2 << 20
	// pumpBuffers is how many buffers one pipeline cycles through, which
	// bounds its memory (8 MiB) and how far reading and writing may run
	// ahead of or behind the hash.
	pumpBuffers = 4
)

// bufferPool hands out directAlign-aligned buffers of pumpBuffer bytes.
type bufferPool struct{ p sync.Pool }

func (bp *bufferPool) get() *[]byte {
	if b, ok := bp.p.Get().(*[]byte); ok {
		return b
	}
	b := alignedBuffer(pumpBuffer)
	return &b
}

func (bp *bufferPool) put(b *[]byte) { bp.p.Put(b) }

// piece is one filled buffer travelling through the pipeline.
type piece struct {
	buf *[]byte
	n   int
	off int64
}

// hashed is what the hash stage tells the write stage about a piece once it
// is hashed: the marshaled hash state at the piece's end when a checkpoint
// is due there (nil otherwise).
type hashed struct {
	state []byte
}

// pumpResult is how a pump ended.
type pumpResult struct {
	n        int64 // bytes read, hashed and written
	readErr  error // the reader's first error other than io.EOF
	writeErr error // the first write or checkpoint error
}

// pump copies r into h and through k, from offset off, until r reports
// io.EOF, r fails, or a write fails. Three stages overlap: a goroutine reads
// r into pooled buffers, the caller's goroutine hashes them in order, and a
// second goroutine writes them in order, starting each write as soon as the
// buffer is full, while the same buffer is being hashed. The cost of a large
// copy is then that of its slowest stage (the hash, normally) instead of
// the sum of the three; a slow disk write no longer stalls the hash unless
// the writes fall a whole pipeline behind.
//
// With ckpt set, the hash state is marshaled every checkpointEvery bytes and
// ckpt is called with it on the write stage once the bytes it covers are
// written, so a checkpoint never describes bytes the file lacks. A small r
// (one buffer or less) is copied on the caller's goroutine alone.
//
// When pump returns, no goroutine it started touches r, k or h any more. The
// bytes counted in n are both hashed and written; a read error leaves them
// so, a write error leaves h ahead of the file.
func (s *Store) pump(ctx context.Context, k *sink, h hash.Hash, off int64, r io.Reader, ckpt func(end int64, state []byte) error) pumpResult {
	first := s.bufs.get()
	n, rerr := blob.Fill(ctx, r, *first)
	if rerr != nil {
		// The whole body fit in one buffer: no pipeline needed.
		defer s.bufs.put(first)
		res := pumpResult{}
		if n > 0 {
			if err := writeHashed(k, h, off, (*first)[:n]); err != nil {
				res.writeErr = err
				return res
			}
			res.n = int64(n)
		}
		if rerr != io.EOF {
			res.readErr = rerr
		}
		return res
	}
	p := &pipeline{
		k:      k,
		full:   make(chan piece, pumpBuffers),
		write:  make(chan piece, pumpBuffers),
		hashed: make(chan hashed, pumpBuffers),
		free:   make(chan *[]byte, pumpBuffers),
		quit:   make(chan struct{}),
		ckpt:   ckpt,
	}
	p.full <- piece{buf: first, n: n, off: off}
	for range pumpBuffers - 1 {
		p.free <- s.bufs.get()
	}
	readDone := make(chan error, 1)
	writeDone := make(chan error, 1)
	go func() { readDone <- p.read(ctx, r, off+int64(n)) }()
	go func() { writeDone <- p.writeAll() }()

	res := pumpResult{}
	var sinceCkpt int64
	for pc := range p.full {
		if p.failed() {
			p.free <- pc.buf
			continue // drain, so the reader can finish
		}
		p.write <- pc
		h.Write((*pc.buf)[:pc.n])
		res.n += int64(pc.n)
		sinceCkpt += int64(pc.n)
		var hd hashed
		if ckpt != nil && sinceCkpt >= checkpointEvery {
			hd.state = blob.MarshalHashState(h)
			sinceCkpt = 0
		}
		p.hashed <- hd
	}
	close(p.write)
	res.writeErr = <-writeDone
	if err := <-readDone; err != io.EOF {
		res.readErr = err
	}
	if res.writeErr != nil {
		res.n = p.writtenN
	}
	for range pumpBuffers {
		s.bufs.put(<-p.free)
	}
	return res
}

// pipeline is the state the stages of one pump share.
type pipeline struct {
	k      *sink
	full   chan piece   // read stage to hash stage; closed when reading ends
	write  chan piece   // hash stage to write stage; closed after the last piece
	hashed chan hashed  // hash stage to write stage, one per piece, in order
	free   chan *[]byte // write stage back to read stage
	quit   chan struct{}
	ckpt   func(end int64, state []byte) error

	once     sync.Once
	writtenN int64 // bytes written before the first failure (write stage)
}

// fail tells the read stage to stop; the write stage calls it on an error.
func (p *pipeline) fail() { p.once.Do(func() { close(p.quit) }) }

func (p *pipeline) failed() bool {
	select {
	case <-p.quit:
		return true
	default:
		return false
	}
}

// read fills free buffers from r and passes them on, until r ends or fails
// or the write stage fails. It returns r's error (io.EOF at a clean end).
func (p *pipeline) read(ctx context.Context, r io.Reader, off int64) error {
	defer close(p.full)
	for {
		var b *[]byte
		select {
		case b = <-p.free:
		case <-p.quit:
			return io.EOF
		}
		n, err := blob.Fill(ctx, r, *b)
		if n > 0 {
			p.full <- piece{buf: b, n: n, off: off}
			off += int64(n)
		} else {
			p.free <- b
		}
		if err != nil {
			return err
		}
		if p.failed() {
			return io.EOF
		}
	}
}

// writeAll writes each piece at its offset, waits until it is hashed too,
// saves a checkpoint when one is due, and hands the buffer back to the read
// stage. After a failure it only hands buffers back.
func (p *pipeline) writeAll() error {
	var err error
	for pc := range p.write {
		if err == nil {
			if err = p.k.writeAt((*pc.buf)[:pc.n], pc.off); err != nil {
				p.fail()
			}
		}
		hd := <-p.hashed
		if err == nil {
			p.writtenN += int64(pc.n)
			if hd.state != nil && p.ckpt != nil {
				if err = p.ckpt(pc.off+int64(pc.n), hd.state); err != nil {
					p.fail()
				}
			}
		}
		p.free <- pc.buf
	}
	return err
}
