package tokenizer

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// This file holds the byte-pair merge, used for every piece the memo does not hold.
//
// tiktoken's merge (bytePairMerge in tiktoken-go) repeatedly scans all adjacent part
// pairs for the lowest rank, merges the leftmost pair with that rank and deletes an
// element from a slice: O(n²) for an n-byte piece. mergeLong performs the same merges
// in the same order in about linear time:
//
//   - The parts form a doubly linked list over byte offsets. Every part is a token,
//     and each node keeps its token id. Since ids are ranks, merging a pair of rank
//     r makes a part whose id is r.
//   - The rank of a pair therefore depends only on the ids of its two parts. Ranks of
//     two-byte pairs come from a 65,536-entry table; other pairs go through a
//     direct-mapped cache keyed by the two ids (65,536 entries, shared by all
//     calls), then through a table of all pairs of tokens whose concatenation is a
//     token (mergeTables), built at load. A pair longer than the longest token has
//     no rank. Nothing here hashes a byte string or allocates.
//   - Candidate pairs wait in a priority queue keyed by (rank, offset of the left
//     part), packed into one uint64 with the rank in the high half, so the queue
//     order is exactly "lowest rank, then leftmost", tiktoken's choice. Entries are
//     invalidated lazily: a popped entry is used only if its rank still equals the
//     current rank of the pair at that offset. A pair's bytes only grow as merges
//     happen, and distinct byte strings have distinct ranks, so a stale entry can
//     never look current.
//   - The queue (rankQueue) is a two-level bucket queue over ranks, in which a key
//     is appended at most three times, plus a small heap for the rare keys below
//     the current rank.
//
// Against the heap merge this replaced (a 4-ary heap of all candidate pairs and a
// string-keyed map look-up per pair), the cost per byte is 3 to 10 times lower; see
// the package documentation. All working memory comes from a sync.Pool.

// bpeNode is one part of a piece being merged, indexed by its first byte offset.
type bpeNode struct {
	next, prev int32 // neighbouring part offsets; next == n after the last part
	rank       int32 // rank of the pair this part starts, or noRank
	id         int32 // token id of this part
}

const noRank int32 = -1

// mergeTables are the per-vocabulary tables of mergeLong, built at load: the id of
// each byte, the rank of each two-byte string, and every pair of tokens whose
// concatenation is a token (294,166 of them), keyed by the two ids.
type mergeTables struct {
	mem      *mapped         // holds the tables below
	byteID   [256]int32      // id of each single byte
	bytePair *[1 << 16]int32 // rank of each two-byte string, or noRank
	// pairs is an open-addressing table (linear probing) of the pairs: a slot
	// holds (left<<18 | right)<<18 | concatenation+1, or 0 if empty.
	pairs []uint64
	cache []atomic.Uint64 // see pairRank
}

const pairBits = 19 // 524,288 slots, 4 MiB

func pairSlot(key uint64) uint64 { return (key * 0x9e3779b97f4a7c15) >> (64 - pairBits) }

func newMergeTables(x *vocabIndex) (*mergeTables, error) {
	m := &mergeTables{
		mem:      x.mem,
		bytePair: (*[1 << 16]int32)(mapSlice[int32](x.mem, 1<<16, 1<<16, false)),
		pairs:    mapSlice[uint64](x.mem, 1<<pairBits, 1<<pairBits, false),
		cache:    mapSlice[atomic.Uint64](x.mem, 1<<pairCacheBits, 1<<pairCacheBits, true),
	}
	var b [2]byte
	for i := range 256 {
		b[0] = byte(i)
		m.byteID[i] = x.find(string(b[:1]))
		if m.byteID[i] < 0 {
			return nil, fmt.Errorf("byte %#x has no token", i)
		}
		for j := range 256 {
			b[1] = byte(j)
			m.bytePair[i<<8|j] = x.find(string(b[:]))
		}
	}
	// Try every split of every token.
	var prefix [maxTokenLen]uint64 // hashes of the prefixes of s
	for id := range int32(NumOrdinaryTokens) {
		s := x.token(id)
		h := x.hashOf(id) // computed here rather than kept: 1.2 MiB less to allocate at load
		for k := 1; k < len(s); k++ {
			prefix[k] = prefix[k-1]*hashMul + uint64(s[k-1]) + 1
			left := x.lookup(prefix[k], s[:k])
			if left < 0 {
				continue
			}
			right := x.lookup(h-prefix[k]*x.pow[len(s)-k], s[k:])
			if right < 0 {
				continue
			}
			key := uint64(left)<<idBits | uint64(right)
			slot := pairSlot(key)
			for m.pairs[slot] != 0 {
				slot = (slot + 1) & (1<<pairBits - 1)
			}
			m.pairs[slot] = key<<idBits | uint64(id+1)
		}
	}
	return m, nil
}

// pairID returns the token whose bytes are those of token a then token b, or
// noRank.
func (m *mergeTables) pairID(a, b int32) int32 {
	key := uint64(a)<<idBits | uint64(b)
	for slot := pairSlot(key); ; slot = (slot + 1) & (1<<pairBits - 1) {
		v := m.pairs[slot]
		if v == 0 {
			return noRank
		}
		if v>>idBits == key {
			return int32(v&(1<<idBits-1)) - 1
		}
	}
}

// vocabIndex finds ordinary tokens by their bytes, fast enough to try all 1.1
// million splits of the vocabulary's tokens at load (in about 80 ms, against 200
// ms or more with the string-keyed map). Tokens are indexed by a polynomial hash,
// H(s) = Σ (s[i]+1)·P^(len(s)-1-i) mod 2^64, so that the hashes of all prefixes of
// a token come incrementally and the hash of each suffix by difference:
// H(s[k:]) = H(s) - H(s[:k])·P^(len(s)-k). The bytes are compared only when a slot
// holds a token of the same length and hash bits, so a collision can cost time
// but never give a wrong id.
//
// The index is also the vocabulary itself at run time: blob and offs give the
// bytes of each token, and nothing in it is a pointer but blob's, so the garbage
// collector never scans it.
type vocabIndex struct {
	mem *mapped // holds slots, blob and offs, if not nil
	pow [maxTokenLen + 1]uint64
	// slots is an open-addressing table (linear probing). A slot holds, from the
	// top: 19 bits of the hash, the token's length minus one (7 bits), its offset
	// in blob (20 bits) and its id plus one (18 bits); 0 is an empty slot.
	slots []uint64
	blob  string   // the tokens' bytes, in id order
	offs  []uint32 // token id's bytes are blob[offs[id]:offs[id+1]]
}

const (
	hashMul      = 0x9e3779b97f4a7c15 // P, odd
	indexBits    = 18                 // 262,144 slots for 151,643 tokens
	slotTagShift = 45
	slotLenShift = 38
	slotOffShift = 18
	slotOffBits  = 20
)

func indexSlot(h uint64) uint64 { return (h * 0xbf58476d1ce4e5b9) >> (64 - indexBits) }

func newVocabIndex(tokens []string) (*vocabIndex, error) {
	var blob strings.Builder
	offs := make([]uint32, len(tokens)+1)
	for id, s := range tokens {
		if blob.Len()+len(s) > 1<<slotOffBits {
			return nil, fmt.Errorf("token %d does not fit the vocabulary index", id)
		}
		blob.WriteString(s)
		offs[id+1] = uint32(blob.Len())
	}
	return newVocabIndexOf(blob.String(), offs, nil)
}

// newVocabIndexOf indexes the tokens whose bytes are blob[offs[id]:offs[id+1]]. It refuses a
// token that is empty, longer than maxTokenLen or out of the index's reach, and one whose
// bytes an earlier token has. Its tables are mappings of mem, if not nil, which then
// holds blob and offs as well.
func newVocabIndexOf(blob string, offs []uint32, mem *mapped) (*vocabIndex, error) {
	n := len(offs) - 1
	x := &vocabIndex{mem: mem, slots: mapSlice[uint64](mem, 1<<indexBits, 1<<indexBits, false), offs: offs, blob: blob}
	x.pow[0] = 1
	for i := 1; i <= maxTokenLen; i++ {
		x.pow[i] = x.pow[i-1] * hashMul
	}
	for id := range n {
		off := int(offs[id])
		s := blob[off:offs[id+1]]
		if off+len(s) > 1<<slotOffBits || len(s) == 0 || len(s) > maxTokenLen {
			return nil, fmt.Errorf("token %d does not fit the vocabulary index", id)
		}
		var h uint64
		for i := range len(s) {
			h = h*hashMul + uint64(s[i]) + 1
		}
		if x.lookup(h, s) != noRank {
			return nil, fmt.Errorf("token %d repeats an earlier token", id)
		}
		slot := indexSlot(h)
		for x.slots[slot] != 0 {
			slot = (slot + 1) & (1<<indexBits - 1)
		}
		x.slots[slot] = h>>slotTagShift<<slotTagShift | uint64(len(s)-1)<<slotLenShift |
			uint64(off)<<slotOffShift | uint64(id+1)
	}
	return x, nil
}

// hashOf returns H of ordinary token id's bytes, the hash the index files it under.
func (x *vocabIndex) hashOf(id int32) uint64 {
	var h uint64
	for _, c := range []byte(x.token(id)) {
		h = h*hashMul + uint64(c) + 1
	}
	return h
}

// token returns the bytes of ordinary token id. The string may point into a mapping
// of x.mem: it must not outlive x (see mapped.go).
func (x *vocabIndex) token(id int32) string {
	return x.blob[x.offs[id]:x.offs[id+1]]
}

// find returns the id of the ordinary token with bytes s, or noRank.
func (x *vocabIndex) find(s string) int32 {
	if len(s) == 0 || len(s) > maxTokenLen {
		return noRank
	}
	var h uint64
	for i := range len(s) {
		h = h*hashMul + uint64(s[i]) + 1
	}
	return x.lookup(h, s)
}

// lookup returns the id of the token with bytes s and hash h, or noRank. The
// length of s must be 1 to maxTokenLen.
func (x *vocabIndex) lookup(h uint64, s string) int32 {
	want := h>>slotTagShift<<slotTagShift | uint64(len(s)-1)<<slotLenShift
	for slot := indexSlot(h); ; slot = (slot + 1) & (1<<indexBits - 1) {
		v := x.slots[slot]
		if v == 0 {
			return noRank
		}
		if v>>slotLenShift == want>>slotLenShift {
			off := int(v >> slotOffShift & (1<<slotOffBits - 1))
			if x.blob[off:off+len(s)] == s {
				return int32(v&(1<<slotOffShift-1)) - 1
			}
		}
	}
}

// bpeScratch is reusable working memory for mergeLong.
type bpeScratch struct {
	nodes []bpeNode
	q     rankQueue
}

var bpePool = sync.Pool{New: func() any { return new(bpeScratch) }}

// maxPooledScratch is the largest piece whose scratch memory (16 bytes per byte)
// goes back to the pool; longer pieces, which are rare, leave theirs to the
// collector rather than keep megabytes alive.
const maxPooledScratch = 64 << 10

// pairCacheBits sizes the pair cache, 512 KiB, which holds the pairs most used
// lately where pairs, at 4 MiB, does not stay in the processor's caches.
const pairCacheBits = 16

// pairRank returns the rank of the pair of parts with ids a and b, whose bytes
// are length long, or noRank. It looks in the pair cache first: a direct-mapped
// table shared by all calls, whose slots hold, packed so that they are read and
// written atomically, a valid bit, the two ids and the rank plus one.
func (m *mergeTables) pairRank(a, b, length int32) int32 {
	if length > maxTokenLen {
		return noRank
	}
	k := 1<<(2*idBits) | uint64(a)<<idBits | uint64(b)
	slot := &m.cache[(k*0x9e3779b97f4a7c15)>>(64-pairCacheBits)]
	if v := slot.Load(); v>>idBits == k {
		return int32(v&idMask) - 1
	}
	r := m.pairID(a, b)
	slot.Store(k<<idBits | uint64(r+1))
	return r
}

// mergeLong appends the token ids of piece to out, exactly as tiktoken's byte-pair
// merge would produce them. The piece must be shorter than 2 GiB.
func (t *Tokenizer) mergeLong(piece string, out []int) []int {
	if id := t.vocab.find(piece); id >= 0 {
		return append(out, int(id))
	}
	n := int32(len(piece))
	if n == 0 {
		return out
	}
	m := t.merge
	if n == 1 {
		return append(out, int(m.byteID[piece[0]]))
	}
	sc := bpePool.Get().(*bpeScratch)
	if cap(sc.nodes) < int(n) {
		sc.nodes = make([]bpeNode, n)
	}
	nodes := sc.nodes[:n]
	q := &sc.q
	q.reset()
	for i := range n - 1 {
		r := m.bytePair[uint16(piece[i])<<8|uint16(piece[i+1])]
		nodes[i] = bpeNode{next: i + 1, prev: i - 1, rank: r, id: m.byteID[piece[i]]}
		if r != noRank {
			q.push(key(r, i))
		}
	}
	nodes[n-1] = bpeNode{next: n, prev: n - 2, rank: noRank, id: m.byteID[piece[n-1]]}
	for {
		k, ok := q.pop()
		if !ok {
			break
		}
		r, i := int32(k>>32), int32(uint32(k))
		node := &nodes[i]
		if node.rank != r {
			continue // stale
		}
		// Merge part i with the part j after it; the result is token r.
		j := node.next
		nj := nodes[j].next
		node.next = nj
		node.id = r
		node.rank = noRank
		nodes[j].rank = noRank
		// The pair starting at i now spans i .. next[nj]. If the pair starting at nj
		// has rank r too and no key below it waits in low, that pair is merged
		// next, which sets the pair starting at i anyway: a run of equal merges (as
		// in "    ") sets each pair once instead of twice.
		if nj < n {
			next := &nodes[nj]
			next.prev = i
			if next.rank != r || len(q.low) > 0 {
				if r := m.pairRank(r, next.id, next.next-i); r != noRank {
					node.rank = r
					q.push(key(r, i))
				}
			}
		}
		// The pair ending at i now spans prev[i] .. nj.
		if p := node.prev; p >= 0 {
			prev := &nodes[p]
			r := m.pairRank(prev.id, r, nj-p)
			prev.rank = r
			if r != noRank {
				q.push(key(r, p))
			}
		}
	}
	for i := int32(0); i < n; i = nodes[i].next {
		out = append(out, int(nodes[i].id))
	}
	if n <= maxPooledScratch {
		bpePool.Put(sc)
	}
	return out
}

func key(rank, pos int32) uint64 { return uint64(rank)<<32 | uint64(uint32(pos)) }

// rankQueue is a min-priority queue of keys (rank<<32 | offset): a two-level bucket
// queue over ranks for keys of rank above cur, and a 4-ary heap for the others.
//
//   - head holds the keys of rank cur, ascending, taken from the front.
//   - A key of higher rank goes to fine[rank%512] if its rank is in the same block
//     of 512 ranks as cur, and to coarse[rank/512] otherwise; bitmaps mark the
//     non-empty buckets.
//   - low, a 4-ary heap, holds keys of rank at most cur pushed after head was
//     filled.
//
// When head runs out, the next non-empty fine bucket becomes the new head; if there
// is none, the next non-empty coarse bucket is first spread over the fine buckets.
// So a key is appended at most three times (coarse, fine, head) and a bucket holds
// keys in push order, which is nearly always ascending for one rank (it is sorted
// otherwise). pop returns the smaller of head's first key and low's minimum.
//
// Merging a pair of rank r mostly creates pairs of higher rank, so nearly every key
// goes to a bucket; but a merge can create a pair of lower rank (the vocabulary has
// "    " = "   "+" " with rank 257 < 262 = "   "), and such keys go to low.
type rankQueue struct {
	cur       int32
	head      []uint64
	hpos      int
	pending   int // keys in buckets
	fine      [fineBuckets][]uint64
	fineMap   [fineBuckets / 64]uint64
	coarse    [coarseBuckets][]uint64
	coarseMap [(coarseBuckets + 63) / 64]uint64
	low       []uint64
}

const (
	fineBits      = 9
	fineBuckets   = 1 << fineBits
	coarseBuckets = NumOrdinaryTokens>>fineBits + 1
)

func (q *rankQueue) reset() {
	// cur starts at 0; rank 0 is a one-byte token, not a pair, and a key of rank 0
	// would go to low anyway. The buckets are empty: a queue is used until empty.
	q.cur, q.pending = 0, 0
	q.head, q.hpos = q.head[:0], 0
	q.low = q.low[:0]
}

func (q *rankQueue) push(k uint64) {
	r := int32(k >> 32)
	switch {
	case r <= q.cur:
		q.low = push(q.low, k)
		return
	case r>>fineBits == q.cur>>fineBits:
		f := r & (fineBuckets - 1)
		q.fine[f] = append(q.fine[f], k)
		q.fineMap[f>>6] |= 1 << uint(f&63)
	default:
		c := r >> fineBits
		q.coarse[c] = append(q.coarse[c], k)
		q.coarseMap[c>>6] |= 1 << uint(c&63)
	}
	q.pending++
}

// pop removes and returns the smallest key.
func (q *rankQueue) pop() (uint64, bool) {
	if q.hpos == len(q.head) && q.pending > 0 {
		q.refill()
	}
	if len(q.low) > 0 && (q.hpos == len(q.head) || q.low[0] < q.head[q.hpos]) {
		k := q.low[0]
		q.low = popMin(q.low)
		return k, true
	}
	if q.hpos == len(q.head) {
		return 0, false
	}
	q.hpos++
	return q.head[q.hpos-1], true
}

// refill makes the keys of the lowest pending rank the new head.
func (q *rankQueue) refill() {
	block := q.cur >> fineBits
	f := nextBit(q.fineMap[:], int(q.cur&(fineBuckets-1))+1)
	if f < 0 {
		c := nextBit(q.coarseMap[:], int(block)+1)
		q.coarseMap[c>>6] &^= 1 << uint(c&63)
		block = int32(c)
		for _, k := range q.coarse[c] {
			f := int32(k>>32) & (fineBuckets - 1)
			q.fine[f] = append(q.fine[f], k)
			q.fineMap[f>>6] |= 1 << uint(f&63)
		}
		q.coarse[c] = q.coarse[c][:0]
		f = nextBit(q.fineMap[:], 0)
	}
	q.fineMap[f>>6] &^= 1 << uint(f&63)
	// Swap the fine bucket and the spent head, so both keep their memory.
	head := q.fine[f]
	q.fine[f] = q.head[:0]
	if !slices.IsSorted(head) {
		slices.Sort(head)
	}
	q.pending -= len(head)
	q.cur, q.head, q.hpos = block<<fineBits|int32(f), head, 0
}

// nextBit returns the index of the first set bit at or after i in the bitmap m,
// or -1.
func nextBit(m []uint64, i int) int {
	w := i >> 6
	if w >= len(m) {
		return -1
	}
	word := m[w] &^ (1<<uint(i&63) - 1)
	for word == 0 {
		w++
		if w == len(m) {
			return -1
		}
		word = m[w]
	}
	return w<<6 | bits.TrailingZeros64(word)
}

// The low heap is 4-ary: shallower than a binary heap, and the four children of a
// node share a cache line.

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
