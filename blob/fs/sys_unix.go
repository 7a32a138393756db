//go:build unix

package fs

import (
	"errors"
	"os"
	"syscall"
)

// errLocked reports that another holder has the lock.
var errLocked = errors.New("locked")

// tryLock takes an exclusive, non-blocking flock on f. The kernel releases
// it when f is closed or the process dies.
func tryLock(f file) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	err = rc.Control(func(fd uintptr) {
		for {
			lerr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
			if lerr != syscall.EINTR {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	if lerr == syscall.EWOULDBLOCK {
		return errLocked
	}
	return lerr
}

// syncDir fsyncs a directory so entries created or renamed into it survive
// a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
