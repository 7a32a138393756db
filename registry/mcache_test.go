package registry

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/regkit/regkit/tag"
)

// TestManifestCacheNeverStale reads a tag while it moves, and after every
// change of what a read may return (tag move, untag, manifest delete, read
// lock), checks that the next read sees the change: the manifest cache
// never answers with what was true before a write that has returned.
func TestManifestCacheNeverStale(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(opts ...Option) *Registry) {
		ctx := context.Background()
		reg := newReg()
		repo := repoOf(t, reg, "cache/stale")
		ms := repo.Manifests()
		a := pushImage(t, repo, "hot", 1)
		b := buildImage(t, repo, 1, nil)
		if _, err := ms.Put(ctx, b.bytes, PutOptions{}); err != nil {
			t.Fatal(err)
		}
		get := func() []byte {
			t.Helper()
			m, err := ms.Get(ctx, "hot", GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return m.Bytes
		}
		// Readers hammer the tag while it moves back and forth; after each
		// move returns, a read must see it.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := ms.Get(ctx, "hot", GetOptions{}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		for i := range 200 {
			want := a
			if i%2 == 0 {
				want = b
			}
			if err := repo.Tags().Set(ctx, "hot", want.desc.Digest, SetOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := get(); !bytes.Equal(got, want.bytes) {
				t.Fatalf("move %d: read the manifest the tag pointed to before", i)
			}
		}
		close(stop)
		wg.Wait()

		// A read lock on the manifest the tag names is seen at once.
		get()
		cur, err := ms.Stat(ctx, "hot", GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ms.SetAttributes(ctx, cur.Digest, tag.Patch{ReadEnabled: new(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := ms.Get(ctx, "hot", GetOptions{}); !errors.Is(err, ErrLocked) {
			t.Fatalf("read of a read-locked manifest = %v, want ErrLocked", err)
		}
		if _, err := ms.SetAttributes(ctx, cur.Digest, tag.Patch{ReadEnabled: new(true)}); err != nil {
			t.Fatal(err)
		}
		get()
		// Untag, then delete by digest: both are seen at once.
		if err := repo.Tags().Untag(ctx, "hot"); err != nil {
			t.Fatal(err)
		}
		if _, err := ms.Get(ctx, "hot", GetOptions{}); !errors.Is(err, ErrManifestUnknown) {
			t.Fatalf("read of an untagged tag = %v, want ErrManifestUnknown", err)
		}
		if _, err := ms.Get(ctx, cur.Digest.String(), GetOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := ms.Delete(ctx, cur.Digest); err != nil {
			t.Fatal(err)
		}
		if _, err := ms.Get(ctx, cur.Digest.String(), GetOptions{}); !errors.Is(err, ErrManifestUnknown) {
			t.Fatalf("read of a deleted manifest = %v, want ErrManifestUnknown", err)
		}
	})
}

// TestManifestCacheCopies checks that a cached manifest handed out can be
// changed by its caller without changing what the next read returns.
func TestManifestCacheCopies(t *testing.T) {
	ctx := context.Background()
	reg, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	repo := repoOf(t, reg, "cache/copies")
	img := pushImage(t, repo, "t", 1)
	for range 3 {
		m, err := repo.Manifests().Get(ctx, "t", GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Bytes, img.bytes) {
			t.Fatal("read bytes differ from the pushed ones")
		}
		m.Bytes[0] ^= 0xff
		m.Descriptor.Annotations = map[string]string{"changed": "by the caller"}
	}
	if _, ok := reg.mcache.get(cacheKey("cache/copies", "t"), true); !ok {
		t.Fatal("the manifest read three times is not in the cache")
	}
	m, err := repo.Manifests().Get(ctx, "t", GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Bytes, img.bytes) || m.Descriptor.Annotations["changed"] != "" {
		t.Fatal("a caller's change to a returned manifest reached the cache")
	}
}
