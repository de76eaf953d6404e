package tokenizer

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The tokenizer's tables (the vocabulary's bytes and index, the pair table, the
// backtracking encoder's trie, split and prefix tables, the caches and the piece
// memo, about 19 MiB in all) hold no pointers and live as long as the tokenizer.
// In the Go heap they would cost about twice their size in resident memory, since
// the collector lets the heap grow to twice what is live before it collects. So on
// Linux and macOS they live in anonymous memory mappings outside the heap
// (mapped_unix.go), which the collector neither sees nor counts; elsewhere they are
// ordinary slices.
//
// The rule that keeps this safe: a slice or string into a mapping is valid only
// while the struct holding the mapped is reachable (a vocabIndex, mergeTables,
// backtrackTables or pieceMemo, which all share their Tokenizer's mapped). The
// mappings are unmapped by a cleanup once the mapped is unreachable, and the
// collector does not count a slice into a mapping as a reference to anything. So:
//
//   - no slice or string into a mapping is returned by an exported function or kept
//     in anything that may outlive the tokenizer: TokenBytes, AppendTokenBytes and
//     Decode copy the bytes out;
//   - every exported method of Tokenizer that reads the tables ends with
//     runtime.KeepAlive(t), since the code below it copies table slices into
//     locals and may otherwise outlive its last use of t;
//   - a mapped slice is never appended to beyond its capacity (which would move it
//     silently to the heap): tables that grow do so with growSlice.

// mapped owns the memory mappings of one tokenizer's tables. It is the object the
// cleanup is attached to; the cleanup's argument, regions, does not point back to
// it.
type mapped struct {
	r *regions
}

// mappedBytes is the size of all the mappings of the process's tokenizers.
var mappedBytes atomic.Int64

// regions lists the mappings of a mapped.
type regions struct {
	mu   sync.Mutex
	list []region
}

type region struct {
	mem      []byte
	writable bool // written after load: seal leaves it writable
	sealed   bool
}

// newMapped returns an empty mapped whose mappings are unmapped once it is
// unreachable.
func newMapped() *mapped {
	m := &mapped{r: new(regions)}
	runtime.AddCleanup(m, (*regions).free, m.r)
	return m
}

// free unmaps every region.
func (r *regions) free() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range r.list {
		unmapRegion(g.mem)
		mappedBytes.Add(-int64(len(g.mem)))
	}
	r.list = nil
}

// mapSlice returns a zeroed slice of length n and capacity c of T, which must hold
// no pointers, in a new mapping of m; or an ordinary slice if m is nil, the
// platform has no mappings or the mapping fails. Unless writable, the slice is made
// read-only by seal.
func mapSlice[T any](m *mapped, n, c int, writable bool) []T {
	var zero T
	size := c * int(unsafe.Sizeof(zero))
	if m == nil || !offHeap || size == 0 {
		return make([]T, n, c)
	}
	b, err := mapRegion(size)
	if err != nil {
		return make([]T, n, c)
	}
	m.r.mu.Lock()
	m.r.list = append(m.r.list, region{mem: b, writable: writable})
	m.r.mu.Unlock()
	mappedBytes.Add(int64(size))
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), c)[:n]
}

// release unmaps the mapping that s starts, if s is mapped by m. No slice into it
// may be used afterwards.
func release[T any](m *mapped, s []T) {
	if m == nil || cap(s) == 0 {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(s))
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	for i, g := range m.r.list {
		if unsafe.Pointer(unsafe.SliceData(g.mem)) == p {
			unmapRegion(g.mem)
			mappedBytes.Add(-int64(len(g.mem)))
			m.r.list = slices.Delete(m.r.list, i, i+1)
			return
		}
	}
}

// growSlice returns s with room for c elements, moved to a larger mapping of m (or
// grown in the heap) if its capacity is less.
func growSlice[T any](m *mapped, s []T, c int, writable bool) []T {
	if c <= cap(s) {
		return s
	}
	t := mapSlice[T](m, len(s), c, writable)
	copy(t, s)
	release(m, s)
	return t
}

// seal makes the regions that are not writable read-only: the tables, once built,
// are only read, and a stray write faults instead of corrupting them.
func (m *mapped) seal() {
	if m == nil {
		return
	}
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	for i := range m.r.list {
		g := &m.r.list[i]
		if !g.writable && !g.sealed {
			protectRegion(g.mem)
			g.sealed = true
		}
	}
}

// bytes returns the size of m's mappings.
func (m *mapped) bytes() int {
	if m == nil {
		return 0
	}
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	n := 0
	for _, g := range m.r.list {
		n += len(g.mem)
	}
	return n
}
