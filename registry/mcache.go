package registry

import (
	"maps"
	"sync"
	"sync/atomic"
)

// manifestCache remembers recent manifest reads (a repository and a tag or
// digest, to the manifest's descriptor and bytes), so that a hot tag is
// served without a metadata transaction. An entry is valid only while no
// write has committed since it was read: every commit (every meta.Update,
// failed or not) bumps gen after its changes are visible, and a read records
// the gen it saw before its transaction began. A commit that lands during
// the read bumps gen past that, so the entry is never used; one that landed
// before is in what the read saw. This holds as long as every write to the
// metadata store goes through this Registry (see WithManifestCache).
//
// Eviction drops an arbitrary entry; the cache is a fast path for a few hot
// manifests, not a second store.
type manifestCache struct {
	gen atomic.Uint64

	mu      sync.Mutex
	entries map[string]*cachedManifest
	size    int64
	max     int64
}

// cachedManifest is one remembered read.
type cachedManifest struct {
	gen uint64
	m   Manifest
}

// maxCachedManifest is the largest manifest the cache keeps.
const maxCachedManifest = 64 << 10

func newManifestCache(max int64) *manifestCache {
	if max <= 0 {
		return nil
	}
	return &manifestCache{entries: map[string]*cachedManifest{}, max: max}
}

// commitDone invalidates every entry: a commit's changes are now visible.
func (c *manifestCache) commitDone() {
	if c != nil {
		c.gen.Add(1)
	}
}

// begin returns the generation a read about to start must be stored with.
func (c *manifestCache) begin() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

func cacheKey(repo, ref string) string { return repo + "\x00" + ref }

// get returns a copy of the manifest remembered for key, if still valid;
// withBytes false leaves Bytes nil.
func (c *manifestCache) get(key string, withBytes bool) (*Manifest, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok || e.gen != c.gen.Load() {
		return nil, false
	}
	out := &Manifest{Descriptor: e.m.Descriptor}
	out.Descriptor.Annotations = maps.Clone(e.m.Descriptor.Annotations)
	if withBytes {
		out.Bytes = append([]byte(nil), e.m.Bytes...)
	}
	return out, true
}

// put remembers m (which must carry its bytes) for key as read at gen. It
// keeps its own copies, so the caller may hand m on.
func (c *manifestCache) put(key string, gen uint64, m *Manifest) {
	if c == nil || len(m.Bytes) > maxCachedManifest || gen != c.gen.Load() {
		return
	}
	e := &cachedManifest{gen: gen, m: Manifest{Descriptor: m.Descriptor, Bytes: append([]byte(nil), m.Bytes...)}}
	e.m.Descriptor.Annotations = maps.Clone(m.Descriptor.Annotations)
	cost := int64(len(key) + len(e.m.Bytes) + 256)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[key]; ok {
		c.size -= int64(len(key)+len(old.m.Bytes)) + 256
		delete(c.entries, key)
	}
	for k, old := range c.entries {
		if c.size+cost <= c.max {
			break
		}
		c.size -= int64(len(k)+len(old.m.Bytes)) + 256
		delete(c.entries, k)
	}
	if c.size+cost > c.max {
		return
	}
	c.entries[key] = e
	c.size += cost
}
