package fs

import (
	"io"
	iofs "io/fs"
	"os"
	"syscall"
	"time"
)

// fileSystem is the seam every change the store makes to its tree goes
// through: creating, writing, syncing, renaming and removing files and
// directories. The store uses osFS; tests put a fileSystem in its place that
// injects faults (EIO, ENOSPC) into chosen operations. Reads of committed
// blobs (Stat, ReaderAt, Walk) go to the operating system directly: the HTTP
// layer needs the *os.File of a blob, and they change nothing.
//
// Only the opening of a file goes through an interface call per operation;
// the hot path, a write of up to a pipeline buffer, costs one dynamic call
// more than an *os.File method, which is nothing beside the write itself.
type fileSystem interface {
	// OpenFile is os.OpenFile.
	OpenFile(name string, flag int, perm iofs.FileMode) (file, error)
	// CreateTemp is os.CreateTemp.
	CreateTemp(dir, pattern string) (file, error)
	// Mkdir is os.Mkdir.
	Mkdir(name string, perm iofs.FileMode) error
	// Rename is os.Rename.
	Rename(oldpath, newpath string) error
	// Remove is os.Remove.
	Remove(name string) error
	// RemoveAll is os.RemoveAll.
	RemoveAll(name string) error
	// Chtimes is os.Chtimes.
	Chtimes(name string, atime, mtime time.Time) error
	// SyncDir fsyncs a directory, so the entries created, renamed or
	// removed in it survive a crash.
	SyncDir(dir string) error
}

// file is the part of *os.File the store writes through; *os.File is the
// production implementation.
type file interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	Name() string
	Stat() (iofs.FileInfo, error)
	Sync() error
	Truncate(size int64) error
	Chmod(mode iofs.FileMode) error
	// SyscallConn reaches the descriptor, for flock and writeback hints.
	SyscallConn() (syscall.RawConn, error)
}

var _ file = (*os.File)(nil)

// osFS is the fileSystem of the operating system.
type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm iofs.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // not a typed nil in an interface
	}
	return f, nil
}

func (osFS) CreateTemp(dir, pattern string) (file, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (osFS) Mkdir(name string, perm iofs.FileMode) error { return os.Mkdir(name, perm) }
func (osFS) Rename(oldpath, newpath string) error        { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error                    { return os.Remove(name) }
func (osFS) RemoveAll(name string) error                 { return os.RemoveAll(name) }
func (osFS) SyncDir(dir string) error                    { return syncDir(dir) }

func (osFS) Chtimes(name string, atime, mtime time.Time) error {
	return os.Chtimes(name, atime, mtime)
}
