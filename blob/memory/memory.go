package memory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// Store is an in-memory blob.Storage. The zero value is not usable; call New.
type Store struct {
	now func() time.Time

	mu      sync.RWMutex
	blobs   map[digest.Digest]*object
	uploads map[string]*upload
}

// object is a committed blob; data is never modified after commit.
type object struct {
	data    []byte
	created time.Time
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the Store read the time from now, for tests of ages.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{
		now:     time.Now,
		blobs:   make(map[digest.Digest]*object),
		uploads: make(map[string]*upload),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

var (
	_ blob.Storage = (*Store)(nil)
	_ blob.Putter  = (*Store)(nil)
)

// lookup validates dgst and returns its object, or an error wrapping
// ErrInvalid, ErrUnsupported or ErrNotFound.
func (s *Store) lookup(ctx context.Context, dgst digest.Digest) (*object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := blob.ParseDigest(string(dgst))
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	o := s.blobs[d]
	s.mu.RUnlock()
	if o == nil {
		return nil, notFound(d)
	}
	return o, nil
}

// Stat implements blob.Statter.
func (s *Store) Stat(ctx context.Context, dgst digest.Digest) (blob.Info, error) {
	o, err := s.lookup(ctx, dgst)
	if err != nil {
		return blob.Info{}, err
	}
	return blob.Info{Digest: dgst, Size: int64(len(o.data)), CreatedAt: o.created}, nil
}

// ReaderAt implements blob.Opener.
func (s *Store) ReaderAt(ctx context.Context, dgst digest.Digest) (blob.ReaderAt, error) {
	o, err := s.lookup(ctx, dgst)
	if err != nil {
		return nil, err
	}
	return readerAt{bytes.NewReader(o.data)}, nil
}

// readerAt adds a no-op Close to bytes.Reader, which already has ReadAt and
// Size.
type readerAt struct{ *bytes.Reader }

func (readerAt) Close() error { return nil }

// Delete implements blob.Deleter.
func (s *Store) Delete(ctx context.Context, dgst digest.Digest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := blob.ParseDigest(string(dgst))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blobs[d] == nil {
		return notFound(d)
	}
	delete(s.blobs, d)
	return nil
}

// Walk implements blob.Walker. It calls fn on a snapshot taken without
// holding any lock, so fn may call the Store.
func (s *Store) Walk(ctx context.Context, fn func(blob.Info) error) error {
	s.mu.RLock()
	infos := make([]blob.Info, 0, len(s.blobs))
	for d, o := range s.blobs {
		infos = append(infos, blob.Info{Digest: d, Size: int64(len(o.data)), CreatedAt: o.created})
	}
	s.mu.RUnlock()
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// Put implements blob.Putter: it reads r into one slice, verifies it and
// stores it, without an upload session.
func (s *Store) Put(ctx context.Context, expected digest.Digest, size int64, r io.Reader) (blob.Info, error) {
	if err := ctx.Err(); err != nil {
		return blob.Info{}, err
	}
	d, err := blob.ParseDigest(string(expected))
	if err != nil {
		return blob.Info{}, err
	}
	data, err := readAll(ctx, r, size)
	if err != nil {
		return blob.Info{}, err
	}
	if err := verify(d, size, data); err != nil {
		return blob.Info{}, err
	}
	return s.commit(d, data), nil
}

// readAll reads r to its end, allocating size bytes up front when size is
// known (up to a limit, beyond which it grows as bytes arrive), and fails
// with ErrSizeMismatch as soon as r holds a byte more than size.
func readAll(ctx context.Context, r io.Reader, size int64) ([]byte, error) {
	const maxPrealloc = 64 << 20
	if size < 0 || size > maxPrealloc {
		var buf bytes.Buffer
		n, err := blob.Copy(ctx, &buf, limit(r, size))
		if err == nil && size >= 0 && n > size {
			err = errorf(blob.ErrSizeMismatch, "content is longer than %d bytes", size)
		}
		return buf.Bytes(), err
	}
	data := make([]byte, size)
	n, err := io.ReadFull(r, data)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return data[:n], nil // short: verify reports the size mismatch
	case err != nil:
		return nil, err
	}
	var probe [1]byte
	for range 100 {
		m, err := r.Read(probe[:])
		if m > 0 {
			return nil, errorf(blob.ErrSizeMismatch, "content is longer than %d bytes", size)
		}
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, io.ErrNoProgress
}

// limit caps r at one byte past size, so trailing data is seen but never
// read in bulk; a negative size leaves r alone.
func limit(r io.Reader, size int64) io.Reader {
	if size < 0 {
		return r
	}
	return io.LimitReader(r, size+1)
}

// commit stores data under d unless d exists, and returns the blob's Info.
func (s *Store) commit(d digest.Digest, data []byte) blob.Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.blobs[d]
	if o == nil {
		o = &object{data: data, created: s.now()}
		s.blobs[d] = o
	}
	return blob.Info{Digest: d, Size: int64(len(o.data)), CreatedAt: o.created}
}

// verify checks data against d and size (negative: unchecked).
func verify(d digest.Digest, size int64, data []byte) error {
	if size >= 0 && int64(len(data)) != size {
		return errorf(blob.ErrSizeMismatch, "upload holds %d bytes, expected %d", len(data), size)
	}
	if !matches(d, data) {
		return errorf(blob.ErrDigestMismatch, "content hashes to %s, expected %s", d.Algorithm().FromBytes(data), d)
	}
	return nil
}

// matches reports whether data hashes to the validated digest d. It hashes
// sha256 and sha512 with their one-shot functions and compares on the
// stack: Put of small blobs spends most of its time here.
func matches(d digest.Digest, data []byte) bool {
	var sum []byte
	switch d.Algorithm() {
	case digest.SHA256:
		s := sha256.Sum256(data)
		sum = s[:]
	case digest.SHA512:
		s := sha512.Sum512(data)
		sum = s[:]
	default:
		h := d.Algorithm().Hash()
		h.Write(data)
		sum = h.Sum(nil)
	}
	var enc [2 * sha512.Size]byte
	n := hex.Encode(enc[:], sum)
	return string(enc[:n]) == d.Encoded()
}

func notFound(d digest.Digest) error {
	return errorf(blob.ErrNotFound, "blob %s", d)
}

func errorf(class error, format string, args ...any) error {
	return fmt.Errorf("blob/memory: "+format+": %w", append(args, class)...)
}
