package bolt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

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
)

// Store is a [meta.Store] in one bbolt file. It is safe for concurrent use.
type Store struct {
	db  *bbolt.DB
	log *logState // nil without WithLog
}

// Option configures [Open].
type Option func(*config)

type config struct {
	timeout         time.Duration
	mode            os.FileMode
	noSync          bool
	log             bool
	checkpointBytes int64
}

// WithTimeout sets how long Open waits for the file lock that another open
// Store (in this process or another) holds. The default is one second; zero
// waits forever.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithFileMode sets the permissions of a file Open creates. The default is
// 0o600.
func WithFileMode(mode os.FileMode) Option {
	return func(c *config) { c.mode = mode }
}

// WithNoSync skips fsync on commit. Commits become much cheaper, but a crash
// of the machine (not only of the process) may lose or corrupt recent
// transactions. Use it for tests and benchmarks, never for data you keep.
func WithNoSync() Option {
	return func(c *config) { c.noSync = true }
}

// WithLog puts a write-ahead log in front of the file: an Update appends its
// changes to a log segment next to the file ("<path>.wal.<n>") with one
// write and one fdatasync, and keeps them in memory, where reads find them;
// a background checkpoint applies them to the file in one bbolt transaction
// once the segment reaches [WithCheckpointBytes], and Close applies the
// rest. A commit then costs one small append and one flush instead of
// bbolt's page writes and two flushes, which triples the rate of small
// concurrent commits; durability is unchanged (see the package
// documentation).
func WithLog() Option {
	return func(c *config) { c.log = true }
}

// WithCheckpointBytes sets the segment size at which [WithLog] starts a
// checkpoint (default 4 MiB). The changes not yet checkpointed stay in memory,
// about twice this size at most, and are replayed from the log by the next
// Open after a crash.
func WithCheckpointBytes(n int64) Option {
	return func(c *config) { c.checkpointBytes = n }
}

// Open opens the store in the file at path, creating the file if it does not
// exist; its directory must exist. Close the Store to release the file.
func Open(path string, opts ...Option) (*Store, error) {
	c := config{timeout: time.Second, mode: 0o600}
	for _, o := range opts {
		o(&c)
	}
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)
	// The freelist settings follow etcd (see the package documentation);
	// statistics are off because nothing reads them and every read
	// transaction would pay for them.
	db, err := bbolt.Open(path, c.mode, &bbolt.Options{
		Timeout:        c.timeout,
		NoSync:         c.noSync,
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
		NoStatistics:   true,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("meta/bolt: open %s: file is locked by another open store: %w", path, meta.ErrUnavailable)
		}
		return nil, fmt.Errorf("meta/bolt: open %s: %v: %w", path, err, meta.ErrUnavailable)
	}
	if err := db.Update(initLayout); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("meta/bolt: open %s: %w", path, err)
	}
	if created && !c.noSync {
		// bbolt syncs the file, not the directory entry that names it: sync
		// the directory too, or a crash could lose a new file with its commits.
		if err := syncDir(filepath.Dir(path)); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("meta/bolt: open %s: sync directory: %v: %w", path, err, meta.ErrUnavailable)
		}
	}
	s := &Store{db: db}
	if c.log {
		if err := s.startLog(path, c); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	return s, nil
}

// syncDir flushes the directory dir to stable storage. Windows cannot sync
// a directory handle (NTFS journals the entry itself), so it does nothing
// there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

// initLayout creates the buckets of a new file and checks an existing one.
func initLayout(btx *bbolt.Tx) error {
	info := btx.Bucket([]byte(infoBucket))
	if info == nil {
		empty := true
		_ = btx.ForEach(func([]byte, *bbolt.Bucket) error { empty = false; return nil })
		if !empty {
			return fmt.Errorf("not a regkit metadata file (it has other buckets): %w", meta.ErrInvalid)
		}
		info, err := btx.CreateBucket([]byte(infoBucket))
		if err != nil {
			return fmt.Errorf("create layout: %v: %w", err, meta.ErrUnavailable)
		}
		if err := info.Put([]byte(formatKey), []byte(format)); err != nil {
			return fmt.Errorf("create layout: %v: %w", err, meta.ErrUnavailable)
		}
		if _, err := btx.CreateBucket([]byte(kvBucket)); err != nil {
			return fmt.Errorf("create layout: %v: %w", err, meta.ErrUnavailable)
		}
		return nil
	}
	if got := info.Get([]byte(formatKey)); string(got) != format {
		return fmt.Errorf("file format %q, want %q: %w", got, format, errdef.ErrUnsupported)
	}
	if btx.Bucket([]byte(kvBucket)) == nil {
		return fmt.Errorf("file has no %q bucket: %w", kvBucket, meta.ErrInvalid)
	}
	return nil
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
// and then returns the context's error without running fn.
func (s *Store) Update(ctx context.Context, fn func(meta.Tx) error) error {
	if s.log != nil {
		return s.logRun(ctx, true, fn)
	}
	return s.run(ctx, true, fn)
}

// run runs fn in a transaction and sorts its errors: fn's own pass through
// unchanged; bbolt's are wrapped in meta's classes.
func (s *Store) run(ctx context.Context, writable bool, fn func(meta.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("meta/bolt: %w", err)
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
	default:
		return sortErr(err)
	}
}

// Close waits for running transactions to finish, then closes the file.
// Later transactions fail with an error wrapping meta.ErrUnavailable. Close
// is idempotent.
func (s *Store) Close() error {
	var logErr error
	if s.log != nil {
		logErr = s.closeLog()
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("meta/bolt: close: %v: %w", err, meta.ErrUnavailable)
	}
	return logErr
}
