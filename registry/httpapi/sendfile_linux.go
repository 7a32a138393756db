//go:build linux && (amd64 || arm64 || riscv64 || s390x || loong64 || ppc64 || ppc64le)

package httpapi

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"syscall"
)

// fadvWillNeed is POSIX_FADV_WILLNEED on Linux.
const fadvWillNeed = 3

// readAhead asks the kernel to start reading [off, off+n) of f into the page
// cache. It is a hint: errors are ignored.
func readAhead(f *os.File, off, n int64) {
	if n <= 0 {
		return
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_, _, _ = syscall.Syscall6(syscall.SYS_FADVISE64, fd, uintptr(off), uintptr(n), fadvWillNeed, 0, 0)
	})
}

// writeMapped maps [off, off+n) of f and writes it to w in one call. done
// false (with a nil error) means the window was not mapped and nothing was
// written: the file is shorter than the window, or mapping failed.
//
// Blob files never change once written, but a file cut short by something
// outside this process would make reading the mapping past its new end
// fault. The kernel reads the mapping when copying into a socket, and there
// such a read fails the write (EFAULT); a writer that copies in user space
// (the response's buffer takes the first bytes) would fault in this
// process, so the goroutine turns faults into a panic that writeMapped
// recovers as an error.
func writeMapped(w io.Writer, f *os.File, off, n int64) (done bool, err error) {
	if fi, err := f.Stat(); err != nil || fi.Size() < off+n {
		return false, nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return false, nil
	}
	var m []byte
	var merr error
	if err := rc.Control(func(fd uintptr) {
		m, merr = syscall.Mmap(int(fd), off, int(n), syscall.PROT_READ, syscall.MAP_SHARED)
	}); err != nil || merr != nil {
		return false, nil
	}
	defer syscall.Munmap(m)
	_ = syscall.Madvise(m, syscall.MADV_SEQUENTIAL)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			cause, ok := v.(error) // a fault is a runtime.Error
			if !ok {
				cause = fmt.Errorf("%v", v)
			}
			done, err = true, fmt.Errorf("httpapi: reading blob file %s: %w: %w", f.Name(), cause, io.ErrUnexpectedEOF)
		}
	}()
	_, err = w.Write(m)
	return true, err
}
