//go:build !(linux && (amd64 || arm64 || riscv64 || s390x || loong64 || ppc64 || ppc64le))

package fs

// startWriteback is a no-op where sync_file_range is unavailable.
func startWriteback(file, int64, int64) {}

// startReadBack is a no-op where posix_fadvise is not reached.
func startReadBack(file, int64, int64) {}
