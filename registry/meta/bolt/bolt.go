package bolt

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/meta"
)

// The file layout; see the package documentation.
const (
	infoBucket = "info"
	kvBucket   = "kv"
	formatKey  = "format"
	format     = "regkit-meta 1"
	idKey      = "id"
)

var (
	_ meta.Store          = (*Store)(nil)
	_ meta.HealthReporter = (*Store)(nil)
)

// Store is a [meta.Store] in one bbolt file. It is safe for concurrent use.
type Store struct {
	db     *bbolt.DB
	log    *logState // nil without WithLog
	logger *slog.Logger
	hooks  hooks

	stateMu sync.Mutex
	failed  error // sticky: the store is read-only; wraps meta.ErrUnavailable and the cause
	closed  bool

	closeOnce sync.Once
	closeErr  error
}

// Open opens the store in the file at path, creating the file if it does not
// exist; its directory must exist. Log segments beside the file are
// replayed into it (with or without [WithLog]) and removed; segments of
// another database are refused (see the package documentation). Close the
// Store to release the file.
func Open(path string, opts ...Option) (*Store, error) {
	c := defaultConfig()
	for _, o := range opts {
		o(&c)
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)
	// The freelist settings follow etcd (see the package documentation);
	// statistics are off because nothing reads them and every read
	// transaction would pay for them.
	db, err := bbolt.Open(path, c.mode, &bbolt.Options{
		Timeout:         c.timeout,
		NoSync:          c.noSync,
		NoFreelistSync:  true,
		FreelistType:    bbolt.FreelistMapType,
		NoStatistics:    true,
		InitialMmapSize: c.mmapSize,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("meta/bolt: open %s: file is locked by another open store: %w: %w", path, meta.ErrUnavailable, err)
		}
		return nil, fmt.Errorf("meta/bolt: open %s: %w: %w", path, meta.ErrUnavailable, err)
	}
	var id dbID
	if err := db.Update(func(btx *bbolt.Tx) error {
		var err error
		id, err = initLayout(btx)
		return err
	}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("meta/bolt: open %s: %w", path, err)
	}
	if created && !c.noSync {
		// bbolt syncs the file, not the directory entry that names it: sync
		// the directory too, or a crash could lose a new file with its commits.
		if err := c.fs.SyncDir(filepath.Dir(path)); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("meta/bolt: open %s: sync directory: %w: %w", path, meta.ErrUnavailable, err)
		}
	}
	s := &Store{db: db, logger: c.logger, hooks: c.hooks}
	applied, err := s.recoverLog(c.fs, path, id)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("meta/bolt: open %s: %w", path, err)
	}
	if c.log {
		if err := s.startLog(path, id, applied, c); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("meta/bolt: open %s: %w", path, err)
		}
	}
	return s, nil
}

// initLayout creates the buckets and the identity of a new file, checks an
// existing one (giving it an identity if it has none), and returns the
// file's identity.
func initLayout(btx *bbolt.Tx) (dbID, error) {
	var id dbID
	info := btx.Bucket([]byte(infoBucket))
	if info == nil {
		empty := true
		_ = btx.ForEach(func([]byte, *bbolt.Bucket) error { empty = false; return nil })
		if !empty {
			return id, fmt.Errorf("not a regkit metadata file (it has other buckets): %w", meta.ErrInvalid)
		}
		var err error
		if info, err = btx.CreateBucket([]byte(infoBucket)); err == nil {
			err = info.Put([]byte(formatKey), []byte(format))
		}
		if err == nil {
			_, err = btx.CreateBucket([]byte(kvBucket))
		}
		if err != nil {
			return id, fmt.Errorf("create layout: %w: %w", meta.ErrUnavailable, err)
		}
	}
	if got := info.Get([]byte(formatKey)); string(got) != format {
		return id, fmt.Errorf("file format %q, want %q: %w", got, format, errdef.ErrUnsupported)
	}
	if btx.Bucket([]byte(kvBucket)) == nil {
		return id, fmt.Errorf("file has no %q bucket: %w", kvBucket, meta.ErrInvalid)
	}
	switch v := info.Get([]byte(idKey)); len(v) {
	case len(id):
		copy(id[:], v)
	case 0: // a new file, or one written before identities
		_, _ = rand.Read(id[:]) // never fails (crypto/rand)
		if err := info.Put([]byte(idKey), id[:]); err != nil {
			return id, fmt.Errorf("store database id: %w: %w", meta.ErrUnavailable, err)
		}
	default:
		return id, fmt.Errorf("database id of %d bytes, want %d: %w", len(v), len(id), meta.ErrInvalid)
	}
	return id, nil
}

// View runs fn in a bbolt read transaction.
func (s *Store) View(ctx context.Context, fn func(meta.Tx) error) error {
	if s.log != nil {
		return s.logRun(ctx, false, fn)
	}
	return s.run(ctx, false, fn)
}

// Update runs fn in a bbolt read-write transaction and commits it durably
// (unless [WithNoSync]) when fn returns nil. Updates run one at a time; one
// waiting for the writer does not notice its context until its turn comes,
// and then returns the context's error without running fn. Once the store
// is closed or read-only (see [Store.Health]), Update fails with an error
// wrapping meta.ErrUnavailable without running fn.
func (s *Store) Update(ctx context.Context, fn func(meta.Tx) error) error {
	if s.log != nil {
		return s.logRun(ctx, true, fn)
	}
	return s.run(ctx, true, fn)
}

// Health reports the store's state (meta.HealthReporter): nil while it takes
// writes; once a flush or a checkpoint failed, an error wrapping
// meta.ErrUnavailable and the cause that says the store is read-only until
// reopened (View still works); once Close has started, an error wrapping
// meta.ErrUnavailable that says it is closed.
func (s *Store) Health() error {
	return s.unwritable()
}

// unwritable returns the error an Update fails with: the store is closed or
// read-only. It returns nil while the store takes writes.
func (s *Store) unwritable() error {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if s.closed {
		return errClosed
	}
	return s.failed
}

// errClosed is what Updates and Health return once Close has started.
var errClosed = fmt.Errorf("meta/bolt: store is closed: %w", meta.ErrUnavailable)

// fail makes the store read-only because what failed (a phrase: "write-ahead
// log append") failed with cause, logs it, and returns the error later
// Updates and Health report. The first failure stays.
func (s *Store) fail(what string, cause error) error {
	s.stateMu.Lock()
	first := s.failed == nil
	if first {
		s.failed = fmt.Errorf("meta/bolt: store is read-only until reopened: %s failed: %w: %w", what, meta.ErrUnavailable, cause)
	}
	failed := s.failed
	s.stateMu.Unlock()
	if first {
		s.logger.Error("meta/bolt: store is read-only until reopened", "failed", what, "err", cause)
	}
	return failed
}

// run runs fn in a transaction and sorts its errors: fn's own pass through
// unchanged; bbolt's are wrapped in meta's classes. A failed commit makes
// the store read-only: bbolt could not write or flush the file.
func (s *Store) run(ctx context.Context, writable bool, fn func(meta.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("meta/bolt: %w", err)
	}
	if writable {
		if err := s.unwritable(); err != nil {
			return err
		}
	}
	var fnErr error
	body := func(btx *bbolt.Tx) error {
		// The context may have ended while Update waited for the writer.
		if err := ctx.Err(); err != nil {
			fnErr = fmt.Errorf("meta/bolt: %w", err)
			return fnErr
		}
		t := &tx{b: btx.Bucket([]byte(kvBucket)), writable: writable}
		defer t.end()
		fnErr = fn(t)
		return fnErr
	}
	var err error
	if writable {
		err = s.db.Update(body)
	} else {
		err = s.db.View(body)
	}
	switch {
	case fnErr != nil:
		return fnErr
	case err == nil:
		return nil
	case writable && !errors.Is(err, berrors.ErrDatabaseNotOpen):
		return s.fail("commit", err)
	default:
		return sortErr(err)
	}
}

// sortErr wraps a bbolt error in meta's classes.
func sortErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("meta/bolt: store is closed: %w: %w", meta.ErrUnavailable, err)
	}
	return fmt.Errorf("meta/bolt: %w: %w", meta.ErrUnavailable, err)
}

// Close makes later Updates fail with an error wrapping
// meta.ErrUnavailable, waits for the running ones, applies what the log
// holds to the file (with [WithLog]), waits for running read transactions,
// and closes the file. Every Update that returned nil is in the file
// afterwards, or, if the last checkpoint fails, still in the log, which the
// next Open replays; Close then returns that error. Close is idempotent and
// safe to call concurrently: later calls wait for the first and return its
// result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stateMu.Lock()
		s.closed = true
		s.stateMu.Unlock()
		var err error
		if s.log != nil {
			err = s.closeLog()
		}
		if cerr := s.db.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("meta/bolt: close: %w: %w", meta.ErrUnavailable, cerr))
		}
		s.closeErr = err
	})
	return s.closeErr
}
