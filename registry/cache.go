package registry

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// blobCache keeps small blobs (configs, small layers, signatures) in memory,
// so serving them costs no file I/O. Blobs are content-addressed and
// immutable, so an entry can never be stale; the repository's link is still
// checked in metadata before every read. Eviction is first in, first out.
type blobCache struct {
	mu      sync.Mutex
	entries map[digest.Digest][]byte
	order   []digest.Digest
	size    int64
	max     int64
	maxBlob int64
}

func newBlobCache(max int64) *blobCache {
	if max <= 0 {
		return nil
	}
	return &blobCache{entries: map[digest.Digest][]byte{}, max: max, maxBlob: min(64<<10, max)}
}

func (c *blobCache) get(d digest.Digest) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	b, ok := c.entries[d]
	c.mu.Unlock()
	return b, ok
}

func (c *blobCache) put(d digest.Digest, b []byte) {
	if c == nil || int64(len(b)) > c.maxBlob {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[d]; ok {
		return
	}
	for c.size+int64(len(b)) > c.max && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		c.size -= int64(len(c.entries[old]))
		delete(c.entries, old)
	}
	c.entries[d] = b
	c.order = append(c.order, d)
	c.size += int64(len(b))
}

func (c *blobCache) drop(d digest.Digest) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.entries[d]; ok {
		c.size -= int64(len(b))
		delete(c.entries, d)
		for i, o := range c.order {
			if o == d {
				c.order = append(c.order[:i], c.order[i+1:]...)
				break
			}
		}
	}
}

// open opens a blob from storage, or from the cache when it is small. A nil
// cache opens every blob from storage.
func (c *blobCache) open(ctx context.Context, storage blob.Opener, d digest.Digest) (blob.ReaderAt, error) {
	if b, ok := c.get(d); ok {
		return bytesReaderAt{bytes.NewReader(b)}, nil
	}
	ra, err := storage.ReaderAt(ctx, d)
	if err != nil || c == nil || ra.Size() > c.maxBlob {
		return ra, err
	}
	b := make([]byte, ra.Size())
	_, err = ra.ReadAt(b, 0)
	ra.Close()
	if err != nil && err != io.EOF {
		return nil, err
	}
	c.put(d, b)
	return bytesReaderAt{bytes.NewReader(b)}, nil
}

// bytesReaderAt is a blob.ReaderAt over a cached blob.
type bytesReaderAt struct{ *bytes.Reader }

// Close does nothing: the bytes stay cached.
func (bytesReaderAt) Close() error { return nil }
