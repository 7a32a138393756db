package azure_test

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/blob/azure"
	"github.com/regkit/regkit/blob/blobtest"
)

// open returns a Store on c, failing the test on error.
func open(tb testing.TB, c *container.Client, opts ...azure.Option) *azure.Store {
	tb.Helper()
	s, err := azure.New(context.Background(), c, opts...)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) (blob.Storage, func() blob.Storage) {
		c := newContainer(t)
		name := containerName(c.URL())
		return open(t, c, azure.WithPrefix("reg")), func() blob.Storage { return open(t, containerClient(t, name), azure.WithPrefix("reg")) }
	})
}

// TestConformanceSmallBlocks runs the suite with the smallest block size,
// so that most uploads stage several blocks and commit by copy. Its 1 GiB
// test runs in TestConformance only: with 64 KiB blocks it makes 16,384
// Put Block requests and takes four minutes on Azurite.
func TestConformanceSmallBlocks(t *testing.T) {
	opts := []azure.Option{azure.WithPrefix("a/b"), azure.WithBlockSize(64 << 10)}
	blobtest.Run(t, func(t *testing.T) (blob.Storage, func() blob.Storage) {
		if strings.HasSuffix(t.Name(), "/LargeConstantMemory") {
			t.Skip("the 1 GiB test runs in TestConformance, with the default block size")
		}
		c := newContainer(t)
		name := containerName(c.URL())
		return open(t, c, opts...), func() blob.Storage { return open(t, containerClient(t, name), opts...) }
	})
}
