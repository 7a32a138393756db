package bolt

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// faultOp is a kind of file-system operation a faultFS can fail.
type faultOp int

const (
	faultWrite      faultOp = iota // WriteAt of a segment or spare
	faultSync                      // Datasync of a segment or spare
	faultRename                    // Rename of the spare into a segment
	faultSyncDir                   // SyncDir
	faultCheckpoint                // a checkpoint's transaction (checkpointHook)
)

// fault fails operations of one kind on files whose base name contains
// match (every file when empty): the next times of them (every one, until
// cleared, when times is 0).
type fault struct {
	op    faultOp
	match string
	err   error
	times int
}

// faultFS is the operating system's file system with faults injected. A
// failing write writes the first half of its bytes and then fails, as a
// write cut short by a full disk does.
type faultFS struct {
	osFS
	mu     sync.Mutex
	faults []*fault
	hits   int                     // operations failed so far
	files  map[*faultFile]struct{} // open files, renamed with their names
}

// inject adds a fault.
func (f *faultFS) inject(ft fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &ft)
}

// clear removes every fault.
func (f *faultFS) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

// failed returns how many operations were failed.
func (f *faultFS) failed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

// check returns the error an operation on name fails with, or nil.
func (f *faultFS) check(op faultOp, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ft := range f.faults {
		if ft.op != op || !strings.Contains(filepath.Base(name), ft.match) {
			continue
		}
		if ft.times > 0 {
			if ft.times--; ft.times == 0 {
				f.faults = append(f.faults[:i:i], f.faults[i+1:]...)
			}
		}
		f.hits++
		return &os.PathError{Op: "fault", Path: name, Err: ft.err}
	}
	return nil
}

// checkpointHook is a hooks.checkpoint that fails with the faultCheckpoint
// faults.
func (f *faultFS) checkpointHook() error { return f.check(faultCheckpoint, "") }

func (f *faultFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	fl, err := f.osFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	ff := &faultFile{file: fl, fs: f, name: name}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.files == nil {
		f.files = make(map[*faultFile]struct{})
	}
	f.files[ff] = struct{}{}
	return ff, nil
}

func (f *faultFS) Rename(oldpath, newpath string) error {
	if err := f.check(faultRename, newpath); err != nil {
		return err
	}
	if err := f.osFS.Rename(oldpath, newpath); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for ff := range f.files {
		if ff.name == oldpath {
			ff.name = newpath
		}
	}
	return nil
}

func (f *faultFS) SyncDir(dir string) error {
	if err := f.check(faultSyncDir, dir); err != nil {
		return err
	}
	return f.osFS.SyncDir(dir)
}

// faultFile is a file of a faultFS, under its current name (guarded by the
// faultFS's mu).
type faultFile struct {
	file
	fs   *faultFS
	name string
}

func (f *faultFile) path() string {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.name
}

func (f *faultFile) Close() error {
	f.fs.mu.Lock()
	delete(f.fs.files, f)
	f.fs.mu.Unlock()
	return f.file.Close()
}

func (f *faultFile) WriteAt(b []byte, off int64) (int, error) {
	if err := f.fs.check(faultWrite, f.path()); err != nil {
		n, _ := f.file.WriteAt(b[:len(b)/2], off)
		return n, err
	}
	return f.file.WriteAt(b, off)
}

func (f *faultFile) Datasync() error {
	if err := f.fs.check(faultSync, f.path()); err != nil {
		return err
	}
	return f.file.Datasync()
}
