//go:build !(linux && (amd64 || arm64 || riscv64 || s390x || loong64 || ppc64 || ppc64le))

package httpapi

import (
	"io"
	"os"
)

// readAhead is a no-op where posix_fadvise is not wired up.
func readAhead(*os.File, int64, int64) {}

// writeMapped never maps here: sendFile uses sendfile.
func writeMapped(io.Writer, *os.File, int64, int64) (bool, error) { return false, nil }
