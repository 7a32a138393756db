package fs_test

import (
	"testing"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/blob/blobtest"
	"github.com/regkit/regkit/blob/fs"
)

// open opens the store at dir or fails the test.
func open(t testing.TB, dir string) *fs.Store {
	t.Helper()
	s, err := fs.Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) (blob.Storage, func() blob.Storage) {
		dir := t.TempDir()
		return open(t, dir), func() blob.Storage { return open(t, dir) }
	})
}

func FuzzWriter(f *testing.F) { blobtest.Fuzz(f, open(f, f.TempDir())) }
