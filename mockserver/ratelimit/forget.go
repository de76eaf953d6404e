package ratelimit

// Forget drops the scope key and its window, as if it had never been used: its next request
// starts an empty window, and tickets of the dropped window settle nothing. Callers that
// bound how many scopes they keep use it to drop the least recently used ones.
func (l *Limiter) Forget(key Key) {
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.m, key)
	sh.shrink()
}
