package fs

import (
	"context"
	"hash"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

const (
	// checkpointEvery is how many bytes a Writer writes between hash-state
	// checkpoints: the most a Resume after a crash re-hashes.
	checkpointEvery = 8 << 20
	// writebackEvery is how many bytes a Writer writes between hints to the
	// kernel to start writing them to disk.
	writebackEvery = 4 << 20
	// overlapMin is the smallest write whose file write runs on a second
	// goroutine while the caller hashes it; below it, waking a goroutine
	// costs more than it saves.
	overlapMin = 128 << 10
	// chunkSize is the buffer of re-hashing a file.
	chunkSize = 1 << 20
)

// algorithm returns alg, or SHA-256 when alg is not available (a lost or
// foreign checkpoint: the algorithm only decides speed, never correctness,
// because Commit re-hashes with the expected digest's algorithm if needed).
func algorithm(alg digest.Algorithm) digest.Algorithm {
	if alg.Available() {
		return alg
	}
	return digest.SHA256
}

// writer holds an upload: its data file, locked, and its state file.
type writer struct {
	s       *Store
	id      string
	dir     string
	f       file  // data, flocked
	k       *sink // writes data
	sf      file  // state
	alg     digest.Algorithm
	started time.Time

	mu   sync.Mutex // guards the fields below; h and off change together
	h    hash.Hash
	off  int64 // bytes in data, all hashed into h
	seq  uint64
	ckpt int64 // offset of the last checkpoint
	done bool  // committed or closed
	err  error // a failed write left h ahead of data; only Close remains
}

var (
	_ blob.Writer   = (*writer)(nil)
	_ io.ReaderFrom = (*writer)(nil)
)

func (w *writer) ID() string { return w.id }

func (w *writer) Size() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.off
}

func (w *writer) Digest() digest.Digest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return blob.FormatDigest(w.alg, w.h)
}

func (w *writer) usable() error {
	if w.done {
		return errorf(blob.ErrInvalid, "upload %s: writer is finished", w.id)
	}
	return w.err
}

// Write appends p to the upload.
func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return 0, err
	}
	if err := writeHashed(w.k, w.h, w.off, p); err != nil {
		w.fail(ioError("write upload "+w.id, err))
		return 0, w.err
	}
	w.off += int64(len(p))
	if w.off-w.ckpt >= checkpointEvery {
		if err := w.checkpoint(); err != nil {
			w.err = ioError("checkpoint upload "+w.id, err)
			return len(p), w.err
		}
	}
	return len(p), nil
}

// ReadFrom copies r into the upload until r reports io.EOF; io.Copy uses
// it. Reading, hashing and writing overlap (see pump), so a large body costs
// about what hashing it costs. Any other error of r, io.ErrUnexpectedEOF
// included, is returned once the bytes read before it are stored: a body
// cut short is never mistaken for a complete one.
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return 0, err
	}
	res := w.s.pump(context.Background(), w.k, w.h, w.off, r, func(end int64, state []byte) error {
		w.seq++
		c := checkpoint{seq: w.seq, offset: end, alg: w.alg, hash: state, started: w.started, boot: w.s.boot}
		if err := writeCheckpoint(w.sf, c); err != nil {
			return err
		}
		w.ckpt = end
		return nil
	})
	w.off += res.n
	if res.writeErr != nil {
		w.fail(ioError("write upload "+w.id, res.writeErr))
		return res.n, w.err
	}
	if w.off-w.ckpt >= checkpointEvery {
		if err := w.checkpoint(); err != nil {
			w.err = ioError("checkpoint upload "+w.id, err)
			return res.n, w.err
		}
	}
	return res.n, res.readErr
}

// fail records a failed write: h is ahead of the file, so the Writer is
// spent (Close keeps the upload for Resume, which re-hashes what the file
// holds). The file is cut back to w.off, the bytes known written, so that
// part of a write that failed (written short, or torn by an I/O error)
// never becomes part of the upload. If that fails too, the tail stays, and
// Resume hashes it: a Commit then checks those bytes, never trusts them.
func (w *writer) fail(err error) {
	w.err = err
	_ = w.f.Truncate(w.off)
}

// writeHashed writes p at off through k and feeds it to h. Large buffers
// are written by a second goroutine while this one hashes, so the cost is
// the slower of the two instead of their sum.
func writeHashed(k *sink, h hash.Hash, off int64, p []byte) error {
	if len(p) < overlapMin {
		if err := k.writeAt(p, off); err != nil {
			return err
		}
		h.Write(p)
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- k.writeAt(p, off) }()
	h.Write(p)
	return <-done
}

// checkpoint saves the hash state for the current offset.
func (w *writer) checkpoint() error {
	w.seq++
	c := checkpoint{seq: w.seq, offset: w.off, alg: w.alg, hash: blob.MarshalHashState(w.h), started: w.started, boot: w.s.boot}
	if err := writeCheckpoint(w.sf, c); err != nil {
		return err
	}
	w.ckpt = w.off
	return nil
}

// Commit verifies the upload, publishes it under expected and ends it.
func (w *writer) Commit(ctx context.Context, expected digest.Digest, size int64) (blob.Info, error) {
	d, err := parse(ctx, expected)
	if err != nil {
		return blob.Info{}, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return blob.Info{}, errorf(blob.ErrNotFound, "upload %s is finished", w.id)
	}
	if w.err != nil {
		return blob.Info{}, w.err
	}
	if size >= 0 && size != w.off {
		return blob.Info{}, errorf(blob.ErrSizeMismatch, "upload %s holds %d bytes, expected %d", w.id, w.off, size)
	}
	got := blob.FormatDigest(w.alg, w.h)
	if d.Algorithm() != w.alg {
		h := d.Algorithm().Hash()
		if err := hashFile(ctx, w.f, h, 0, w.off); err != nil {
			return blob.Info{}, err
		}
		got = blob.FormatDigest(d.Algorithm(), h)
	}
	if got != d {
		return blob.Info{}, errorf(blob.ErrDigestMismatch, "upload %s hashes to %s, expected %s", w.id, got, d)
	}
	info, out, err := w.s.publish(w.f, filepath.Join(w.dir, "data"), d)
	switch out {
	case consumed:
		// The data file is gone from the upload: end it.
		_ = w.finish(true)
	case spoiled:
		// Its bytes on disk are unknown: the upload cannot be trusted.
		w.err = err
		_ = w.finish(true)
	}
	return info, err
}

// Close keeps the upload for Resume: it saves an exact checkpoint and
// releases the lock.
func (w *writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	var err error
	if w.err == nil && w.ckpt != w.off {
		if cerr := w.checkpoint(); cerr != nil {
			err = ioError("checkpoint upload "+w.id, cerr)
		}
	}
	if cerr := w.finish(false); err == nil {
		err = cerr
	}
	return err
}

// finish ends the writer: closes its files, which drops the flock, removes
// the upload directory if remove, and releases the in-process hold.
func (w *writer) finish(remove bool) error {
	w.done = true
	if remove {
		_ = w.s.fsys.RemoveAll(w.dir)
	}
	err := w.closeFiles()
	w.s.release(w.id)
	if err != nil {
		return ioError("close upload "+w.id, err)
	}
	return nil
}

func (w *writer) closeFiles() error {
	var err error
	if w.k != nil {
		err = w.k.close()
	}
	if w.sf != nil {
		if cerr := w.sf.Close(); err == nil {
			err = cerr
		}
	}
	if w.f != nil {
		if cerr := w.f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// hashFile feeds bytes [from, to) of f to h, in chunks, watching ctx.
func hashFile(ctx context.Context, f file, h hash.Hash, from, to int64) error {
	if from >= to {
		return nil
	}
	buf := make([]byte, min(to-from, chunkSize))
	for off := from; off < to; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := f.ReadAt(buf[:min(int64(len(buf)), to-off)], off)
		h.Write(buf[:n])
		off += int64(n)
		if err != nil && !(err == io.EOF && off == to) {
			return ioError("read "+f.Name(), err)
		}
	}
	return nil
}
