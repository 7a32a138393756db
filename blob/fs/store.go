package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// tempGrace is how long a staging entry in tmp/ must have been left alone
// before Open removes it. It guards entries that another process sharing the
// root is still writing.
const tempGrace = time.Hour

// Store is a blob.Storage in a directory tree; see the package documentation
// for the layout. It holds no open files of its own, so it needs no Close.
// Several Stores, in one process or several, may share a root.
type Store struct {
	root    string
	blobs   string
	uploads string
	tmp     string

	fsys   fileSystem // every change to the tree goes through it
	direct bool       // write large aligned runs with direct I/O
	back   bool       // read direct runs back into the page cache
	bufs   bufferPool // buffers of the copy pipelines (pump)
	boot   [16]byte   // the running system boot (bootID), for checkpoints

	mu    sync.Mutex
	held  map[string]bool   // upload IDs a Writer of this Store holds
	dirty map[string]uint64 // directories whose last sync failed, with the failure's epoch
	epoch uint64            // counts directory sync failures
}

// Option configures a Store.
type Option func(*Store)

// WithDirectIO sets whether uploads and Puts write large aligned runs with
// direct I/O (O_DIRECT, Linux only; on by default). Direct writes skip the
// copy into the page cache and its page allocations, which cost about as
// much CPU as hashing the bytes, and leave nothing for the commit's fsync
// to write. Unless WithReadBack turns it off, each direct run is then read
// back into the page cache by DMA, so the first read of a blob just written
// does not come from the disk. Small writes, unaligned edges and file
// systems without O_DIRECT (tmpfs) always use the page cache.
func WithDirectIO(on bool) Option { return func(s *Store) { s.direct = on } }

// WithReadBack sets whether every run written with direct I/O is read back
// into the page cache as soon as it is on the disk (on by default; Linux
// only; nothing to do without direct I/O). The kernel reads it ahead by DMA
// (posix_fadvise WILLNEED, asked for by a goroutine of the upload's own that
// neither the hash nor the writes wait for), which costs the pages'
// allocation but not the copy a buffered write makes, so a blob just pushed is in the page cache for its
// first pull, as a buffered write would leave it. Off, the first read of a
// blob written with direct I/O comes from the disk.
func WithReadBack(on bool) Option { return func(s *Store) { s.back = on } }

var (
	_ blob.Storage = (*Store)(nil)
	_ blob.Putter  = (*Store)(nil)
)

// Open opens the store rooted at root, creating the directories it needs,
// and removes what a crash left behind: stale staging entries in tmp/ and
// upload directories whose commit had already published the blob.
// Unfinished uploads are kept for Resume and listed by Uploads.
func Open(root string, opts ...Option) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, errorf(blob.ErrInvalid, "root %q: %w", root, err)
	}
	s := &Store{
		root:    abs,
		blobs:   filepath.Join(abs, "blobs"),
		uploads: filepath.Join(abs, "uploads"),
		tmp:     filepath.Join(abs, "tmp"),
		fsys:    osFS{},
		direct:  true,
		back:    true,
		boot:    bootID(),
		held:    make(map[string]bool),
		dirty:   make(map[string]uint64),
	}
	for _, o := range opts {
		o(s)
	}
	for _, dir := range []string{s.root, s.blobs, s.uploads, s.tmp} {
		if err := s.ensureDir(dir); err != nil {
			return nil, ioError("create "+dir, err)
		}
	}
	if err := s.cleanup(time.Now()); err != nil {
		return nil, err
	}
	return s, nil
}

// Root returns the store's root directory, as an absolute path.
func (s *Store) Root() string { return s.root }

// cleanup removes stale staging entries and finished upload directories.
func (s *Store) cleanup(now time.Time) error {
	ents, err := os.ReadDir(s.tmp)
	if err != nil {
		return ioError("read "+s.tmp, err)
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < tempGrace {
			continue
		}
		_ = s.fsys.RemoveAll(filepath.Join(s.tmp, e.Name()))
	}
	ents, err = os.ReadDir(s.uploads)
	if err != nil {
		return ioError("read "+s.uploads, err)
	}
	for _, e := range ents {
		if !e.IsDir() || blob.CheckUploadID(e.Name()) != nil {
			continue
		}
		dir := filepath.Join(s.uploads, e.Name())
		if _, err := os.Lstat(filepath.Join(dir, "data")); errors.Is(err, iofs.ErrNotExist) {
			_ = s.fsys.RemoveAll(dir)
		}
	}
	return nil
}

// ensureDir creates dir if needed, creating missing parents first and
// fsyncing the parent of each directory it creates.
func (s *Store) ensureDir(dir string) error {
	err := s.fsys.Mkdir(dir, 0o755)
	switch {
	case err == nil:
		return s.syncDir(filepath.Dir(dir))
	case errors.Is(err, iofs.ErrExist):
		return nil
	case errors.Is(err, iofs.ErrNotExist) && filepath.Dir(dir) != dir:
		if err := s.ensureDir(filepath.Dir(dir)); err != nil {
			return err
		}
		return s.ensureDir(dir)
	}
	return err
}

// syncDir fsyncs dir through the store's fileSystem. A directory whose sync
// failed is remembered until a sync of it that started after the failure
// succeeds, and syncDirty retries it before a later commit or delete is
// acknowledged: an entry renamed into it, or removed from it, is not
// durable until then.
func (s *Store) syncDir(dir string) error {
	s.mu.Lock()
	start := s.epoch
	s.mu.Unlock()
	err := s.fsys.SyncDir(dir)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.epoch++
		s.dirty[dir] = s.epoch
		return err
	}
	if e, ok := s.dirty[dir]; ok && e <= start {
		delete(s.dirty, dir)
	}
	return nil
}

// syncDirty syncs every directory whose last sync failed. It costs one
// lock when there is none, the normal case.
func (s *Store) syncDirty() error {
	s.mu.Lock()
	if len(s.dirty) == 0 {
		s.mu.Unlock()
		return nil
	}
	dirs := make([]string, 0, len(s.dirty))
	for d := range s.dirty {
		dirs = append(dirs, d)
	}
	s.mu.Unlock()
	for _, d := range dirs {
		if err := s.syncDir(d); err != nil {
			return ioError("sync "+d, err)
		}
	}
	return nil
}

// blobPath returns the file of a validated digest.
func (s *Store) blobPath(d digest.Digest) string {
	hex := d.Encoded()
	return filepath.Join(s.blobs, string(d.Algorithm()), hex[:2], hex)
}

// parse validates a caller's digest.
func parse(ctx context.Context, dgst digest.Digest) (digest.Digest, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return blob.ParseDigest(string(dgst))
}

// Stat implements blob.Statter.
func (s *Store) Stat(ctx context.Context, dgst digest.Digest) (blob.Info, error) {
	d, err := parse(ctx, dgst)
	if err != nil {
		return blob.Info{}, err
	}
	fi, err := os.Stat(s.blobPath(d))
	if err != nil {
		return blob.Info{}, blobError(d, err)
	}
	if !fi.Mode().IsRegular() {
		return blob.Info{}, errorf(blob.ErrNotFound, "blob %s", d)
	}
	return blob.Info{Digest: d, Size: fi.Size(), CreatedAt: fi.ModTime()}, nil
}

// ReaderAt implements blob.Opener. The reader holds an open file, so it
// reads the whole blob even if the blob is deleted meanwhile.
func (s *Store) ReaderAt(ctx context.Context, dgst digest.Digest) (blob.ReaderAt, error) {
	d, err := parse(ctx, dgst)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(s.blobPath(d))
	if err != nil {
		return nil, blobError(d, err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			return nil, errorf(blob.ErrNotFound, "blob %s", d)
		}
		return nil, ioError("stat "+d.String(), err)
	}
	return &reader{f: f, size: fi.Size()}, nil
}

// reader is an open blob file.
type reader struct {
	f    *os.File
	size int64
}

func (r *reader) ReadAt(p []byte, off int64) (int, error) { return r.f.ReadAt(p, off) }
func (r *reader) Size() int64                             { return r.size }
func (r *reader) Close() error                            { return r.f.Close() }

// File returns the open blob file (blob.Filer), so an HTTP server can send
// it with sendfile. Reading it moves its offset; ReadAt does not care.
func (r *reader) File() *os.File { return r.f }

// Delete implements blob.Deleter. It unlinks the blob's file and fsyncs its
// directory, so a deleted blob does not reappear after a crash. If that sync
// fails, the blob is gone from view but Delete returns an error wrapping
// ErrUnavailable and the cause; the directory is synced again before the
// next commit or delete is acknowledged.
func (s *Store) Delete(ctx context.Context, dgst digest.Digest) error {
	d, err := parse(ctx, dgst)
	if err != nil {
		return err
	}
	path := s.blobPath(d)
	if err := s.fsys.Remove(path); err != nil {
		return blobError(d, err)
	}
	if err := s.syncDir(filepath.Dir(path)); err != nil {
		return ioError("delete "+d.String(), err)
	}
	return s.syncDirty()
}

// Walk implements blob.Walker. It reads one two-hex-digit directory at a
// time and ignores any file that is not named like a blob.
func (s *Store) Walk(ctx context.Context, fn func(blob.Info) error) error {
	algs, err := os.ReadDir(s.blobs)
	if err != nil {
		return ioError("read "+s.blobs, err)
	}
	for _, a := range algs {
		alg := digest.Algorithm(a.Name())
		if !a.IsDir() || !alg.Available() {
			continue
		}
		prefixes, err := os.ReadDir(filepath.Join(s.blobs, a.Name()))
		if err != nil {
			return ioError("read "+a.Name(), err)
		}
		for _, p := range prefixes {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !p.IsDir() || len(p.Name()) != 2 {
				continue
			}
			if err := s.walkPrefix(alg, p.Name(), fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) walkPrefix(alg digest.Algorithm, prefix string, fn func(blob.Info) error) error {
	dir := filepath.Join(s.blobs, string(alg), prefix)
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return nil
		}
		return ioError("read "+dir, err)
	}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, prefix) {
			continue
		}
		d, err := blob.ParseDigest(string(alg) + ":" + name)
		if err != nil {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // deleted meanwhile
		}
		if err := fn(blob.Info{Digest: d, Size: fi.Size(), CreatedAt: fi.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}

// blobError maps a file error on blob d to the blob error classes.
func blobError(d digest.Digest, err error) error {
	if errors.Is(err, iofs.ErrNotExist) {
		return errorf(blob.ErrNotFound, "blob %s", d)
	}
	return ioError("blob "+d.String(), err)
}

// ioError wraps an unexpected filesystem failure as ErrUnavailable.
func ioError(what string, err error) error {
	return fmt.Errorf("blob/fs: %s: %w: %w", what, blob.ErrUnavailable, err)
}

func errorf(class error, format string, args ...any) error {
	return fmt.Errorf("blob/fs: "+format+": %w", append(args, class)...)
}
