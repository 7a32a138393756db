package blob

import (
	"context"
	"errors"
	"io"

	"github.com/opencontainers/go-digest"
)

// Put stores the content read from r as the blob expected, verified against
// expected and size (a negative size skips the size check), with the
// guarantees of Writer.Commit. It uses the backend's [Putter] when there is
// one and otherwise an upload hashed with expected's algorithm, which it
// aborts on any failure. Put never reads more than one byte past size.
func Put(ctx context.Context, s Storage, expected digest.Digest, size int64, r io.Reader) (Info, error) {
	if p, ok := s.(Putter); ok {
		return p.Put(ctx, expected, size, r) // validates expected itself
	}
	d, err := ParseDigest(string(expected))
	if err != nil {
		return Info{}, err
	}
	w, err := s.Writer(ctx, WithAlgorithm(d.Algorithm()))
	if err != nil {
		return Info{}, err
	}
	info, err := writeAndCommit(ctx, w, d, size, r)
	if err != nil {
		id := w.ID()
		_ = w.Close()
		// Abort with a context that outlives a cancelled ctx, so a cancelled
		// Put leaves no upload behind.
		if aerr := s.Abort(context.WithoutCancel(ctx), id); aerr != nil && !errors.Is(aerr, ErrNotFound) {
			return Info{}, errors.Join(err, aerr)
		}
		return Info{}, err
	}
	return info, nil
}

func writeAndCommit(ctx context.Context, w Writer, d digest.Digest, size int64, r io.Reader) (Info, error) {
	src := r
	if size >= 0 {
		src = io.LimitReader(r, size+1)
	}
	n, err := Copy(ctx, w, src)
	if err != nil {
		return Info{}, err
	}
	if size >= 0 && n > size {
		return Info{}, wrapf(ErrSizeMismatch, "content is longer than %d bytes", size)
	}
	return w.Commit(ctx, d, size)
}

// ctxReader fails reads once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
