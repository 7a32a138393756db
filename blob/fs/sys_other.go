//go:build !unix

package fs

import "errors"

var errLocked = errors.New("locked")

// tryLock is a no-op where flock is missing: only the in-process lock holds.
func tryLock(file) error { return nil }

// syncDir is a no-op where directories cannot be opened for fsync.
func syncDir(string) error { return nil }
