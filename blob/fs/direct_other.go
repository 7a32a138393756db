//go:build !linux

package fs

// openDirect returns nil: direct I/O is used on Linux only.
func openDirect(fileSystem, string) file { return nil }
