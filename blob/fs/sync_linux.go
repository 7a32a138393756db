//go:build linux && (amd64 || arm64 || riscv64 || s390x || loong64 || ppc64 || ppc64le)

package fs

import (
	"syscall"
)

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE from <fcntl.h>.
const syncFileRangeWrite = 2

// startWriteback asks the kernel to begin writing [off, off+n) of f to
// disk without waiting, so a later fsync has less to do. Errors are ignored:
// this is only a hint, and fsync reports real failures.
func startWriteback(f file, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SyncFileRange(int(fd), off, n, syncFileRangeWrite)
	})
}

// fadvWillNeed is POSIX_FADV_WILLNEED.
const fadvWillNeed = 3

// startReadBack asks the kernel to read [off, off+n) of f into the page
// cache without waiting (posix_fadvise WILLNEED): the disk's DMA fills the
// pages, so the cost is their allocation, not a copy. Errors are ignored:
// this is only a hint.
func startReadBack(f file, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_, _, _ = syscall.Syscall6(syscall.SYS_FADVISE64, fd, uintptr(off), uintptr(n), fadvWillNeed, 0, 0)
	})
}
