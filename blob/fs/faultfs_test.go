package fs

import (
	iofs "io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// op names the kinds of operation a faultFS can fail.
type op int

const (
	opCreate  op = iota // OpenFile with O_CREATE, CreateTemp, Mkdir
	opWrite             // WriteAt on any file, the direct descriptor's too
	opSync              // Sync (fsync) of a file
	opRename            // Rename; the fault's path is matched against both names
	opSyncDir           // SyncDir
	opRemove            // Remove, RemoveAll
)

func (o op) String() string {
	return [...]string{"create", "write", "sync", "rename", "syncdir", "remove"}[o]
}

// fault makes operations of one kind fail with err once skip of them have
// passed, until the faultFS is cleared: a full or failing disk stays so.
type fault struct {
	op   op
	path func(string) bool // which paths; nil: all
	err  syscall.Errno     // syscall.EIO, syscall.ENOSPC
	skip int               // matching operations that pass before the first failure
	// part decides what a failing WriteAt writes before it returns err:
	// partShort writes the first half of the bytes (an aligned length, so
	// that direct I/O accepts it) and reports them, as a disk that fills
	// up does; partTorn writes as many zeros and reports none, as an I/O
	// error in mid-write may leave the range.
	part int
}

const (
	partNone = iota
	partShort
	partTorn
)

// call is one operation a faultFS saw.
type call struct {
	op   op
	path string
	err  error
}

// faultFS is the store's fileSystem with faults injected on demand. Every
// operation is recorded, so a test can check that a sync happened.
type faultFS struct {
	osFS
	mu     sync.Mutex
	faults []*fault
	calls  []call
}

func (fs *faultFS) inject(f fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.faults = append(fs.faults, &f)
}

// clear removes every fault: the disk works again.
func (fs *faultFS) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.faults = nil
}

// count reports how many operations of kind o on a path that match
// succeeded since the call numbered from (see mark).
func (fs *faultFS) count(from int, o op, match func(string) bool) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := 0
	for _, c := range fs.calls[from:] {
		if c.op == o && c.err == nil && (match == nil || match(c.path)) {
			n++
		}
	}
	return n
}

// mark returns the number of operations so far, for count.
func (fs *faultFS) mark() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.calls)
}

// check records an operation and returns the fault that fails it, if any.
func (fs *faultFS) check(o op, paths ...string) *fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var fired *fault
	for _, f := range fs.faults {
		if f.op != o || !matchAny(f.path, paths) {
			continue
		}
		if f.skip > 0 {
			f.skip--
			continue
		}
		fired = f
		break
	}
	c := call{op: o, path: paths[0]}
	if fired != nil {
		c.err = fired.err
	}
	fs.calls = append(fs.calls, c)
	return fired
}

func matchAny(match func(string) bool, paths []string) bool {
	if match == nil {
		return true
	}
	for _, p := range paths {
		if match(p) {
			return true
		}
	}
	return false
}

// pathError is the error the os package would return.
func pathError(o op, path string, err syscall.Errno) error {
	return &os.PathError{Op: o.String(), Path: path, Err: err}
}

func (fs *faultFS) OpenFile(name string, flag int, perm iofs.FileMode) (file, error) {
	if flag&os.O_CREATE != 0 {
		if f := fs.check(opCreate, name); f != nil {
			return nil, pathError(opCreate, name, f.err)
		}
	}
	f, err := fs.osFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{file: f, fs: fs}, nil
}

func (fs *faultFS) CreateTemp(dir, pattern string) (file, error) {
	if f := fs.check(opCreate, dir+"/"+pattern); f != nil {
		return nil, pathError(opCreate, dir, f.err)
	}
	f, err := fs.osFS.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &faultFile{file: f, fs: fs}, nil
}

func (fs *faultFS) Mkdir(name string, perm iofs.FileMode) error {
	if f := fs.check(opCreate, name); f != nil {
		return pathError(opCreate, name, f.err)
	}
	return fs.osFS.Mkdir(name, perm)
}

func (fs *faultFS) Rename(oldpath, newpath string) error {
	if f := fs.check(opRename, newpath, oldpath); f != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: f.err}
	}
	return fs.osFS.Rename(oldpath, newpath)
}

func (fs *faultFS) Remove(name string) error {
	if f := fs.check(opRemove, name); f != nil {
		return pathError(opRemove, name, f.err)
	}
	return fs.osFS.Remove(name)
}

func (fs *faultFS) RemoveAll(name string) error {
	if f := fs.check(opRemove, name); f != nil {
		return pathError(opRemove, name, f.err)
	}
	return fs.osFS.RemoveAll(name)
}

func (fs *faultFS) Chtimes(name string, atime, mtime time.Time) error {
	return fs.osFS.Chtimes(name, atime, mtime)
}

func (fs *faultFS) SyncDir(dir string) error {
	if f := fs.check(opSyncDir, dir); f != nil {
		return pathError(opSyncDir, dir, f.err)
	}
	return fs.osFS.SyncDir(dir)
}

// faultFile is a file whose writes and syncs a faultFS may fail.
type faultFile struct {
	file
	fs *faultFS
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	flt := f.fs.check(opWrite, f.Name())
	if flt == nil {
		return f.file.WriteAt(p, off)
	}
	half := len(p) / 2 &^ (directAlign - 1)
	err := pathError(opWrite, f.Name(), flt.err)
	switch {
	case half == 0 || flt.part == partNone:
		return 0, err
	case flt.part == partShort:
		n, werr := f.file.WriteAt(p[:half], off)
		if werr != nil {
			return n, werr
		}
		return n, err
	default:
		if _, werr := f.file.WriteAt(alignedBuffer(half), off); werr != nil {
			return 0, werr
		}
		return 0, err
	}
}

func (f *faultFile) Sync() error {
	if flt := f.fs.check(opSync, f.Name()); flt != nil {
		return pathError(opSync, f.Name(), flt.err)
	}
	return f.file.Sync()
}

// withFS makes the store write through fsys.
func withFS(fsys fileSystem) Option { return func(s *Store) { s.fsys = fsys } }

// under matches paths that contain s.
func under(s string) func(string) bool {
	return func(p string) bool { return strings.Contains(p, s) }
}

// endsWith matches paths that end with s.
func endsWith(s string) func(string) bool {
	return func(p string) bool { return strings.HasSuffix(p, s) }
}
