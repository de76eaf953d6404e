package tokenizer

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
)

const (
	// defaultCacheBytes bounds the text held by the count cache of Default.
	defaultCacheBytes = 32 << 20
	// cacheMinLen is the shortest text whose count is cached; shorter texts count in
	// microseconds anyway.
	cacheMinLen = 256
	// cacheEntryOverhead is charged per entry on top of the text length.
	cacheEntryOverhead = 96
)

// countCache is a bounded, concurrency-safe LRU cache from a text to its exact
// token count. The key is a maphash of the text, computed outside the lock; an entry
// keeps a private copy of its text and counts as a hit only if the text is equal, so
// a hash collision is a miss, never a wrong count.
type countCache struct {
	seed     maphash.Seed
	minLen   int
	maxBytes int

	mu      sync.Mutex
	entries map[uint64]*cacheEntry
	head    cacheEntry // sentinel of the LRU list; head.next is the most recent
	bytes   int

	hits, misses atomic.Uint64
}

type cacheEntry struct {
	hash       uint64
	text       string
	count      int
	prev, next *cacheEntry
}

func newCountCache(maxBytes, minLen int) *countCache {
	c := &countCache{
		seed:     maphash.MakeSeed(),
		minLen:   minLen,
		maxBytes: maxBytes,
		entries:  make(map[uint64]*cacheEntry),
	}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

// cacheable reports whether text is long enough to be cached, and short enough to fit.
func (c *countCache) cacheable(text string) bool {
	return c != nil && len(text) >= c.minLen && len(text)+cacheEntryOverhead <= c.maxBytes
}

// get returns the cached count of text.
func (c *countCache) get(text string) (int, bool) {
	if !c.cacheable(text) {
		return 0, false
	}
	h := maphash.String(c.seed, text)
	c.mu.Lock()
	e := c.entries[h]
	if e != nil {
		c.unlink(e)
		c.pushFront(e)
	}
	c.mu.Unlock()
	// e.text and e.count never change, so the comparison can run unlocked.
	if e != nil && e.text == text {
		c.hits.Add(1)
		return e.count, true
	}
	c.misses.Add(1)
	return 0, false
}

// put records the exact count of text.
func (c *countCache) put(text string, count int) {
	if !c.cacheable(text) {
		return
	}
	h := maphash.String(c.seed, text)
	e := &cacheEntry{hash: h, text: strings.Clone(text), count: count}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[h]; old != nil {
		c.remove(old)
	}
	c.entries[h] = e
	c.pushFront(e)
	c.bytes += len(e.text) + cacheEntryOverhead
	for c.bytes > c.maxBytes {
		c.remove(c.head.prev)
	}
}

// stats returns the number of entries, the bytes charged, hits and misses.
func (c *countCache) stats() (entries, bytes int, hits, misses uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.bytes, c.hits.Load(), c.misses.Load()
}

func (c *countCache) remove(e *cacheEntry) {
	c.unlink(e)
	delete(c.entries, e.hash)
	c.bytes -= len(e.text) + cacheEntryOverhead
}

func (c *countCache) unlink(e *cacheEntry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}

func (c *countCache) pushFront(e *cacheEntry) {
	e.prev = &c.head
	e.next = c.head.next
	c.head.next.prev = e
	c.head.next = e
}
