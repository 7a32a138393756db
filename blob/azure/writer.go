package azure

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"strconv"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	azb "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

const (
	// leaseSeconds is how long an upload's lease lasts unless renewed; a
	// Writer renews it every renewEvery, so a crashed holder frees the
	// upload within a minute.
	leaseSeconds = 60
	renewEvery   = 20 * time.Second
)

// writer holds an upload: the upload blob, leased, whose committed blocks
// are the bytes of the last Close, whose staged blocks are the bytes since,
// and buf, the bytes not yet staged.
type writer struct {
	s       *Store
	id      string
	bc      *blockblob.Client
	lc      *lease.BlobClient
	leaseID string
	alg     digest.Algorithm
	started time.Time
	stop    chan struct{} // closed to end the lease renewal
	renewed chan struct{} // closed when the renewal has ended

	op     sync.Mutex // serializes Write, Commit and Close; guards the fields below
	nonce  [16]byte   // makes this Writer's block IDs unique
	blocks []string   // IDs of the blocks, committed and staged, in order
	staged int64      // bytes in blocks
	buf    []byte     // bytes after staged, not yet sent
	done   bool       // committed or closed
	err    error      // a failed request: only Close remains

	st   sync.Mutex // guards h and size, which Size and Digest read during a Write
	h    hash.Hash
	size int64
}

var _ blob.Writer = (*writer)(nil)

// newNonce returns 16 random bytes.
func newNonce() [16]byte {
	var n [16]byte
	_, _ = rand.Read(n[:])
	return n
}

// blockID returns the ID of the block at off: the nonce and the offset, so
// every ID of a blob has the same length and no two Writers' collide.
func blockID(nonce [16]byte, off int64) string {
	var b [24]byte
	copy(b[:], nonce[:])
	binary.BigEndian.PutUint64(b[16:], uint64(off))
	return base64.StdEncoding.EncodeToString(b[:])
}

// newLeaseID returns a random lease ID in the GUID form Azure requires.
func newLeaseID() string {
	n := newNonce()
	return fmt.Sprintf("%x-%x-%x-%x-%x", n[0:4], n[4:6], n[6:8], n[8:10], n[10:16])
}

// Writer implements blob.Ingester: it creates the upload blob, empty, with
// its state in metadata, and leases it.
func (s *Store) Writer(ctx context.Context, opts ...blob.WriterOption) (blob.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o, err := blob.ApplyWriterOptions(opts...)
	if err != nil {
		return nil, err
	}
	id := blob.NewUploadID()
	w := &writer{s: s, id: id, bc: s.blockBlob(s.uploadName(id)), alg: o.Algorithm, h: o.Algorithm.Hash(), nonce: newNonce()}
	w.started, _ = s.stamp()
	_, err = w.bc.Upload(ctx, streaming.NopCloser(bytes.NewReader(nil)), &blockblob.UploadOptions{
		Metadata:         w.metadata(),
		AccessConditions: ifNoneMatchAny(),
	})
	if err != nil {
		return nil, classify("create upload "+id, err)
	}
	if err := w.acquire(ctx); err != nil {
		_, _ = w.bc.Delete(context.WithoutCancel(ctx), nil)
		return nil, err
	}
	return w, nil
}

// Resume implements blob.Ingester: it leases the upload blob and restores
// the hash from its metadata, reading no content.
func (s *Store) Resume(ctx context.Context, id string) (blob.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := blob.CheckUploadID(id); err != nil {
		return nil, err
	}
	w := &writer{s: s, id: id, bc: s.blockBlob(s.uploadName(id)), nonce: newNonce()}
	if err := w.acquire(ctx); err != nil {
		return nil, err
	}
	if err := w.load(ctx); err != nil {
		w.release()
		return nil, err
	}
	return w, nil
}

// acquire leases the upload blob and starts renewing the lease.
func (w *writer) acquire(ctx context.Context) error {
	w.leaseID = newLeaseID()
	lc, err := lease.NewBlobClient(w.bc, &lease.BlobClientOptions{LeaseID: &w.leaseID})
	if err != nil {
		return classify("lease upload "+w.id, err)
	}
	if _, err := lc.AcquireLease(ctx, leaseSeconds, nil); err != nil {
		switch {
		case notFound(err):
			return errorf(blob.ErrNotFound, "upload %s", w.id)
		case isLeaseConflict(err) || exists(err):
			return errorf(blob.ErrConflict, "upload %s is held by another writer: %w", w.id, err)
		}
		return classify("lease upload "+w.id, err)
	}
	w.lc = lc
	w.stop, w.renewed = make(chan struct{}), make(chan struct{})
	go w.renew()
	return nil
}

// renew keeps the lease until stop is closed. A lost lease makes the next
// request of the Writer fail with ErrConflict.
func (w *writer) renew() {
	defer close(w.renewed)
	t := time.NewTicker(renewEvery)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), renewEvery)
			_, _ = w.lc.RenewLease(ctx, nil)
			cancel()
		}
	}
}

// release stops the renewal and releases the lease.
func (w *writer) release() {
	if w.lc == nil {
		return
	}
	close(w.stop)
	<-w.renewed
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = w.lc.ReleaseLease(ctx, nil)
	w.lc = nil
}

// load reads the upload's state: metadata and committed block list.
func (w *writer) load(ctx context.Context) error {
	p, err := w.bc.GetProperties(ctx, &azb.GetPropertiesOptions{AccessConditions: withLease(w.leaseID)})
	if err != nil {
		if notFound(err) {
			return errorf(blob.ErrNotFound, "upload %s", w.id)
		}
		return classify("resume upload "+w.id, err)
	}
	w.alg = digest.Algorithm(meta(p.Metadata, mdAlg))
	if !w.alg.Available() {
		w.alg = digest.SHA256
	}
	if t, err := time.Parse(time.RFC3339Nano, meta(p.Metadata, mdStarted)); err == nil {
		w.started = t
	} else {
		w.started = deref(p.CreationTime)
	}
	length := deref(p.ContentLength)
	state, _ := base64.StdEncoding.DecodeString(meta(p.Metadata, mdHash))
	covered, _ := strconv.ParseInt(meta(p.Metadata, mdSize), 10, 64)
	h, ok := blob.RestoreHashState(w.alg, state)
	if !ok || covered != length {
		// No usable state (written by something else): hash the content.
		h = w.alg.Hash()
		if err := w.s.hashBlob(ctx, w.bc, h, w.leaseID); err != nil {
			return err
		}
	}
	bl, err := w.bc.GetBlockList(ctx, blockblob.BlockListTypeCommitted, nil)
	if err != nil {
		return classify("resume upload "+w.id, err)
	}
	for _, b := range bl.CommittedBlocks {
		if b != nil && b.Name != nil {
			w.blocks = append(w.blocks, *b.Name)
		}
	}
	w.h, w.size, w.staged = h, length, length
	return nil
}

// hashBlob feeds the committed content of bc to h.
func (s *Store) hashBlob(ctx context.Context, bc *blockblob.Client, h hash.Hash, leaseID string) error {
	var ac *azb.AccessConditions
	if leaseID != "" {
		ac = withLease(leaseID)
	}
	r, err := bc.DownloadStream(ctx, &azb.DownloadStreamOptions{AccessConditions: ac})
	if err != nil {
		return classify("read "+bc.URL(), err)
	}
	defer r.Body.Close()
	if _, err := blob.Copy(ctx, h, r.Body); err != nil {
		return errorf(blob.ErrUnavailable, "read %s: %w", bc.URL(), err)
	}
	return nil
}

// metadata returns the upload's state for the upload blob; h and size must
// be stable (w.op held, or before the Writer is shared).
func (w *writer) metadata() map[string]*string {
	w.st.Lock()
	state := blob.MarshalHashState(w.h)
	size := w.size
	w.st.Unlock()
	started := w.started.UTC().Format(time.RFC3339Nano)
	return map[string]*string{
		mdAlg:     ptr(string(w.alg)),
		mdHash:    ptr(base64.StdEncoding.EncodeToString(state)),
		mdSize:    ptr(strconv.FormatInt(size, 10)),
		mdStarted: &started,
	}
}

func (w *writer) ID() string { return w.id }

func (w *writer) Size() int64 {
	w.st.Lock()
	defer w.st.Unlock()
	return w.size
}

func (w *writer) Digest() digest.Digest {
	w.st.Lock()
	defer w.st.Unlock()
	return blob.FormatDigest(w.alg, w.h)
}

func (w *writer) usable() error {
	if w.done {
		return errorf(blob.ErrInvalid, "upload %s: writer is finished", w.id)
	}
	return w.err
}

// Write appends p: it fills the buffer and stages it as a block whenever it
// holds the block size. A large p is staged straight from p.
func (w *writer) Write(p []byte) (int, error) {
	w.op.Lock()
	defer w.op.Unlock()
	if err := w.usable(); err != nil {
		return 0, err
	}
	ctx := context.Background()
	bs := w.s.blockSize
	n := 0
	for len(p) > 0 {
		var piece []byte
		if len(w.buf) == 0 && len(p) >= bs {
			piece = p[:bs]
			if err := w.stage(ctx, piece); err != nil {
				return n, err
			}
		} else {
			if w.buf == nil {
				w.buf = make([]byte, 0, bs)
			}
			k := min(len(p), bs-len(w.buf))
			piece = p[:k]
			w.buf = append(w.buf, piece...)
		}
		w.st.Lock()
		w.h.Write(piece)
		w.size += int64(len(piece))
		w.st.Unlock()
		n += len(piece)
		p = p[len(piece):]
		if len(w.buf) == bs {
			if err := w.stage(ctx, w.buf); err != nil {
				return n, err
			}
			w.buf = w.buf[:0]
		}
	}
	return n, nil
}

// stage sends b as the next block. A failure spends the Writer.
func (w *writer) stage(ctx context.Context, b []byte) error {
	id := blockID(w.nonce, w.staged)
	_, err := w.bc.StageBlock(ctx, id, streaming.NopCloser(bytes.NewReader(b)), &blockblob.StageBlockOptions{
		LeaseAccessConditions: &azb.LeaseAccessConditions{LeaseID: &w.leaseID},
	})
	if err != nil {
		w.err = classify("write upload "+w.id, err)
		return w.err
	}
	w.blocks = append(w.blocks, id)
	w.staged += int64(len(b))
	return nil
}

// persist stages the buffer and commits the block list of the upload blob
// with the hash state, in one request: content and state never disagree.
// It returns the upload blob's new ETag.
func (w *writer) persist(ctx context.Context) (azcore.ETag, error) {
	if len(w.buf) > 0 {
		if err := w.stage(ctx, w.buf); err != nil {
			return "", err
		}
		w.buf = w.buf[:0]
	}
	r, err := w.bc.CommitBlockList(ctx, w.blocks, &blockblob.CommitBlockListOptions{
		Metadata:         w.metadata(),
		AccessConditions: withLease(w.leaseID),
	})
	if err != nil {
		err = classify("save upload "+w.id, err)
		if ctx.Err() == nil {
			w.err = err
		}
		return "", err
	}
	return deref(r.ETag), nil
}

// Commit verifies the upload and publishes it under expected (see publish).
func (w *writer) Commit(ctx context.Context, expected digest.Digest, size int64) (blob.Info, error) {
	d, err := parse(ctx, expected)
	if err != nil {
		return blob.Info{}, err
	}
	w.op.Lock()
	defer w.op.Unlock()
	if w.done {
		return blob.Info{}, errorf(blob.ErrNotFound, "upload %s is finished", w.id)
	}
	if w.err != nil {
		return blob.Info{}, w.err
	}
	w.st.Lock()
	have := w.size
	got := blob.FormatDigest(w.alg, w.h)
	w.st.Unlock()
	if size >= 0 && size != have {
		return blob.Info{}, errorf(blob.ErrSizeMismatch, "upload %s holds %d bytes, expected %d", w.id, have, size)
	}
	if d.Algorithm() != w.alg {
		// Hash what the upload blob holds with the other algorithm.
		if _, err := w.persist(ctx); err != nil {
			return blob.Info{}, err
		}
		h := d.Algorithm().Hash()
		if err := w.s.hashBlob(ctx, w.bc, h, w.leaseID); err != nil {
			return blob.Info{}, err
		}
		got = blob.FormatDigest(d.Algorithm(), h)
	}
	if got != d {
		return blob.Info{}, errorf(blob.ErrDigestMismatch, "upload %s hashes to %s, expected %s", w.id, got, d)
	}
	info, err := w.publish(ctx, d, have)
	if err != nil {
		return blob.Info{}, err
	}
	// The blob is published: the upload ends even if removing it fails (a
	// leftover is listed by Uploads and commits as existing content).
	w.done = true
	w.release()
	_, _ = w.bc.Delete(context.WithoutCancel(ctx), nil)
	return info, nil
}

// publish makes the verified upload the blob d: nothing when d exists;
// one Put Blob when the whole upload is still in the buffer; otherwise a
// server-side copy of the committed upload blob into blocks of d and one
// conditional Put Block List, which makes d appear whole or not at all.
func (w *writer) publish(ctx context.Context, d digest.Digest, size int64) (blob.Info, error) {
	s := w.s
	for range 4 {
		var info blob.Info
		var err error
		if len(w.blocks) == 0 {
			info, err = s.putSmall(ctx, d, w.buf)
		} else {
			if info, ok, err := s.existing(ctx, d); err != nil || ok {
				return info, err
			}
			var etag azcore.ETag
			if etag, err = w.persist(ctx); err != nil {
				return blob.Info{}, err
			}
			info, err = s.copyInto(ctx, d, w.bc, etag, size)
		}
		if err != errExists {
			return info, err
		}
		if info, ok, err := s.existing(ctx, d); err != nil || ok {
			return info, err
		}
		// Deleted between the failed create and the look: try again.
	}
	return blob.Info{}, errorf(blob.ErrConflict, "commit %s: the blob keeps being deleted", d)
}

// Close saves the upload's bytes and hash state and releases the lease.
func (w *writer) Close() error {
	w.op.Lock()
	defer w.op.Unlock()
	if w.done {
		return nil
	}
	w.done = true
	var err error
	if w.err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		_, err = w.persist(ctx)
		cancel()
	}
	w.release()
	return err
}
