package tokenizer

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// This file holds the backtracking encoder, which gives the same ids as the
// byte-pair merge of bpe.go (and so as tiktoken's) without performing the merges.
// It is the algorithm of GitHub's bpe crate (github.com/github/rust-gems,
// crates/bpe), written anew over this package's tables.
//
// It rests on one property of byte-pair encoding with ranked merges: the encoding
// of a text is the only sequence of tokens that spells it in which every token is
// the encoding of its own bytes and every two adjacent tokens are a valid pair: a
// pair whose concatenated bytes encode to those two tokens again. So the encoder
// searches for that sequence directly, left to right:
//
//   - At the current offset it takes the longest token the text starts with there
//     (a walk down a trie of the vocabulary), then ever shorter prefixes of that
//     token (nextPrefix), until one makes a valid pair with the token before it and
//     does not end at an offset known to be a dead end.
//   - If none does, the current offset is a dead end: no encoding of the text has a
//     token boundary there, since the tokens before it are the encoding of the text
//     before it, which is unique. It is marked in a bitmap, the last token is taken
//     back, and the search goes on with its next shorter prefix.
//
// Every offset is marked dead at most once, so the encoder takes at most twice as
// many steps as there are bytes, each a trie walk of at most maxTokenLen bytes and
// at most maxTokenLen validity tests. On words it hardly ever backtracks (3 to 30
// times per 100 tokens); in runs of whitespace or punctuation, where the longest
// match is often wrong, it takes 2 to 6 tokens back per token, and firstValid's
// cache answers most of the tests.
//
// validPair decides whether two tokens a, b are a valid pair without encoding
// their bytes: it undoes the merges that made a, from its right end, and those
// that made b, from its left end, in the reverse of the order the merge performed
// them, and checks at each step that no pair of parts across the junction would
// have merged first (a lower rank, or the same rank further left). The merges are
// undone with split: the two tokens whose merge made each token.
//
// The tables are built at load and hold no pointers: the double-array trie, split,
// runs, the pair filter and the cache are arrays of uint64, nextPrefix of int32,
// tokLen of bytes.

// backtrackTables are the tables of the backtracking encoder.
type backtrackTables struct {
	mem *mapped // holds the tables below
	// trie is a double-array trie of the vocabulary: node s's child for byte c is
	// node base(s)+c if that slot's parent field is s+1. A slot holds, from the
	// bottom: parent+1 (trieIndexBits; 0 for a free slot), base (trieIndexBits),
	// and the id+1 of the token the node spells, or 0 (the remaining bits).
	trie []uint64
	// split holds, for each token, the two tokens whose merge makes it, left then
	// right (a single byte holds itself twice), and its length: left in the low
	// idBits, right in the next idBits, the length above.
	split []uint64
	// nextPrefix holds, for each token, its longest proper prefix that is a
	// token, or -1.
	nextPrefix []int32
	// tokLen holds the length of each token.
	tokLen []uint8
	// runs holds, for each byte c and each k from 1 while c repeated k times
	// is a path in the trie, at runs[runOff[c]+k-1], that path's node and
	// (above trieIndexBits) the id+1 of the longest token on it: long runs of
	// one byte (whitespace, rules of dashes) are walked in one step.
	runs   []uint64
	runOff [257]int32
	// pairFilter is a blocked Bloom filter of the pairs of tokens whose
	// concatenation is a token: most pairs validPair asks about are not, and
	// the filter (1 MiB) answers that from the processor's cache.
	pairFilter []uint64
	// valid caches firstValid's answers (see there).
	valid []atomic.Uint64
}

const (
	pairFilterBits = 17 // 131,072 words of 64 bits
	validCacheBits = 17
)

// filterMask returns the word and the two bits of the pair filter for a, b.
func filterMask(a, b int32) (uint64, uint64) {
	h := (uint64(a)<<idBits | uint64(b)) * 0x9e3779b97f4a7c15
	return h >> (64 - pairFilterBits), 1<<(h>>20&63) | 1<<(h>>26&63)
}

// mayPair reports whether a then b may make a token; if not, they do not.
func (b *backtrackTables) mayPair(x, y int32) bool {
	w, mask := filterMask(x, y)
	return b.pairFilter[w]&mask == mask
}

const (
	trieIndexBits = 21
	trieIndexMask = 1<<trieIndexBits - 1
	trieTokShift  = 2 * trieIndexBits
)

func trieParent(v uint64) int32 { return int32(v&trieIndexMask) - 1 }
func trieBase(v uint64) int32   { return int32(v >> trieIndexBits & trieIndexMask) }
func trieTok(v uint64) int32    { return int32(v>>trieTokShift) - 1 }

// newBacktrackTables builds the tables from the vocabulary and the pair table.
func newBacktrackTables(x *vocabIndex, m *mergeTables) (*backtrackTables, error) {
	mem := x.mem
	b := &backtrackTables{
		mem:        mem,
		split:      mapSlice[uint64](mem, NumOrdinaryTokens, NumOrdinaryTokens, false),
		nextPrefix: mapSlice[int32](mem, NumOrdinaryTokens, NumOrdinaryTokens, false),
		tokLen:     mapSlice[uint8](mem, NumOrdinaryTokens, NumOrdinaryTokens, false),
	}
	for id := range int32(NumOrdinaryTokens) {
		l := len(x.token(id))
		if l > math.MaxUint8 {
			return nil, fmt.Errorf("token %d is too long", id)
		}
		b.tokLen[id] = uint8(l)
	}
	b.pairFilter = mapSlice[uint64](mem, 1<<pairFilterBits, 1<<pairFilterBits, false)
	b.valid = mapSlice[atomic.Uint64](mem, 1<<validCacheBits, 1<<validCacheBits, true)
	for _, v := range m.pairs {
		if v != 0 {
			key := v >> idBits
			w, mask := filterMask(int32(key>>idBits), int32(key&idMask))
			b.pairFilter[w] |= mask
		}
	}
	if err := b.buildTrie(x); err != nil {
		return nil, err
	}
	b.buildRuns()
	for id := range int32(NumOrdinaryTokens) {
		b.nextPrefix[id] = b.longestPrefix(x.token(id), len(x.token(id))-1)
	}
	// Find the merge that makes each token, in rank order, as the bpe crate does:
	// the split (left, right) of token id into two tokens of lower rank that form
	// a valid pair, as the merge of id's bytes leaves them before its last merge.
	// Only the pairs of lower rank than id matter: validPairBelow is given limit
	// id.
	for id := range int32(NumOrdinaryTokens) {
		s := x.token(id)
		b.split[id] = splitEntry(id, id, len(s))
		if len(s) == 1 {
			continue
		}
		found := false
		for left := b.nextPrefix[id]; left >= 0; left = b.nextPrefix[left] {
			right := x.find(s[b.tokLen[left]:])
			if right < 0 || left >= id || right >= id {
				continue
			}
			if b.validPairBelow(m, left, right, id) {
				b.split[id] = splitEntry(left, right, len(s))
				found = true
				break
			}
		}
		if !found {
			// A token its own merge never makes: the encoder would treat it as a
			// byte. Qwen's vocabulary has none.
			return nil, fmt.Errorf("token %d (%q) is not made by any merge", id, s)
		}
	}
	return b, nil
}

// buildTrie places the vocabulary's tokens in the double-array trie.
func (b *backtrackTables) buildTrie(x *vocabIndex) error {
	ids := make([]int32, NumOrdinaryTokens)
	for i := range ids {
		ids[i] = int32(i)
	}
	slices.SortFunc(ids, func(p, q int32) int { return strings.Compare(x.token(p), x.token(q)) })
	// Qwen's trie takes 2.2 slots per token: room for 2.25 is rarely exceeded, and then
	// grows.
	b.trie = mapSlice[uint64](b.mem, 1, len(ids)*9/4, false)
	var used []uint64 // bitmap of occupied slots
	isUsed := func(i int) bool { return i>>6 < len(used) && used[i>>6]>>(i&63)&1 != 0 }
	setUsed := func(i int) {
		for i>>6 >= len(used) {
			used = append(used, 0)
		}
		used[i>>6] |= 1 << (i & 63)
	}
	// nextFree returns the first free slot at or after f.
	nextFree := func(f int) int {
		for {
			w := f >> 6
			if w >= len(used) {
				return f
			}
			if word := ^used[w] &^ (1<<(f&63) - 1); word != 0 {
				return w<<6 | bits.TrailingZeros64(word)
			}
			f = (w + 1) << 6
		}
	}
	setUsed(0)
	firstFree := 1
	var labels []byte
	var starts []int // for each label, the first of ids[lo:hi] with that byte
	// The nodes near the root, which every walk visits, are placed breadth
	// first, so that they share few cache lines; the nodes deeper than bfsDepth
	// depth first, so that the path of a long token takes few cache lines. A
	// queued node s spells the common prefix (depth bytes) of the tokens
	// ids[lo:hi].
	const bfsDepth = 2
	type queued struct{ s, depth, lo, hi int32 }
	queue := make([]queued, 1, 1<<16)
	queue[0] = queued{0, 0, 0, int32(len(ids))}
	var stack []queued
	for next := 0; next < len(queue) || len(stack) > 0; {
		var q queued
		if len(stack) > 0 {
			q, stack = stack[len(stack)-1], stack[:len(stack)-1]
		} else {
			q = queue[next]
			next++
		}
		s, depth, lo, hi := int(q.s), int(q.depth), int(q.lo), int(q.hi)
		if len(x.token(ids[lo])) == depth {
			b.trie[s] |= uint64(ids[lo]+1) << trieTokShift
			lo++
		}
		if lo == hi {
			continue
		}
		labels, starts = labels[:0], starts[:0]
		for i := lo; i < hi; i++ {
			c := x.token(ids[i])[depth]
			if len(labels) == 0 || labels[len(labels)-1] != c {
				labels = append(labels, c)
				starts = append(starts, i)
			}
		}
		starts = append(starts, hi)
		// The lowest base at which every child's slot is free.
		base := 0
		for f := nextFree(max(firstFree, 1+int(labels[0]))); ; f = nextFree(f + 1) {
			base = f - int(labels[0])
			ok := true
			for _, c := range labels[1:] {
				if isUsed(base + int(c)) {
					ok = false
					break
				}
			}
			if ok {
				break
			}
		}
		top := base + int(labels[len(labels)-1])
		if top > trieIndexMask-1 {
			return fmt.Errorf("the vocabulary's trie has more than %d slots", trieIndexMask)
		}
		if top >= len(b.trie) {
			if top >= cap(b.trie) {
				b.trie = growSlice(b.mem, b.trie, max(top+1, 2*cap(b.trie)), false)
			}
			n := len(b.trie)
			b.trie = b.trie[:top+1]
			clear(b.trie[n:])
		}
		b.trie[s] |= uint64(base) << trieIndexBits
		for _, c := range labels {
			setUsed(base + int(c))
			b.trie[base+int(c)] = uint64(s + 1)
		}
		firstFree = nextFree(firstFree)
		for i := len(labels) - 1; i >= 0; i-- {
			kid := queued{int32(base + int(labels[i])), int32(depth + 1), int32(starts[i]), int32(starts[i+1])}
			if depth < bfsDepth {
				queue = append(queue, kid)
			} else {
				stack = append(stack, kid)
			}
		}
	}
	if cap(b.trie)-len(b.trie) > len(b.trie)/16 {
		// Drop the spare capacity of a grown trie.
		t := mapSlice[uint64](b.mem, len(b.trie), len(b.trie), false)
		copy(t, b.trie)
		release(b.mem, b.trie)
		b.trie = t
	}
	return nil
}

// longestPrefix returns the longest token that is a prefix of s[:max], or -1.
func (b *backtrackTables) longestPrefix(s string, max int) int32 {
	trie := b.trie
	node, tok := int32(0), int32(-1)
	cur := trie[0]
	i := 0
	if max >= 2 && s[0] == s[1] {
		// A run of one byte: skip down its path in the trie at once.
		c := s[0]
		off, depth := b.runOff[c], int(b.runOff[int(c)+1]-b.runOff[c])
		k := 2
		lim := min(max, depth)
		for pat := uint64(c) * 0x0101010101010101; k+8 <= lim; k += 8 {
			if x := load64(s[k:k+8]) ^ pat; x != 0 {
				k += bits.TrailingZeros64(x) >> 3
				goto counted
			}
		}
		for ; k < lim && s[k] == c; k++ {
		}
	counted:
		if k > depth {
			k = depth
		}
		v := b.runs[int(off)+k-1]
		node, tok = int32(v&trieIndexMask), int32(v>>trieIndexBits)-1
		if k == depth && k < max && s[k] == c {
			return tok
		}
		cur, i = trie[node], k
	}
	for ; i < max; i++ {
		next := trieBase(cur) + int32(s[i])
		if int(next) >= len(trie) {
			break
		}
		v := trie[next]
		if trieParent(v) != node {
			break
		}
		node, cur = next, v
		if t := trieTok(v); t >= 0 {
			tok = t
		}
	}
	return tok
}

// buildRuns fills runs and runOff from the trie.
func (b *backtrackTables) buildRuns() {
	b.runs = b.runs[:0]
	for c := range 256 {
		b.runOff[c] = int32(len(b.runs))
		node, tok := int32(0), int32(-1)
		for {
			next := trieBase(b.trie[node]) + int32(c)
			if int(next) >= len(b.trie) || trieParent(b.trie[next]) != node {
				break
			}
			node = next
			if t := trieTok(b.trie[next]); t >= 0 {
				tok = t
			}
			b.runs = append(b.runs, uint64(tok+1)<<trieIndexBits|uint64(node))
		}
	}
	b.runOff[256] = int32(len(b.runs))
}

// validPair reports whether tokens a then c are a valid pair: whether the merge of
// their concatenated bytes gives a and c.
func (b *backtrackTables) validPair(m *mergeTables, a, c int32) bool {
	return b.validPairBelow(m, a, c, math.MaxInt32)
}

// firstValid returns the longest of token c and its prefixes (c, nextPrefix[c],
// ...) that makes a valid pair after token a, or -1. The answers are cached in a
// direct-mapped table shared by all calls, whose slots hold, packed so that they
// are read and written atomically, a valid bit, a, c and the answer plus one: a
// run of one character (or any periodic text) asks the same questions again and
// again, each of which may try dozens of prefixes.
func (b *backtrackTables) firstValid(m *mergeTables, a, c int32) int32 {
	k := 1<<(2*idBits) | uint64(a)<<idBits | uint64(c)
	slot := &b.valid[(k*0x9e3779b97f4a7c15)>>(64-validCacheBits)]
	if v := slot.Load(); v>>idBits == k {
		return int32(v&idMask) - 1
	}
	// Walk down the prefixes. The answer for a prefix, if cached (the prefixes
	// of a run's tokens are tokens asked about themselves), ends the walk.
	r := c
	for r >= 0 && !b.validPair(m, a, r) {
		r = b.nextPrefix[r]
		if r < 0 {
			break
		}
		k := 1<<(2*idBits) | uint64(a)<<idBits | uint64(r)
		if v := b.valid[(k*0x9e3779b97f4a7c15)>>(64-validCacheBits)].Load(); v>>idBits == k {
			r = int32(v&idMask) - 1
			break
		}
	}
	slot.Store(k<<idBits | uint64(r+1))
	return r
}

// validPairBelow is validPair with merges of rank limit or above ignored.
func (b *backtrackTables) validPairBelow(m *mergeTables, a, c, limit int32) bool {
	split := b.split
	sa, sc := split[a], split[c]
	for {
		if n := splitLen(sa) + splitLen(sc); n <= maxTokenLen && b.mayPair(a, c) {
			if r := m.pairRank(a, c, int32(n)); r >= 0 && r < limit {
				return false
			}
		}
		// Undo the later of the two merges that made a's right end and c's left
		// end.
		if a > c {
			limit = a
			a = splitRight(sa)
			if a == limit {
				limit = c + 1
				c = splitLeft(sc)
				if c+1 == limit {
					return true
				}
				sc = split[c]
			} else {
				sa = split[a]
			}
		} else {
			limit = c + 1
			c = splitLeft(sc)
			if c+1 == limit {
				limit = a
				a = splitRight(sa)
				if a == limit {
					return true
				}
				sa = split[a]
			} else {
				sc = split[c]
			}
		}
	}
}

func splitEntry(left, right int32, n int) uint64 {
	return uint64(left) | uint64(right)<<idBits | uint64(n)<<(2*idBits)
}
func splitLeft(v uint64) int32  { return int32(v & idMask) }
func splitRight(v uint64) int32 { return int32(v >> idBits & idMask) }
func splitLen(v uint64) int     { return int(v >> (2 * idBits)) }

// btScratch is reusable working memory for backtrack: a bit and at most 4 bytes
// (a token) per byte of the piece, so at most 4.2 MiB for the longest piece
// encoded whole (exactPiece); the scratch of pieces longer than maxPooledScratch
// is left to the collector.
type btScratch struct {
	dead  []uint64 // offsets known to be dead ends
	stack []int32  // the tokens so far
}

var btPool = sync.Pool{New: func() any { return new(btScratch) }}

// backtrack appends the token ids of piece to out, the same as mergeLong.
func (t *Tokenizer) backtrack(piece string, out []int) []int {
	n := len(piece)
	if n == 0 {
		return out
	}
	b, m := t.bt, t.merge
	sc := btPool.Get().(*btScratch)
	words := n/64 + 1
	if cap(sc.dead) < words {
		sc.dead = make([]uint64, words)
	}
	dead := sc.dead[:words]
	clear(dead)
	stack := sc.stack[:0]
	tokLen, nextPrefix := b.tokLen, b.nextPrefix
	pos := 0
	next := b.longestPrefix(piece[pos:], min(n-pos, maxTokenLen))
	for pos < n {
		tok := next
		last := int32(-1)
		if len(stack) > 0 {
			last = stack[len(stack)-1]
		}
		pushed := false
		for tok >= 0 {
			if last >= 0 {
				if tok = b.firstValid(m, last, tok); tok < 0 {
					break
				}
			}
			end := pos + int(tokLen[tok])
			if dead[end>>6]>>(end&63)&1 == 0 {
				stack = append(stack, tok)
				pos = end
				if pos < n {
					next = b.longestPrefix(piece[pos:], min(n-pos, maxTokenLen))
				}
				pushed = true
				break
			}
			tok = nextPrefix[tok]
		}
		if pushed {
			continue
		}
		// Offset pos is a dead end: take the last token back.
		if last < 0 {
			// Unreachable if the vocabulary is one of merges, as load checks;
			// the merge gives the answer anyway.
			return t.mergeLong(piece, out)
		}
		dead[pos>>6] |= 1 << (pos & 63)
		stack = stack[:len(stack)-1]
		pos -= int(tokLen[last])
		next = last
	}
	for _, id := range stack {
		out = append(out, int(id))
	}
	if n <= maxPooledScratch {
		sc.stack = stack
		btPool.Put(sc)
	}
	return out
}

// encodePiece appends the token ids of piece to out. The backtracking encoder is
// as fast as the merge or faster on pieces of every length and kind (2 to 4 times
// on pieces of 4 to 64 bytes, up to 100 times on runs); mergeLong stays as its
// reference.
func (t *Tokenizer) encodePiece(piece string, out []int) []int {
	if t.mergeOnly {
		return t.mergeLong(piece, out)
	}
	return t.backtrack(piece, out)
}
