package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/manifest"
	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
)

// Registry is one storage namespace: repositories over a blob.Storage and a
// meta.Store. Blobs are stored once per Registry and shared by every
// repository that links them. All methods are safe for concurrent use.
type Registry struct {
	blobs  blob.Storage
	meta   meta.Store
	opts   options
	events *dispatcher
	cache  *blobCache
	mcache *manifestCache

	// queueMu guards queue, the writes waiting for the next batch, and
	// leading, set while one writer (the leader) commits batches (see
	// update in commit.go). Reads take neither.
	queueMu sync.Mutex
	queue   []*writeReq
	leading bool

	// gate counts the operations in flight; Close refuses new ones and
	// waits for those before it closes the stores.
	gate      *opGate
	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool
	stop      chan struct{}
	bg        sync.WaitGroup
	closers   []func() error

	// lockRules are the compiled lock rules (SetLockRules), read by every
	// write transaction; nil: none.
	lockRules  atomic.Pointer[policy.LockRules]
	settingsMu sync.Mutex
	// sharedSeen are the settings as last read, WithSharedStore.
	sharedSeen sharedSettings
	// pulls gathers pulls between flushes (WithPullRecording); nil: off.
	pulls *pullRecorder
	// cacheRules are the cache rules in force (SetCacheRule); nil: none.
	cacheRules atomic.Pointer[cacheRuleSet]
	pull       *pullThrough
	// softDelete is the soft-delete setting in force (SetSoftDelete).
	softDelete atomic.Pointer[SoftDeletePolicy]
}

type options struct {
	now          func() time.Time
	subscribers  []Subscriber
	grace        time.Duration
	uploadTTL    time.Duration
	gcInterval   time.Duration
	manifestOpts manifest.Options
	maxUploads   int
	cacheBytes   int64

	manifestCacheBytes int64
	retentionInterval  time.Duration
	pullInterval       time.Duration
	runHistory         time.Duration
	tagHistory         time.Duration
	tagHistorySet      bool
	softDeleteInterval time.Duration

	cacheTagTTL      time.Duration
	cacheUpstream    CacheUpstreamFunc
	cacheCredentials CacheCredentialFunc

	shared        bool
	sharedRefresh time.Duration
}

// Option configures a Registry.
type Option func(*options)

// WithClock replaces time.Now, for tests of time-based behaviour.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSubscriber registers fn to receive every Event after it commits, in
// commit order, on a goroutine of its own.
func WithSubscriber(fn Subscriber) Option {
	return func(o *options) { o.subscribers = append(o.subscribers, fn) }
}

// WithGracePeriod sets how long an unreferenced blob survives before garbage
// collection may delete it (default 24h). It must exceed the longest time a
// client takes between uploading a blob and pushing the manifest that uses it.
func WithGracePeriod(d time.Duration) Option { return func(o *options) { o.grace = d } }

// WithUploadTTL sets how long an unfinished upload may sit idle before
// garbage collection removes it (default 24h).
func WithUploadTTL(d time.Duration) Option { return func(o *options) { o.uploadTTL = d } }

// WithBackgroundGC runs garbage collection every interval until Close.
// Zero (the default) leaves collection to explicit Collect calls.
func WithBackgroundGC(interval time.Duration) Option {
	return func(o *options) { o.gcInterval = interval }
}

// WithManifestOptions sets how pushed manifests are parsed: size limit and
// whether unknown media types pass through.
func WithManifestOptions(mo manifest.Options) Option {
	return func(o *options) { o.manifestOpts = mo }
}

// WithBlobCache keeps up to maxBytes of small blobs (64 KiB or less:
// configs, small layers, signatures) in memory (default 16 MiB; 0 turns the
// cache off). Blobs are immutable, so the cache is never stale.
func WithBlobCache(maxBytes int64) Option { return func(o *options) { o.cacheBytes = maxBytes } }

// WithManifestCache keeps up to maxBytes of recently read manifests (64 KiB
// or less each) in memory, so pulls of a hot tag cost no metadata
// transaction (default 8 MiB; 0 turns the cache off). Every commit of this
// Registry invalidates the whole cache, so it never serves a manifest, tag
// or lock state older than the last write. That relies on this Registry
// being the only writer of its metadata store: turn the cache off when
// other processes write the same store.
func WithManifestCache(maxBytes int64) Option {
	return func(o *options) { o.manifestCacheBytes = maxBytes }
}

// WithMaxUploads caps the number of unfinished upload sessions across the
// registry (default 0: no cap). Starting one more fails with an error
// wrapping ErrTooLarge, which the HTTP layer answers with 429.
func WithMaxUploads(n int) Option { return func(o *options) { o.maxUploads = n } }

// New returns a Registry over blobs and store. The Registry does not own
// them: Close leaves them open (see Open for one that does).
//
// New checks the schema version recorded in store and records it in a store
// that has none (a new store, or one written before versions were
// recorded). A store written by a newer regkit is refused with an error
// wrapping ErrUnsupported, one whose version is unreadable with an error
// wrapping ErrInvalid; neither is changed.
func New(blobs blob.Storage, store meta.Store, opts ...Option) (*Registry, error) {
	if blobs == nil || store == nil {
		return nil, errorf(ErrInvalid, "New needs a blob storage and a metadata store")
	}
	o := options{
		now:        time.Now,
		grace:      24 * time.Hour,
		uploadTTL:  24 * time.Hour,
		cacheBytes: 16 << 20,

		manifestCacheBytes: 8 << 20,
		retentionInterval:  time.Minute,
		pullInterval:       time.Minute,
		runHistory:         7 * 24 * time.Hour,
		tagHistory:         DefaultTagHistory,
		softDeleteInterval: 10 * time.Minute,
		cacheTagTTL:        DefaultCacheTagTTL,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.shared {
		o.manifestCacheBytes = 0
	}
	if o.grace < 0 || o.uploadTTL < 0 || o.gcInterval < 0 || o.retentionInterval < 0 || o.pullInterval < 0 || o.softDeleteInterval < 0 || o.sharedRefresh < 0 {
		return nil, errorf(ErrInvalid, "negative duration option")
	}
	if err := schema.Open(context.Background(), store); err != nil {
		return nil, err
	}
	r := &Registry{
		blobs:  blobs,
		meta:   store,
		opts:   o,
		events: newDispatcher(o.subscribers),
		cache:  newBlobCache(o.cacheBytes),
		mcache: newManifestCache(o.manifestCacheBytes),
		gate:   newOpGate(),
		stop:   make(chan struct{}),
		pull:   newPullThrough(),
	}
	if err := r.loadLockRules(context.Background()); err != nil {
		return nil, err
	}
	if err := r.loadCacheRules(context.Background()); err != nil {
		return nil, err
	}
	if err := r.loadSoftDeletePolicy(context.Background()); err != nil {
		return nil, err
	}
	if o.shared {
		seen, err := r.readSharedSettings(context.Background())
		if err != nil {
			return nil, err
		}
		r.sharedSeen = seen
		r.bg.Add(1)
		go r.every(o.sharedRefresh, func(ctx context.Context) { _ = r.refreshSettings(ctx) })
	}
	if o.gcInterval > 0 {
		r.bg.Add(1)
		go r.every(o.gcInterval, func(ctx context.Context) { _, _ = r.Collect(ctx, CollectOptions{}) })
	}
	if o.pullInterval > 0 {
		r.pulls = newPullRecorder()
		r.bg.Add(1)
		go r.every(o.pullInterval, func(ctx context.Context) { _ = r.flushPulls(ctx) })
	}
	if o.retentionInterval > 0 {
		r.bg.Add(1)
		go r.every(o.retentionInterval, func(ctx context.Context) { _, _ = r.Sweep(ctx, PurgeOptions{}) })
	}
	if o.softDeleteInterval > 0 {
		r.bg.Add(1)
		go r.every(o.softDeleteInterval, func(ctx context.Context) { _, _ = r.ExpireDeleted(ctx) })
	}
	return r, nil
}

// Close shuts the registry down. From the moment it is called, new
// operations fail with an error wrapping ErrUnavailable; Close then stops
// background work, waits for every operation in flight to finish (so an
// operation that returned nil is durable in the stores it closes), delivers
// queued events, and closes the storage when the Registry opened it (Open,
// NewMemory). Hosts stop handing it work first (registryd shuts its HTTP
// server down before), since Close waits for a slow operation, such as an
// upload reading a slow body, to end. It is safe to call Close more than
// once and concurrently: every call returns when the registry is closed,
// with the same error. Close must not be called from inside an operation or
// a Subscriber.
func (r *Registry) Close() error {
	r.closeOnce.Do(func() {
		idle := r.gate.close()
		close(r.stop)
		r.bg.Wait()
		<-idle
		// Pulls gathered since the last flush, while the stores are open.
		r.closeErr = r.flushPulls(context.Background())
		r.events.close()
		for _, c := range r.closers {
			r.closeErr = errors.Join(r.closeErr, c())
		}
		r.closed.Store(true)
	})
	return r.closeErr
}

// errClosed fails operations that start after Close began.
var errClosed = fmt.Errorf("registry: closed: %w", ErrUnavailable)

// enter registers an operation with the gate Close waits on; callers defer
// r.leave() when it succeeds. It fails with errClosed once Close began.
func (r *Registry) enter() error {
	if !r.gate.enter() {
		return errClosed
	}
	return nil
}

// leave ends an operation begun with enter.
func (r *Registry) leave() { r.gate.leave() }

// Blobs returns a read-only view of the registry's blob storage, for tools
// that work below the repository level (backups, checks, exports): every
// committed blob by digest, whichever repositories link it. It cannot write
// or delete, so nothing bypasses the registry's reference counting through
// it; blobs enter through Repository.Blobs and leave through Collect.
func (r *Registry) Blobs() ReadOnlyStorage {
	if rd, ok := r.blobs.(blob.Redirector); ok {
		return redirectingView{storageView{r}, rd}
	}
	return storageView{r}
}

func (r *Registry) now() time.Time { return r.opts.now().UTC() }

// txn is the state of one write transaction: the meta.Tx, the time the
// change is stamped with and the events it will publish after commit.
type txn struct {
	meta.Tx
	now time.Time
	// grace is the registry's grace period (WithGracePeriod).
	grace time.Duration
	// locks are the lock rules new tags are created under.
	locks *policy.LockRules
	// soft is set while soft delete is enabled: deletions in this
	// transaction move items to the deleted state (softdelete.go).
	soft   bool
	events []Event
	// history is the tag history window (WithTagHistory); 0: off.
	history time.Duration
}

// newTxn wraps tx for one write.
func (r *Registry) newTxn(tx meta.Tx) *txn {
	return &txn{Tx: tx, now: r.now(), grace: r.opts.grace, locks: r.lockRules.Load(), history: r.historyWindow(), soft: r.softDelete.Load().Enabled}
}

func (t *txn) emit(ev Event) {
	ev.Time = t.now
	switch ev.Action {
	case ActionDelete, ActionUntag, ActionDeleteRepository:
		ev.Soft = t.soft
	}
	t.events = append(t.events, ev)
}

// view runs fn in a read transaction.
func (r *Registry) view(ctx context.Context, fn func(meta.Tx) error) error {
	return r.meta.View(ctx, fn)
}

// Repository returns a handle to the repository called name. The name is
// validated; the repository need not exist yet (pushing creates it). After
// Close began it fails with an error wrapping ErrUnavailable, as do the
// handle's operations.
func (r *Registry) Repository(ctx context.Context, name string) (*Repository, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.gate.closing() {
		return nil, errClosed
	}
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	return &Repository{reg: r, name: name}, nil
}

// Repositories lists repository names in lexical order, at most n (n <= 0:
// all) starting after last. Repositories with listEnabled=false are left out.
func (r *Registry) Repositories(ctx context.Context, last string, n int) ([]string, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer r.leave()
	var names []string
	err := r.view(ctx, func(tx meta.Tx) error {
		names = names[:0]
		return schema.Repos.Scan(tx, last, func(name string, rec *schema.Repo) bool {
			if rec.Attributes.ListEnabled {
				names = append(names, name)
			}
			return n <= 0 || len(names) < n
		})
	})
	return names, err
}

// DeleteRepository deletes a repository with every manifest, tag and blob
// link in it. It is refused (ErrLocked) when the repository is not
// deletable or anything in it is locked. Blobs no longer referenced are left
// to garbage collection. Under soft delete the repository, its manifests
// and tags move to the deleted state (see DeletedRepositories).
func (r *Registry) DeleteRepository(ctx context.Context, name string) error {
	if err := r.enter(); err != nil {
		return err
	}
	defer r.leave()
	if err := ValidateName(name); err != nil {
		return err
	}
	return r.update(ctx, func(t *txn) error { return deleteRepository(t, name, nil) })
}

// every runs fn every interval until Close, with a context that Close
// cancels; it is started on r.bg.
func (r *Registry) every(interval time.Duration, fn func(ctx context.Context)) {
	defer r.bg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-r.stop
		cancel()
	}()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// String describes the registry for logs.
func (r *Registry) String() string { return fmt.Sprintf("regkit registry (%T, %T)", r.blobs, r.meta) }
