package access

import (
	"container/list"
	"sync"
)

// authEntry is a verified credential: which password of which token (or
// the admin user) matched, and the hash it matched, so a hit is checked
// against the current model (see view.check).
type authEntry struct {
	admin bool
	token string // lower-cased token name
	slot  Slot
	stamp string // the matching password's stored hash
}

// authCache is a bounded LRU of verified credentials, keyed by a salted
// SHA-256 of username and password.
type authCache struct {
	max   int
	mu    sync.Mutex
	items map[[32]byte]*list.Element
	order *list.List // front: most recently used
}

type cacheItem struct {
	key [32]byte
	e   authEntry
}

func newAuthCache(max int) *authCache {
	return &authCache{max: max, items: map[[32]byte]*list.Element{}, order: list.New()}
}

func (c *authCache) get(k [32]byte) (authEntry, bool) {
	if c.max == 0 {
		return authEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return authEntry{}, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheItem).e, true
}

func (c *authCache) put(k [32]byte, e authEntry) {
	if c.max == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		el.Value.(*cacheItem).e = e
		c.order.MoveToFront(el)
		return
	}
	c.items[k] = c.order.PushFront(&cacheItem{key: k, e: e})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheItem).key)
	}
}

func (c *authCache) remove(k [32]byte) {
	if c.max == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.order.Remove(el)
		delete(c.items, k)
	}
}

// len returns how many entries the cache holds.
func (c *authCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
