package azure

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	azb "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// errExists says a conditional create found the blob committed (or found
// its own staged blocks discarded by another commit of it).
var errExists = errors.New("blob exists")

// existing returns the Info of the committed blob d and true, or false if
// there is none. A blob marked deleted (pinned by readers) is committed
// again by clearing the mark: its bytes are the digest's bytes.
func (s *Store) existing(ctx context.Context, d digest.Digest) (blob.Info, bool, error) {
	bc := s.blockBlob(s.blobName(d))
	for range 8 {
		p, err := s.getProps(ctx, d)
		if errors.Is(err, blob.ErrNotFound) {
			return blob.Info{}, false, nil
		}
		if err != nil {
			return blob.Info{}, false, err
		}
		if !p.deleted {
			return blob.Info{Digest: d, Size: p.size, CreatedAt: p.created}, true, nil
		}
		t, v := s.stamp()
		_, err = bc.SetMetadata(ctx, map[string]*string{mdCreated: v}, &blobSetMetadataOptions{AccessConditions: ifMatch(p.etag)})
		switch {
		case err == nil:
			return blob.Info{Digest: d, Size: p.size, CreatedAt: t}, true, nil
		case notFound(err):
			return blob.Info{}, false, nil
		case !changed(err):
			return blob.Info{}, false, classify("commit "+d.String(), err)
		}
	}
	return blob.Info{}, false, errorf(blob.ErrConflict, "commit %s: the blob keeps changing", d)
}

// putSmall writes b as the blob d in one Put Blob that succeeds only if no
// blob d exists; otherwise it returns errExists.
func (s *Store) putSmall(ctx context.Context, d digest.Digest, b []byte) (blob.Info, error) {
	t, v := s.stamp()
	_, err := s.blockBlob(s.blobName(d)).Upload(ctx, streaming.NopCloser(bytes.NewReader(b)), &blockblob.UploadOptions{
		Metadata:         map[string]*string{mdCreated: v},
		AccessConditions: ifNoneMatchAny(),
	})
	switch {
	case err == nil:
		return blob.Info{Digest: d, Size: int64(len(b)), CreatedAt: t}, nil
	case exists(err):
		return blob.Info{}, errExists
	}
	return blob.Info{}, classify("commit "+d.String(), err)
}

// commitBlocks commits ids as the blob d if no blob d exists; otherwise it
// returns errExists.
func (s *Store) commitBlocks(ctx context.Context, d digest.Digest, ids []string, size int64) (blob.Info, error) {
	t, v := s.stamp()
	_, err := s.blockBlob(s.blobName(d)).CommitBlockList(ctx, ids, &blockblob.CommitBlockListOptions{
		Metadata:         map[string]*string{mdCreated: v},
		AccessConditions: ifNoneMatchAny(),
	})
	switch {
	case err == nil:
		return blob.Info{Digest: d, Size: size, CreatedAt: t}, nil
	case exists(err), bloberror.HasCode(err, bloberror.InvalidBlockList):
		// InvalidBlockList: another commit of d discarded our staged blocks.
		return blob.Info{}, errExists
	}
	return blob.Info{}, classify("commit "+d.String(), err)
}

// copyInto copies the committed blob src (at etag, size bytes) into new
// blocks of d, server-side (Put Block From URL, copyParallel at a time),
// and commits them with commitBlocks.
func (s *Store) copyInto(ctx context.Context, d digest.Digest, src *blockblob.Client, etag azcore.ETag, size int64) (blob.Info, error) {
	srcURL, err := s.copySource(ctx, src)
	if err != nil {
		return blob.Info{}, err
	}
	dst := s.blockBlob(s.blobName(d))
	nonce := newNonce()
	var ids []string
	for off := int64(0); off < size; off += copyChunk {
		ids = append(ids, blockID(nonce, off))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, copyParallel)
	errs := make(chan error, len(ids))
	for i, id := range ids {
		off := int64(i) * copyChunk
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, err := dst.StageBlockFromURL(ctx, id, srcURL, &blockblob.StageBlockFromURLOptions{
				Range:                          azb.HTTPRange{Offset: off, Count: min(copyChunk, size-off)},
				SourceModifiedAccessConditions: &azb.SourceModifiedAccessConditions{SourceIfMatch: &etag},
			})
			if err != nil {
				cancel()
				err = classify("copy upload into "+d.String(), err)
			}
			errs <- err
		}()
	}
	for range ids {
		if e := <-errs; e != nil && (err == nil || errors.Is(err, context.Canceled)) {
			err = e
		}
	}
	if err != nil {
		return blob.Info{}, err
	}
	return s.commitBlocks(ctx, d, ids, size)
}

// Put implements blob.Putter without an upload: content of up to one block
// is verified in memory and written with one conditional Put Blob; larger
// content is staged as blocks of the blob itself, which stay invisible
// until the verified Put Block List commits them. Existing content is only
// verified, never written.
func (s *Store) Put(ctx context.Context, expected digest.Digest, size int64, r io.Reader) (blob.Info, error) {
	d, err := parse(ctx, expected)
	if err != nil {
		return blob.Info{}, err
	}
	if info, ok, err := s.existing(ctx, d); err != nil {
		return blob.Info{}, err
	} else if ok {
		return verifyExisting(ctx, info, size, r)
	}
	if size >= 0 {
		r = io.LimitReader(r, size+1)
	}
	h := d.Algorithm().Hash()
	bufSize := int64(s.blockSize)
	if size >= 0 {
		bufSize = min(bufSize, size+1)
	}
	buf := make([]byte, bufSize)
	dst := s.blockBlob(s.blobName(d))
	nonce := newNonce()
	var ids []string
	var total int64
	for {
		n, rerr := io.ReadFull(ctx2reader(ctx, r), buf)
		h.Write(buf[:n])
		last := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !last {
			return blob.Info{}, rerr
		}
		if last && len(ids) == 0 {
			// Everything fit in one buffer: verify, then one Put Blob.
			if err := check(d, h, size, int64(n)); err != nil {
				return blob.Info{}, err
			}
			return s.putVerified(ctx, d, buf[:n])
		}
		if size >= 0 && total+int64(n) > size {
			return blob.Info{}, errorf(blob.ErrSizeMismatch, "content is longer than %d bytes", size)
		}
		if n > 0 {
			id := blockID(nonce, total)
			if _, err := dst.StageBlock(ctx, id, streaming.NopCloser(bytes.NewReader(buf[:n])), nil); err != nil {
				return blob.Info{}, classify("put "+d.String(), err)
			}
			ids = append(ids, id)
			total += int64(n)
		}
		if last {
			break
		}
	}
	if err := check(d, h, size, total); err != nil {
		return blob.Info{}, err
	}
	info, err := s.commitBlocks(ctx, d, ids, total)
	if err != errExists {
		return info, err
	}
	if info, ok, err := s.existing(ctx, d); err != nil || ok {
		return info, err
	}
	return blob.Info{}, errorf(blob.ErrConflict, "put %s: deleted while being written; put it again", d)
}

// putVerified writes verified bytes as d, or adopts an existing d.
func (s *Store) putVerified(ctx context.Context, d digest.Digest, b []byte) (blob.Info, error) {
	for range 4 {
		info, err := s.putSmall(ctx, d, b)
		if err != errExists {
			return info, err
		}
		if info, ok, err := s.existing(ctx, d); err != nil || ok {
			return info, err
		}
	}
	return blob.Info{}, errorf(blob.ErrConflict, "put %s: the blob keeps being deleted", d)
}

// check compares a hash and a length with the expected digest and size.
func check(d digest.Digest, h interface{ Sum([]byte) []byte }, size, n int64) error {
	if size >= 0 && n != size {
		return errorf(blob.ErrSizeMismatch, "content holds %d bytes, expected %d", n, size)
	}
	if got := digest.NewDigestFromBytes(d.Algorithm(), h.Sum(nil)); got != d {
		return errorf(blob.ErrDigestMismatch, "content hashes to %s, expected %s", got, d)
	}
	return nil
}

// verifyExisting checks r against the existing blob info without storing it.
func verifyExisting(ctx context.Context, info blob.Info, size int64, r io.Reader) (blob.Info, error) {
	v, err := blob.NewVerifyingReader(r, info.Digest, size)
	if err != nil {
		return blob.Info{}, err
	}
	if _, err := blob.Copy(ctx, io.Discard, v); err != nil {
		return blob.Info{}, err
	}
	if !v.Verified() {
		return blob.Info{}, errorf(blob.ErrInvalid, "content of %s was not verified", info.Digest)
	}
	return info, nil
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func ctx2reader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
