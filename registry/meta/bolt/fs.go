package bolt

import (
	"os"
	"path/filepath"
	"runtime"
)

// fileSystem is what the write-ahead log does to files: every write, flush,
// rename and directory sync of a segment goes through it, so tests can make
// any of them fail (faultfs_test.go). The bbolt file itself is written by
// bbolt; a failing checkpoint is injected with a hook instead (hooks).
type fileSystem interface {
	// OpenFile opens a file as os.OpenFile does.
	OpenFile(name string, flag int, perm os.FileMode) (file, error)
	// ReadFile returns the contents of a file.
	ReadFile(name string) ([]byte, error)
	// ReadDir lists a directory's entry names.
	ReadDir(dir string) ([]string, error)
	// Rename renames a file, replacing any file at newpath.
	Rename(oldpath, newpath string) error
	// Remove removes a file.
	Remove(name string) error
	// SyncDir flushes a directory's entries to stable storage.
	SyncDir(dir string) error
}

// file is an open segment.
type file interface {
	WriteAt(b []byte, off int64) (int, error)
	// Datasync flushes the file's data and the metadata needed to read it
	// back (fdatasync where there is one).
	Datasync() error
	Close() error
}

// osFS is the fileSystem of the operating system.
type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

func (osFS) ReadDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, nil
}

func (osFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

func (osFS) Remove(name string) error { return os.Remove(name) }

func (osFS) SyncDir(dir string) error { return syncDir(dir) }

// osFile is an *os.File with Datasync.
type osFile struct{ *os.File }

func (f osFile) Datasync() error { return datasync(f.File) }

// syncDir flushes the directory dir to stable storage. Windows cannot sync
// a directory handle (NTFS journals the entry itself), so it does nothing
// there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(filepath.Clean(dir))
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
