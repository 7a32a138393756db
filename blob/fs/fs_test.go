package fs_test

import (
	"fmt"
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
	for _, direct := range []bool{true, false} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			blobtest.Run(t, func(t *testing.T) (blob.Storage, func() blob.Storage) {
				dir := t.TempDir()
				reopen := func() blob.Storage {
					s, err := fs.Open(dir, fs.WithDirectIO(direct))
					if err != nil {
						t.Fatalf("Open(%s): %v", dir, err)
					}
					return s
				}
				return reopen(), reopen
			})
		})
	}
}

func FuzzWriter(f *testing.F) { blobtest.Fuzz(f, open(f, f.TempDir())) }
