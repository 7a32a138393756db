package azure_test

import (
	"context"
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
		name := c.URL()
		s := open(t, c, azure.WithPrefix("reg"))
		return s, func() blob.Storage { return open(t, containerClient(t, containerName(name)), azure.WithPrefix("reg")) }
	})
}
