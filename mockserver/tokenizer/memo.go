package tokenizer

import (
	"hash/maphash"
	"strings"
	"sync"
)

// pieceMemo remembers the ids tiktoken-go produced for short pieces, so that a
// piece seen before (a common word, a digit, an indentation run) costs one map
// lookup instead of a regexp2 match and a merge inside tiktoken-go. Every id it
// returns was computed by tiktoken-go for exactly that piece, and a piece's ids do
// not depend on its context, so the memo cannot change a result.
//
// Values are packed into a uint64: the number of ids (1 to 3) in the top bits and
// up to three 18-bit ids below, so entries hold no pointers besides their key.
// Pieces of more than three tokens are not remembered. The memo is sharded, each
// shard bounded by memoShardEntries and simply cleared when full.
type pieceMemo struct {
	seed   maphash.Seed
	shards [memoShards]memoShard
}

const (
	memoShards       = 64
	memoShardEntries = 2048 // 131,072 entries, a few MiB, in all
	memoMaxKey       = 32   // longer pieces are not remembered
	idBits           = 18   // ids are below 1<<18
	idMask           = 1<<idBits - 1
)

type memoShard struct {
	mu sync.RWMutex
	m  map[string]uint64
	_  [40]byte // keep shards on separate cache lines
}

func newPieceMemo() *pieceMemo {
	p := &pieceMemo{seed: maphash.MakeSeed()}
	for i := range p.shards {
		p.shards[i].m = make(map[string]uint64)
	}
	return p
}

func (p *pieceMemo) shard(piece string) *memoShard {
	return &p.shards[maphash.String(p.seed, piece)%memoShards]
}

// get appends the remembered ids of piece to out.
func (p *pieceMemo) get(piece string, out []int) ([]int, bool) {
	if len(piece) > memoMaxKey {
		return out, false
	}
	sh := p.shard(piece)
	sh.mu.RLock()
	v, ok := sh.m[piece]
	sh.mu.RUnlock()
	if !ok {
		return out, false
	}
	for k := range int(v >> 62) {
		out = append(out, int(v>>(idBits*k))&idMask)
	}
	return out, true
}

// put remembers the ids of piece, if it is short and has at most three ids.
func (p *pieceMemo) put(piece string, ids []int) {
	if len(piece) > memoMaxKey || len(ids) == 0 || len(ids) > 3 {
		return
	}
	v := uint64(len(ids)) << 62
	for k, id := range ids {
		if id < 0 || id > idMask {
			return
		}
		v |= uint64(id) << (idBits * k)
	}
	sh := p.shard(piece)
	sh.mu.Lock()
	if _, ok := sh.m[piece]; !ok {
		if len(sh.m) >= memoShardEntries {
			sh.m = make(map[string]uint64, memoShardEntries)
		}
		sh.m[strings.Clone(piece)] = v
	}
	sh.mu.Unlock()
}
