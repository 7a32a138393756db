package memory_test

import (
	"testing"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/blob/blobtest"
	"github.com/regkit/regkit/blob/memory"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(*testing.T) (blob.Storage, func() blob.Storage) {
		return memory.New(), nil
	}, blobtest.InMemory())
}

func FuzzWriter(f *testing.F) { blobtest.Fuzz(f, memory.New()) }
