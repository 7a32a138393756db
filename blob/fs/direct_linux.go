//go:build linux

package fs

import (
	"os"
	"syscall"
)

// openDirect opens path for writing with O_DIRECT through fsys, or returns
// nil where the file system does not support it (tmpfs, for one).
func openDirect(fsys fileSystem, path string) file {
	f, err := fsys.OpenFile(path, os.O_WRONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return nil
	}
	return f
}
