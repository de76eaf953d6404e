package tokenizer

import "sync"

// This file holds the byte-pair merge used for pieces longer than longPiece bytes.
//
// tiktoken's merge (bytePairMerge in tiktoken-go) repeatedly scans all adjacent part
// pairs for the lowest rank, merges the leftmost pair with that rank and deletes an
// element from a slice: O(n²) for an n-byte piece. mergeLong performs the same merges
// in the same order in O(n log n): the parts form a doubly linked list over byte
// offsets, and a 4-ary min-heap holds candidate pairs keyed by (rank, offset of the
// left part). Keys are packed into one uint64, rank in the high half, so the heap
// order is exactly "lowest rank, then leftmost", tiktoken's choice. Entries are
// invalidated lazily: a popped entry is used only if its rank still equals the
// current rank of the pair at that offset. A pair's bytes only grow as merges
// happen, and distinct byte strings have distinct ranks, so a stale entry can never
// look current.

// bpeNode is one part of a piece being merged, indexed by its first byte offset.
type bpeNode struct {
	next, prev int32 // neighbouring part offsets; next == n after the last part
	rank       int32 // rank of the pair this part starts, or noRank
}

// bpeScratch is reusable working memory for mergeLong.
type bpeScratch struct {
	nodes []bpeNode
	heap  []uint64
}

var bpePool = sync.Pool{New: func() any { return new(bpeScratch) }}

// maxPooledScratch is the largest piece whose scratch memory goes back to the pool.
const maxPooledScratch = 1 << 20

const noRank int32 = -1

// pairRank returns the rank of s[start:end] or noRank.
func (t *Tokenizer) pairRank(s string, start, end int32) int32 {
	if end-start > maxTokenLen {
		return noRank
	}
	if r, ok := t.ranks[s[start:end]]; ok {
		return int32(r)
	}
	return noRank
}

// mergeLong appends the token ids of piece to out, exactly as tiktoken's byte-pair
// merge would produce them. The piece must be shorter than 2 GiB.
func (t *Tokenizer) mergeLong(piece string, out []int) []int {
	if id, ok := t.ranks[piece]; ok {
		return append(out, id)
	}
	n := int32(len(piece))
	if n == 1 {
		return append(out, t.ranks[piece])
	}
	sc := bpePool.Get().(*bpeScratch)
	if cap(sc.nodes) < int(n) {
		sc.nodes = make([]bpeNode, n)
	}
	nodes := sc.nodes[:n]
	h := sc.heap[:0]
	for i := range n {
		r := noRank
		if i+2 <= n {
			r = t.pairRank(piece, i, i+2)
		}
		nodes[i] = bpeNode{next: i + 1, prev: i - 1, rank: r}
		if r != noRank {
			h = append(h, key(r, i))
		}
	}
	heapify(h)
	for len(h) > 0 {
		k := h[0]
		h = popMin(h)
		r, i := int32(k>>32), int32(k&0xffffffff)
		node := &nodes[i]
		if node.rank != r {
			continue // stale
		}
		// Merge part i with the part j after it.
		j := node.next
		nj := nodes[j].next
		node.next = nj
		nodes[j].rank = noRank
		// The pair starting at i now spans i .. next[nj].
		node.rank = noRank
		if nj < n {
			nodes[nj].prev = i
			if r := t.pairRank(piece, i, nodes[nj].next); r != noRank {
				node.rank = r
				h = push(h, key(r, i))
			}
		}
		// The pair ending at i now spans prev[i] .. nj.
		if p := node.prev; p >= 0 {
			r := t.pairRank(piece, p, nj)
			nodes[p].rank = r
			if r != noRank {
				h = push(h, key(r, p))
			}
		}
	}
	for i := int32(0); i < n; i = nodes[i].next {
		out = append(out, t.ranks[piece[i:nodes[i].next]])
	}
	if n <= maxPooledScratch {
		sc.heap = h[:0]
		bpePool.Put(sc)
	}
	return out
}

func key(rank, pos int32) uint64 { return uint64(rank)<<32 | uint64(uint32(pos)) }

// The heap is 4-ary: shallower than a binary heap, and the four children of a node
// share a cache line.

func heapify(h []uint64) {
	if len(h) < 2 {
		return
	}
	for i := (len(h) - 2) / 4; i >= 0; i-- {
		down(h, i)
	}
}

func push(h []uint64, k uint64) []uint64 {
	h = append(h, k)
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 4
		if h[parent] <= k {
			break
		}
		h[i] = h[parent]
		i = parent
	}
	h[i] = k
	return h
}

func popMin(h []uint64) []uint64 {
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	if last > 0 {
		down(h, 0)
	}
	return h
}

func down(h []uint64, i int) {
	n := len(h)
	k := h[i]
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := min(c+4, n)
		for c++; c < end; c++ {
			if h[c] < h[m] {
				m = c
			}
		}
		if k <= h[m] {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = k
}
