package tokenizer

import (
	"hash/maphash"
	"sync"
)

// pieceMemo remembers the ids of pieces merged before, so that a piece seen again
// (a common word, a digit, an indentation run, a CJK phrase) costs one hash and one
// comparison instead of a merge. A piece's ids do not depend on its context, so the
// memo cannot change a result.
//
// It holds no pointers the garbage collector would scan: each of its shards is an
// open-addressing table of uint64 slots (32 bits of the hash, then the offset of
// the entry) over one byte arena of entries (key length, id count, key bytes, ids
// of 3 bytes each). A shard is bounded by memoShardEntries entries and
// memoShardArena bytes and simply cleared when either is reached, so the whole memo
// takes at most memoShards × (memoShardSlots×8 + memoShardArena) bytes: 4 MiB.
type pieceMemo struct {
	mem    *mapped // holds the shards' slots and arenas, if not nil
	seed   maphash.Seed
	shards [memoShards]memoShard
}

const (
	memoShards       = 64
	memoShardSlots   = 2048 // a power of two
	memoShardEntries = memoShardSlots / 2
	memoShardArena   = 48 << 10
	memoMaxKey       = 128 // longer pieces are not remembered
	memoMaxIDs       = 64  // nor pieces of more tokens
	idBits           = 18  // ids are below 1<<18
	idMask           = 1<<idBits - 1
)

type memoShard struct {
	mu    sync.RWMutex
	n     int
	slots []uint64 // allocated on first use
	arena []byte
	_     [8]byte // keep shards on separate cache lines
}

func newPieceMemo() *pieceMemo {
	return newPieceMemoIn(nil)
}

// newPieceMemoIn returns a memo whose shards are mappings of mem, if not nil.
func newPieceMemoIn(mem *mapped) *pieceMemo {
	return &pieceMemo{mem: mem, seed: maphash.MakeSeed()}
}

// find returns the slot of piece in sh (holding it, or empty) and the entry's
// offset in the arena, or -1. The caller holds sh.mu.
func (sh *memoShard) find(piece string, h uint64) (int, int) {
	tag := h >> 32
	for i := int(h>>8) & (memoShardSlots - 1); ; i = (i + 1) & (memoShardSlots - 1) {
		v := sh.slots[i]
		if v == 0 {
			return i, -1
		}
		if v>>32 == tag {
			off := int(uint32(v)) - 1
			if int(sh.arena[off]) == len(piece) && string(sh.arena[off+2:off+2+len(piece)]) == piece {
				return i, off
			}
		}
	}
}

// get appends the remembered ids of piece to out.
func (p *pieceMemo) get(piece string, out []int) ([]int, bool) {
	if len(piece) > memoMaxKey || len(piece) == 0 {
		return out, false
	}
	h := maphash.String(p.seed, piece)
	sh := &p.shards[h%memoShards]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sh.slots == nil {
		return out, false
	}
	_, off := sh.find(piece, h)
	if off < 0 {
		return out, false
	}
	n := int(sh.arena[off+1])
	ids := sh.arena[off+2+len(piece):]
	for k := range n {
		out = append(out, int(ids[3*k])|int(ids[3*k+1])<<8|int(ids[3*k+2])<<16)
	}
	return out, true
}

// put remembers the ids of piece, if it is short and has at most memoMaxIDs ids.
func (p *pieceMemo) put(piece string, ids []int) {
	if len(piece) > memoMaxKey || len(piece) == 0 || len(ids) == 0 || len(ids) > memoMaxIDs {
		return
	}
	for _, id := range ids {
		if id < 0 || id > idMask {
			return
		}
	}
	h := maphash.String(p.seed, piece)
	sh := &p.shards[h%memoShards]
	size := 2 + len(piece) + 3*len(ids)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.slots == nil {
		sh.slots = mapSlice[uint64](p.mem, memoShardSlots, memoShardSlots, true)
		// The arena is cleared below before it would grow past its capacity.
		sh.arena = mapSlice[byte](p.mem, 0, memoShardArena, true)
	}
	if sh.n >= memoShardEntries || len(sh.arena)+size > memoShardArena {
		clear(sh.slots)
		sh.arena, sh.n = sh.arena[:0], 0
	}
	i, off := sh.find(piece, h)
	if off >= 0 {
		return
	}
	off = len(sh.arena)
	sh.arena = append(sh.arena, byte(len(piece)), byte(len(ids)))
	sh.arena = append(sh.arena, piece...)
	for _, id := range ids {
		sh.arena = append(sh.arena, byte(id), byte(id>>8), byte(id>>16))
	}
	sh.slots[i] = h>>32<<32 | uint64(off+1)
	sh.n++
}
