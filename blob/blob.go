package blob

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/opencontainers/go-digest"
)

// Info describes a committed blob.
type Info struct {
	// Digest is the content's digest; it is also the blob's only key.
	Digest digest.Digest
	// Size is the content length in bytes.
	Size int64
	// CreatedAt is when the blob was first committed.
	CreatedAt time.Time
}

// UploadInfo describes an unfinished upload.
type UploadInfo struct {
	// ID names the upload for Resume and Abort.
	ID string
	// Size is how many bytes were written so far.
	Size int64
	// StartedAt is when the upload began.
	StartedAt time.Time
	// UpdatedAt is when bytes were last written to it; its age decides cleanup.
	UpdatedAt time.Time
}

// Statter reports whether a blob exists and how large it is.
type Statter interface {
	// Stat returns the blob's Info, or an error wrapping ErrNotFound.
	Stat(ctx context.Context, dgst digest.Digest) (Info, error)
}

// ReaderAt is an open, committed blob. It reads at any offset without moving a
// cursor, so many goroutines may read it at once. Wrap it in
// io.NewSectionReader(r, 0, r.Size()) to get an io.ReadSeeker for
// http.ServeContent. A reader stays whole if the blob is deleted while open.
type ReaderAt interface {
	io.ReaderAt
	io.Closer
	// Size returns the blob's length.
	Size() int64
}

// Filer is an optional extension of ReaderAt for readers backed by an
// operating-system file (blob/fs): the HTTP layer sends such blobs with
// sendfile. The file must not be closed by the caller; Close the ReaderAt.
type Filer interface {
	File() *os.File
}

// Opener opens committed blobs for reading.
type Opener interface {
	// ReaderAt opens the blob, or returns an error wrapping ErrNotFound.
	ReaderAt(ctx context.Context, dgst digest.Digest) (ReaderAt, error)
}

// Writer is an upload in progress. Bytes written to it are invisible to
// readers until Commit succeeds. See [Storage] for the lifecycle. A Writer
// is meant for one goroutine at a time, but its methods are safe to call
// concurrently (Size or Digest during a Write, for example).
type Writer interface {
	io.Writer
	// ID names the upload; pass it to Ingester.Resume or Ingester.Abort.
	ID() string
	// Size returns how many bytes the upload holds, counting bytes written
	// before a Resume. The next Write appends at this offset.
	Size() int64
	// Digest returns the digest of the bytes written so far, in the upload's
	// algorithm (SHA-256 unless WithAlgorithm chose another).
	Digest() digest.Digest
	// Commit verifies the upload against expected (any supported algorithm)
	// and size (a negative size skips the size check), makes it durable and
	// visible under expected, and ends the upload. A mismatch returns an
	// error wrapping ErrDigestMismatch or ErrSizeMismatch and leaves the upload
	// and this Writer as they were: the caller may write more and commit
	// again, or Close and Abort. Committing content that already exists
	// succeeds, discards the upload and returns the existing Info. Commit on
	// a finished Writer returns an error wrapping ErrNotFound.
	Commit(ctx context.Context, expected digest.Digest, size int64) (Info, error)
	// Close releases the writer without ending the upload: its bytes and hash
	// state are kept so Resume can continue it, in this process or another.
	// Close after Commit is a no-op.
	Close() error
}

// Ingester starts, resumes and aborts uploads.
type Ingester interface {
	// Writer starts a new upload.
	Writer(ctx context.Context, opts ...WriterOption) (Writer, error)
	// Resume reopens an unfinished upload by ID, also after a process restart.
	// It returns an error wrapping ErrNotFound for an unknown or finished
	// upload and ErrConflict while another Writer holds the upload.
	Resume(ctx context.Context, id string) (Writer, error)
	// Abort discards an unfinished upload. Aborting an unknown upload returns
	// an error wrapping ErrNotFound, and aborting one that a Writer holds
	// (Close it first) an error wrapping ErrConflict.
	Abort(ctx context.Context, id string) error
}

// Deleter removes committed blobs.
type Deleter interface {
	// Delete removes the blob, or returns an error wrapping ErrNotFound.
	// Readers already open keep reading the whole blob.
	Delete(ctx context.Context, dgst digest.Digest) error
}

// Walker lists committed blobs.
type Walker interface {
	// Walk calls fn for every committed blob, in no particular order. An error
	// from fn stops the walk and is returned.
	Walk(ctx context.Context, fn func(Info) error) error
}

// UploadLister lists unfinished uploads, so a collector can remove old ones.
type UploadLister interface {
	// Uploads calls fn for every unfinished upload. An error from fn stops the
	// walk and is returned.
	Uploads(ctx context.Context, fn func(UploadInfo) error) error
}

// Storage is a content-addressed blob store. It knows digests and bytes only:
// nothing of repositories, tags, manifests or HTTP.
//
// Lifecycle of a blob:
//
//  1. Ingester.Writer starts an upload with a fresh ID. Writes append bytes and
//     feed the running hash. Nothing is visible to Stat, ReaderAt or Walk.
//  2. Writer.Close pauses the upload; its bytes and hash state persist (for
//     durable backends, across restarts) and Ingester.Resume continues it by
//     ID without re-reading what was written. At most one Writer holds an
//     upload at a time. Uploads lists paused and open uploads with their age.
//  3. Writer.Commit verifies digest and size, makes the bytes durable and then
//     visible under the digest in one atomic step, and ends the upload. If the
//     digest already exists, Commit is cheap: it drops the upload and succeeds.
//     Ingester.Abort ends an upload without committing it.
//  4. Committed blobs are immutable. Delete removes one; readers that already
//     hold it keep a whole copy until they Close.
//
// A crash at any instant leaves every committed blob whole and no partial blob
// visible; unfinished uploads either resume or are listed for cleanup.
//
// All methods are safe for concurrent use. Errors wrap the classes of this
// package (ErrNotFound, ErrInvalid, ErrDigestMismatch, ...); a malformed digest
// from the caller is ErrInvalid (ErrUnsupported for an unknown algorithm),
// never a panic, and a malformed upload ID is ErrNotFound. A failure of the
// storage medium wraps both ErrUnavailable and its cause, so that
// errors.Is(err, syscall.ENOSPC) works through every layer. A method called
// with a context that is already done returns the context's error.
//
// Backends may offer more through optional interfaces found by type assertion:
// [Redirector] and [Putter].
type Storage interface {
	Statter
	Opener
	Ingester
	Deleter
	Walker
	UploadLister
}

// Redirector is an optional extension for backends that can serve a blob
// from elsewhere (a presigned object-store URL), so the HTTP layer answers
// with a redirect instead of streaming the bytes itself.
type Redirector interface {
	// RedirectURL returns a URL that serves the blob's bytes for at least ttl.
	// It returns an error wrapping ErrUnsupported when it cannot for this blob;
	// the caller then streams the blob itself.
	RedirectURL(ctx context.Context, dgst digest.Digest, ttl time.Duration) (string, error)
}

// Putter is an optional fast path for small blobs whose digest is known up
// front: one call, no upload session. Use the package function [Put], which
// falls back to a Writer when the backend has no Putter.
type Putter interface {
	// Put stores the bytes read from r, verified against expected and size
	// (negative size: unchecked), with the same guarantees as Writer.Commit.
	Put(ctx context.Context, expected digest.Digest, size int64, r io.Reader) (Info, error)
}

// WriterOption configures a new upload.
type WriterOption func(*WriterOptions)

// WriterOptions holds the settings WriterOption functions change. Backends
// call [ApplyWriterOptions] to read them.
type WriterOptions struct {
	// Algorithm hashes the upload as it is written. Default digest.SHA256.
	// Commit with a digest of another algorithm still works but re-reads the
	// written bytes to verify them.
	Algorithm digest.Algorithm
}

// WithAlgorithm hashes the upload with alg as it is written, so Commit with a
// digest of that algorithm needs no second pass.
func WithAlgorithm(alg digest.Algorithm) WriterOption {
	return func(o *WriterOptions) { o.Algorithm = alg }
}

// ApplyWriterOptions returns the settings opts describe, with defaults filled
// in, or an error wrapping ErrUnsupported for an unavailable algorithm.
func ApplyWriterOptions(opts ...WriterOption) (WriterOptions, error) {
	o := WriterOptions{Algorithm: digest.SHA256}
	for _, opt := range opts {
		opt(&o)
	}
	if !o.Algorithm.Available() {
		return o, wrapf(ErrUnsupported, "digest algorithm %q", o.Algorithm)
	}
	return o, nil
}
