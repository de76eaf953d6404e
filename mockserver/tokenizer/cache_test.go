package tokenizer

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestCountCacheBounded(t *testing.T) {
	t.Parallel()
	c := newCountCache(10_000, 10)
	for i := range 1000 {
		c.put(fmt.Sprintf("text number %04d %s", i, strings.Repeat("x", 100)), i)
	}
	entries, bytes, _, _ := c.stats()
	if bytes > 10_000 || entries == 0 {
		t.Fatalf("cache holds %d entries, %d bytes; want 1..10000 bytes", entries, bytes)
	}
	// The most recent entries survive, the oldest are gone.
	if n, ok := c.get(fmt.Sprintf("text number %04d %s", 999, strings.Repeat("x", 100))); !ok || n != 999 {
		t.Errorf("newest entry: %d, %v", n, ok)
	}
	if _, ok := c.get(fmt.Sprintf("text number %04d %s", 0, strings.Repeat("x", 100))); ok {
		t.Error("oldest entry still cached")
	}
	if _, ok := c.get("short"); ok {
		t.Error("short text cached")
	}
	c.put(strings.Repeat("y", 20_000), 1)
	if _, ok := c.get(strings.Repeat("y", 20_000)); ok {
		t.Error("text larger than the cache was cached")
	}
}

func TestCountCacheHitsAndConcurrency(t *testing.T) {
	t.Parallel()
	tk := Default().withoutCache()
	tk.cache = newCountCache(1<<20, 16)
	text := strings.Repeat("A system prompt that every test sends again. ", 50)
	want := tk.Count(text)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if n := tk.Count(text); n != want {
					t.Errorf("Count = %d, want %d", n, want)
				}
				if n, over := tk.CountLimit(text, want-1); !over || n != want {
					t.Errorf("CountLimit(cached, want-1) = %d, %v", n, over)
				}
			}
		})
	}
	wg.Wait()
	_, _, hits, _ := tk.cache.stats()
	if hits < 700 {
		t.Errorf("%d cache hits, want at least 700", hits)
	}
}
