package memory

import (
	"context"
	"hash"
	"io"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// upload is an unfinished upload. Store.mu guards held and the map entry;
// mu guards the content, so Uploads can read sizes while a Writer writes.
type upload struct {
	id      string
	alg     digest.Algorithm
	started time.Time

	held bool // a Writer holds it; guarded by Store.mu

	mu      sync.Mutex
	data    []byte
	h       hash.Hash
	updated time.Time
}

// Writer implements blob.Ingester.
func (s *Store) Writer(ctx context.Context, opts ...blob.WriterOption) (blob.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o, err := blob.ApplyWriterOptions(opts...)
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &upload{id: blob.NewUploadID(), alg: o.Algorithm, started: now, updated: now, h: o.Algorithm.Hash(), held: true}
	s.mu.Lock()
	s.uploads[u.id] = u
	s.mu.Unlock()
	return &writer{s: s, u: u}, nil
}

// Resume implements blob.Ingester.
func (s *Store) Resume(ctx context.Context, id string) (blob.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := blob.CheckUploadID(id); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.uploads[id]
	switch {
	case u == nil:
		return nil, errorf(blob.ErrNotFound, "upload %s", id)
	case u.held:
		return nil, errorf(blob.ErrConflict, "upload %s is held by another writer", id)
	}
	u.held = true
	return &writer{s: s, u: u}, nil
}

// Abort implements blob.Ingester. Aborting an upload a Writer holds returns
// an error wrapping ErrConflict.
func (s *Store) Abort(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := blob.CheckUploadID(id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.uploads[id]
	switch {
	case u == nil:
		return errorf(blob.ErrNotFound, "upload %s", id)
	case u.held:
		return errorf(blob.ErrConflict, "upload %s is held by a writer", id)
	}
	delete(s.uploads, id)
	return nil
}

// Uploads implements blob.UploadLister.
func (s *Store) Uploads(ctx context.Context, fn func(blob.UploadInfo) error) error {
	s.mu.RLock()
	ups := make([]*upload, 0, len(s.uploads))
	for _, u := range s.uploads {
		ups = append(ups, u)
	}
	s.mu.RUnlock()
	for _, u := range ups {
		if err := ctx.Err(); err != nil {
			return err
		}
		u.mu.Lock()
		info := blob.UploadInfo{ID: u.id, Size: int64(len(u.data)), StartedAt: u.started, UpdatedAt: u.updated}
		u.mu.Unlock()
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// writer holds an upload until Commit or Close.
type writer struct {
	s *Store
	u *upload

	mu   sync.Mutex
	done bool // committed or closed
}

var (
	_ blob.Writer   = (*writer)(nil)
	_ io.ReaderFrom = (*writer)(nil)
)

func (w *writer) ID() string { return w.u.id }

func (w *writer) Size() int64 {
	w.u.mu.Lock()
	defer w.u.mu.Unlock()
	return int64(len(w.u.data))
}

func (w *writer) Digest() digest.Digest {
	w.u.mu.Lock()
	defer w.u.mu.Unlock()
	return blob.FormatDigest(w.u.alg, w.u.h)
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, errorf(blob.ErrInvalid, "write to finished writer of upload %s", w.u.id)
	}
	w.u.mu.Lock()
	defer w.u.mu.Unlock()
	w.u.data = append(w.u.data, p...)
	w.u.h.Write(p)
	w.u.updated = w.s.now()
	return len(p), nil
}

// ReadFrom lets io.Copy write straight into the upload.
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (w *writer) Commit(ctx context.Context, expected digest.Digest, size int64) (blob.Info, error) {
	if err := ctx.Err(); err != nil {
		return blob.Info{}, err
	}
	d, err := blob.ParseDigest(string(expected))
	if err != nil {
		return blob.Info{}, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return blob.Info{}, errorf(blob.ErrNotFound, "upload %s is finished", w.u.id)
	}
	w.u.mu.Lock()
	data := w.u.data
	var verr error
	if d.Algorithm() == w.u.alg {
		if size >= 0 && int64(len(data)) != size {
			verr = errorf(blob.ErrSizeMismatch, "upload holds %d bytes, expected %d", len(data), size)
		} else if got := blob.FormatDigest(w.u.alg, w.u.h); got != d {
			verr = errorf(blob.ErrDigestMismatch, "content hashes to %s, expected %s", got, d)
		}
	} else {
		verr = verify(d, size, data)
	}
	w.u.mu.Unlock()
	if verr != nil {
		return blob.Info{}, verr
	}
	w.done = true
	w.s.mu.Lock()
	delete(w.s.uploads, w.u.id)
	w.s.mu.Unlock()
	// Clip capacity so the stored slice can never be appended to in place.
	return w.s.commit(d, data[:len(data):len(data)]), nil
}

func (w *writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	w.done = true
	w.s.mu.Lock()
	w.u.held = false
	w.s.mu.Unlock()
	return nil
}
