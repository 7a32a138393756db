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
