package schemagen

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/json"
	"sync"
)

// Cache keeps compiled schemas for reuse, bounded in bytes and safe for concurrent use.
// Entries are keyed by the SHA-256 of the schema in compact form, so documents that differ
// only in insignificant whitespace share one entry and the cache never holds a document's
// text. Each entry is charged an estimate of its compiled size (CostOf); the least recently
// used entries are dropped when the total would exceed the bound, and a schema whose cost
// alone exceeds an eighth of the bound is compiled but not kept.
type Cache struct {
	max int

	mu    sync.Mutex // guards everything below
	used  int
	order *list.List // of *cacheEntry, most recently used first
	byKey map[[sha256.Size]byte]*list.Element
}

type cacheEntry struct {
	key    [sha256.Size]byte
	schema *Schema
	cost   int
}

// NewCache returns a cache that holds at most maxBytes of estimated compiled size.
func NewCache(maxBytes int) *Cache {
	return &Cache{max: max(maxBytes, 0), order: list.New(), byKey: map[[sha256.Size]byte]*list.Element{}}
}

// CostOf is the size a cache charges for a schema of compactLen bytes in compact form: a
// compiled schema takes a few times the size of its text, plus a fixed overhead.
func CostOf(compactLen int) int { return 4*compactLen + 1024 }

// Compile returns the compiled schema of data, from the cache when an equal document (up to
// whitespace) was compiled before. Errors are not cached.
func (c *Cache) Compile(data []byte) (*Schema, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		// Not JSON: Compile reports the error in its own words.
		return Compile(data)
	}
	key := sha256.Sum256(compact.Bytes())
	c.mu.Lock()
	if el, ok := c.byKey[key]; ok {
		c.order.MoveToFront(el)
		sch := el.Value.(*cacheEntry).schema
		c.mu.Unlock()
		return sch, nil
	}
	c.mu.Unlock()

	sch, err := Compile(compact.Bytes())
	if err != nil {
		return nil, err
	}
	cost := CostOf(compact.Len())
	if cost > c.max/8 {
		return sch, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[key]; ok {
		return sch, nil // compiled concurrently by another caller
	}
	for c.used+cost > c.max && c.order.Len() > 0 {
		c.removeLocked(c.order.Back())
	}
	c.byKey[key] = c.order.PushFront(&cacheEntry{key: key, schema: sch, cost: cost})
	c.used += cost
	return sch, nil
}

func (c *Cache) removeLocked(el *list.Element) {
	e := c.order.Remove(el).(*cacheEntry)
	delete(c.byKey, e.key)
	c.used -= e.cost
}

// Clear drops every entry.
func (c *Cache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order.Init()
	clear(c.byKey)
	c.used = 0
}

// Stats returns the number of entries and the bytes charged for them.
func (c *Cache) Stats() (entries, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len(), c.used
}

// Valid reports whether the JSON document doc validates against s. It uses the same
// validator as Generate and the same step budget: a document too costly to check is
// reported invalid.
func (s *Schema) Valid(doc []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	if s == nil || s.root == nil {
		return false
	}
	v, err := parseJSON(doc)
	if err != nil {
		return false
	}
	vd := &validator{draft: s.draft, assertFormat: s.draft < draft2019, maxSteps: defaultOptions().maxSteps}
	return vd.valid(s.root, v) && !vd.exhausted
}
