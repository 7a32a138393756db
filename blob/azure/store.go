package azure

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

const (
	// DefaultBlockSize is how many bytes a Writer gathers before it stages
	// them as one block (Put Block).
	DefaultBlockSize = 8 << 20
	// minBlockSize and maxBlockSize bound WithBlockSize; Azure accepts
	// blocks of up to 4000 MiB, but a Writer holds one in memory.
	minBlockSize = 64 << 10
	maxBlockSize = 256 << 20
	// copyChunk is the largest range one Put Block From URL copies when
	// Commit makes the final blob.
	copyChunk = 256 << 20
	// copyParallel is how many of those copies run at once.
	copyParallel = 4
)

// Metadata keys. Azure stores metadata names case-insensitively and the SDK
// may return them with other capitalization, so they are read with meta.
const (
	mdCreated = "regkitcreated" // blob: commit time, RFC 3339 with nanoseconds
	mdDeleted = "regkitdeleted" // blob: "1" while deleted but pinned by readers
	mdAlg     = "regkitalg"     // upload: its algorithm
	mdHash    = "regkithash"    // upload: marshaled hash state, base64
	mdSize    = "regkitsize"    // upload: bytes the hash state covers
	mdStarted = "regkitstarted" // upload: start time
)

// Store is a blob.Storage on an Azure Blob Storage container. It implements
// blob.Redirector and blob.Putter too. All methods are safe for concurrent
// use, also by several Stores (in several processes) on one container and
// prefix.
type Store struct {
	c         *container.Client
	prefix    string // "" or "name/"
	blockSize int
	svc       *service.Client // for user-delegation SAS; may be nil
	now       func() time.Time

	udMu sync.Mutex
	ud   *service.UserDelegationCredential
	udTo time.Time // when ud expires
}

var (
	_ blob.Storage    = (*Store)(nil)
	_ blob.Redirector = (*Store)(nil)
	_ blob.Putter     = (*Store)(nil)
)

// Option configures a Store.
type Option func(*options)

type options struct {
	prefix    string
	blockSize int
	svc       *service.Client
	clientOpt *container.ClientOptions
}

// WithPrefix keeps the Store's blobs under prefix inside the container, so
// several registries can share one container. A trailing slash is added;
// the prefix may not start with a slash or contain empty or dot segments.
func WithPrefix(prefix string) Option {
	return func(o *options) { o.prefix = prefix }
}

// WithBlockSize sets how many bytes a Writer buffers before staging them
// as one block (default DefaultBlockSize, 8 MiB). Larger blocks make fewer
// requests; each Writer holds one block in memory.
func WithBlockSize(n int) Option {
	return func(o *options) { o.blockSize = n }
}

// WithServiceClient gives the Store a client of the container's service,
// used to sign user-delegation SAS URLs for RedirectURL and for the copies
// of Commit when the container client authenticates with a token (Microsoft
// Entra ID). Open sets it by itself.
func WithServiceClient(svc *service.Client) Option {
	return func(o *options) { o.svc = svc }
}

// WithClientOptions sets the SDK's options (retries, transport) of the
// clients Open creates. New ignores it.
func WithClientOptions(co *container.ClientOptions) Option {
	return func(o *options) { o.clientOpt = co }
}

// New returns a Store on the container c, creating the container if it does
// not exist. How c authenticates decides what RedirectURL can sign: a shared
// key signs service SAS URLs, a token credential user-delegation SAS URLs
// (with WithServiceClient); a client without either redirects nothing.
func New(ctx context.Context, c *container.Client, opts ...Option) (*Store, error) {
	if c == nil {
		return nil, errorf(blob.ErrInvalid, "nil container client")
	}
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	s := &Store{c: c, prefix: o.prefix, blockSize: o.blockSize, svc: o.svc, now: time.Now}
	if err := s.ensureContainer(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Open returns a Store on the container containerName of the Blob service
// at serviceURL (such as "https://ACCOUNT.blob.core.windows.net/"), creating
// the container if needed. cred is an azcore.TokenCredential, a
// *service.SharedKeyCredential (azblob.NewSharedKeyCredential and
// service.NewSharedKeyCredential make one), or
// nil for a serviceURL that carries a SAS token; anything else is ErrInvalid.
func Open(ctx context.Context, serviceURL, containerName string, cred any, opts ...Option) (*Store, error) {
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	var so *service.ClientOptions
	if o.clientOpt != nil {
		so = &service.ClientOptions{ClientOptions: o.clientOpt.ClientOptions}
	}
	var svc *service.Client
	switch c := cred.(type) {
	case nil:
		svc, err = service.NewClientWithNoCredential(serviceURL, so)
	case *service.SharedKeyCredential:
		svc, err = service.NewClientWithSharedKeyCredential(serviceURL, c, so)
	case azcore.TokenCredential:
		svc, err = service.NewClient(serviceURL, c, so)
		if err == nil && o.svc == nil {
			opts = append(opts, WithServiceClient(svc))
		}
	default:
		return nil, errorf(blob.ErrInvalid, "credential of type %T", cred)
	}
	if err != nil {
		return nil, errorf(blob.ErrInvalid, "service URL %q: %w", serviceURL, err)
	}
	return New(ctx, svc.NewContainerClient(containerName), opts...)
}

func applyOptions(opts []Option) (options, error) {
	o := options{blockSize: DefaultBlockSize}
	for _, opt := range opts {
		opt(&o)
	}
	if o.blockSize < minBlockSize || o.blockSize > maxBlockSize {
		return o, errorf(blob.ErrInvalid, "block size %d outside [%d, %d]", o.blockSize, minBlockSize, maxBlockSize)
	}
	if o.prefix != "" {
		p := strings.TrimSuffix(o.prefix, "/")
		for _, seg := range strings.Split(p, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return o, errorf(blob.ErrInvalid, "prefix %q", o.prefix)
			}
		}
		o.prefix = p + "/"
	}
	return o, nil
}

// ensureContainer creates the container unless it exists.
func (s *Store) ensureContainer(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := s.c.GetProperties(ctx, nil)
	if err == nil {
		return nil
	}
	if !bloberror.HasCode(err, bloberror.ContainerNotFound) && !notFound(err) {
		return classify("open container", err)
	}
	_, err = s.c.Create(ctx, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return classify("create container", err)
	}
	return nil
}

// blobName returns the key of the committed blob d.
func (s *Store) blobName(d digest.Digest) string {
	return s.prefix + "blobs/" + string(d.Algorithm()) + "/" + d.Encoded()
}

// uploadName returns the key of the upload id.
func (s *Store) uploadName(id string) string { return s.prefix + "uploads/" + id }

func (s *Store) blockBlob(name string) *blockblob.Client { return s.c.NewBlockBlobClient(name) }

// parse checks ctx and validates a caller's digest.
func parse(ctx context.Context, d digest.Digest) (digest.Digest, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return blob.ParseDigest(string(d))
}

// meta returns the value of metadata key k, whatever its capitalization.
func meta(m map[string]*string, k string) string {
	for name, v := range m {
		if v != nil && strings.EqualFold(name, k) {
			return *v
		}
	}
	return ""
}

// createdAt reads a blob's commit time from its metadata, falling back to
// fallback (the blob's creation or modification time).
func createdAt(m map[string]*string, fallback *time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, meta(m, mdCreated)); err == nil {
		return t
	}
	if fallback != nil {
		return *fallback
	}
	return time.Time{}
}

// stamp returns the current time as stored in metadata, and that value.
func (s *Store) stamp() (time.Time, *string) {
	t := s.now().UTC().Round(0)
	v := t.Format(time.RFC3339Nano)
	return t, &v
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// props is what Stat, Delete and ReaderAt learn of a committed blob.
type props struct {
	size    int64
	created time.Time
	etag    azcore.ETag
	deleted bool
}

// getProps reads the blob d's properties; a missing blob is ErrNotFound.
func (s *Store) getProps(ctx context.Context, d digest.Digest) (props, error) {
	r, err := s.blockBlob(s.blobName(d)).GetProperties(ctx, nil)
	if err != nil {
		if notFound(err) {
			return props{}, errorf(blob.ErrNotFound, "blob %s", d)
		}
		return props{}, classify("stat "+d.String(), err)
	}
	fallback := r.CreationTime
	if fallback == nil {
		fallback = r.LastModified
	}
	return props{
		size:    deref(r.ContentLength),
		created: createdAt(r.Metadata, fallback),
		etag:    deref(r.ETag),
		deleted: meta(r.Metadata, mdDeleted) != "",
	}, nil
}

// Stat implements blob.Statter.
func (s *Store) Stat(ctx context.Context, dgst digest.Digest) (blob.Info, error) {
	d, err := parse(ctx, dgst)
	if err != nil {
		return blob.Info{}, err
	}
	p, err := s.getProps(ctx, d)
	if err != nil {
		return blob.Info{}, err
	}
	if p.deleted {
		return blob.Info{}, errorf(blob.ErrNotFound, "blob %s", d)
	}
	return blob.Info{Digest: d, Size: p.size, CreatedAt: p.created}, nil
}

// Walk implements blob.Walker. Keys under blobs/ that do not name a digest
// are skipped.
func (s *Store) Walk(ctx context.Context, fn func(blob.Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	root := s.prefix + "blobs/"
	return s.list(ctx, root, "list blobs", container.ListBlobsInclude{Metadata: true}, func(it *container.BlobItem) error {
		if meta(it.Metadata, mdDeleted) != "" {
			return nil
		}
		alg, enc, ok := strings.Cut(strings.TrimPrefix(*it.Name, root), "/")
		if !ok {
			return nil
		}
		d, err := blob.ParseDigest(alg + ":" + enc)
		if err != nil {
			return nil
		}
		fallback := it.Properties.CreationTime
		if fallback == nil {
			fallback = it.Properties.LastModified
		}
		return fn(blob.Info{Digest: d, Size: deref(it.Properties.ContentLength), CreatedAt: createdAt(it.Metadata, fallback)})
	})
}

// list calls fn for every blob under root (with what include asks for:
// metadata, snapshots) that has a name and properties, page by page,
// stopping at fn's first error or when ctx ends.
func (s *Store) list(ctx context.Context, root, what string, include container.ListBlobsInclude, fn func(*container.BlobItem) error) error {
	pager := s.c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &root, Include: include})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return classify(what, err)
		}
		for _, it := range page.Segment.BlobItems {
			if it == nil || it.Name == nil || it.Properties == nil {
				continue
			}
			if err := fn(it); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Delete implements blob.Deleter. A blob that no reader pins is deleted at
// once. One with snapshots (readers opened before the Delete) is marked
// deleted instead, which hides it from Stat, ReaderAt and Walk; the last
// reader's Close removes it (see doc.go).
func (s *Store) Delete(ctx context.Context, dgst digest.Digest) error {
	d, err := parse(ctx, dgst)
	if err != nil {
		return err
	}
	bc := s.blockBlob(s.blobName(d))
	for range 8 {
		p, err := s.getProps(ctx, d)
		if err != nil {
			return err
		}
		if p.deleted {
			s.reap(ctx, d, p.etag)
			return errorf(blob.ErrNotFound, "blob %s", d)
		}
		_, err = bc.Delete(ctx, &blobDeleteOptions{AccessConditions: ifMatch(p.etag)})
		switch {
		case err == nil:
			return nil
		case notFound(err):
			return errorf(blob.ErrNotFound, "blob %s", d)
		case changed(err):
			continue // re-committed, marked or unmarked meanwhile: look again
		case !bloberror.HasCode(err, bloberror.SnapshotsPresent):
			return classify("delete "+d.String(), err)
		}
		// Readers pin it: mark it deleted, then try once more in case the
		// last of them closed meanwhile (its Close saw no mark yet).
		md := map[string]*string{mdDeleted: ptr("1")}
		r, err := bc.SetMetadata(ctx, md, &blobSetMetadataOptions{AccessConditions: ifMatch(p.etag)})
		switch {
		case err == nil:
			s.reap(ctx, d, deref(r.ETag))
			return nil
		case notFound(err):
			return errorf(blob.ErrNotFound, "blob %s", d)
		case changed(err):
			continue
		default:
			return classify("delete "+d.String(), err)
		}
	}
	return errorf(blob.ErrConflict, "delete %s: the blob keeps changing", d)
}

// reap removes the blob d if it is still marked deleted (etag) and no
// snapshot pins it any more. Failures are left for a later Delete or Close.
func (s *Store) reap(ctx context.Context, d digest.Digest, etag azcore.ETag) {
	_, _ = s.blockBlob(s.blobName(d)).Delete(ctx, &blobDeleteOptions{AccessConditions: ifMatch(etag)})
}

func ptr[T any](v T) *T { return &v }
