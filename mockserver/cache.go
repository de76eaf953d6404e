package mockserver

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qwenmock/qwenmock/mockserver/ratelimit"
)

// The context cache (spec/api.md §4.1), simulated deterministically on the server's clock,
// so Advance expires entries.
//
// Implicit cache (on by default, WithImplicitCache(false) or --implicit-cache=false turns it
// off): per scope (account and model), a request whose prompt tokens share a prefix with an
// earlier request's within the last five minutes reports cached_tokens = the common prefix
// rounded down to a multiple of 256 (none under 256). Each request's prompt is remembered
// as one hash per 256 tokens.
//
// Explicit cache: "cache_control": {"type": "ephemeral"} on a content block asks to cache
// the prompt up to the end of that block. A request looks back from each marker (the last
// four are used) over up to 20 blocks for a live entry: a hit reports its tokens as
// cached_tokens and renews its five minutes. A marker whose prefix is at least 1,024 tokens
// and not yet cached creates an entry: the tokens beyond the hit are reported as
// cache_creation_input_tokens. A request with markers uses only the explicit cache.
//
// Memory is bounded: each scope keeps at most cacheEntriesPerScope (8) prefixes of each
// kind, the least recently used out first, and the cache at most cacheScopes (64) scopes,
// the least recently used out first. An implicit entry holds 8 bytes per 256 prompt tokens,
// for at most the first 1,048,576 tokens (32 KiB; Qwen3-Max's 258,048-token maximum takes
// 7.9 KiB); an explicit one 40 bytes. The whole cache stays under 64 × 8 × (32 KiB + 40 B)
// ≈ 16 MiB.
const (
	cacheTTL             = 5 * time.Minute
	cacheBlockTokens     = 256  // implicit granularity and minimum
	explicitMinTokens    = 1024 // the least an explicit entry caches
	explicitLookback     = 20   // blocks searched back from a marker
	explicitMaxMarkers   = 4    // markers honoured per request (the last ones)
	cacheEntriesPerScope = 8
	cacheScopes          = 64
	implicitMaxHashes    = 4096 // 1,048,576 tokens
)

// Prices of cached input, as fractions of the input price (spec/api.md §4.1). The implicit
// hit ratio comes from the model's pricing (cache_hit_ratio, 20% for Qwen3-Max).
const (
	explicitHitRatio      = 0.10
	explicitCreationRatio = 1.25
)

// cacheUse is what the cache did for one request.
type cacheUse struct {
	implicit int  // implicit cached tokens
	hit      int  // explicit cached tokens
	created  int  // explicit cache_creation_input_tokens
	explicit bool // the request carried cache_control markers
}

// cachedTokens is what prompt_tokens_details.cached_tokens reports.
func (u cacheUse) cachedTokens() int { return u.implicit + u.hit }

// contextCache holds every scope's remembered prefixes.
type contextCache struct {
	implicit atomic.Bool
	seed     maphash.Seed

	mu     sync.Mutex // guards scopes and tick
	scopes map[ratelimit.Key]*cacheScope
	tick   uint64 // use counter, for least-recently-used order
}

type cacheScope struct {
	used     uint64
	implicit []implicitEntry
	explicit []explicitEntry
}

// implicitEntry is one earlier prompt: hashes[k] covers its first 256·(k+1) tokens.
type implicitEntry struct {
	hashes []uint64
	at     time.Time
	used   uint64
}

// explicitEntry is one cached prefix: its hash, its tokens and when it expires.
type explicitEntry struct {
	hash    uint64
	tokens  int
	expires time.Time
	used    uint64
}

func newContextCache(implicit bool) *contextCache {
	c := &contextCache{seed: maphash.MakeSeed(), scopes: map[ratelimit.Key]*cacheScope{}}
	c.implicit.Store(implicit)
	return c
}

func (c *contextCache) implicitOn() bool    { return c.implicit.Load() }
func (c *contextCache) setImplicit(on bool) { c.implicit.Store(on) }

func (c *contextCache) reset() {
	c.mu.Lock()
	clear(c.scopes)
	c.mu.Unlock()
}

// scope returns the scope of key, making room for it if new. Callers hold c.mu.
func (c *contextCache) scope(key ratelimit.Key) *cacheScope {
	c.tick++
	sc := c.scopes[key]
	if sc == nil {
		if len(c.scopes) >= cacheScopes {
			var oldest ratelimit.Key
			var min uint64 = ^uint64(0)
			for k, s := range c.scopes {
				if s.used < min {
					oldest, min = k, s.used
				}
			}
			delete(c.scopes, oldest)
		}
		sc = &cacheScope{}
		c.scopes[key] = sc
	}
	sc.used = c.tick
	return sc
}

// cacheInput is what the cache needs from a request, whatever its wire shape: the messages
// (with their content blocks and cache_control markers), the tools, and the prompt's
// rendering in pieces (promptBlocks) with its token count.
type cacheInput struct {
	key          ratelimit.Key
	messages     []chatMessage
	tools        []toolDef
	promptTokens int
}

// lookup applies the cache to one admitted request at time now and remembers its prompt.
func (s *Server) cacheLookup(in cacheInput, now time.Time) cacheUse {
	if hasMarks(in.messages) {
		return s.explicitLookup(in, now)
	}
	if !s.cache.implicitOn() || in.promptTokens < cacheBlockTokens {
		return cacheUse{}
	}
	return s.implicitLookup(in, now)
}

func hasMarks(msgs []chatMessage) bool {
	for _, m := range msgs {
		for _, p := range m.Parts {
			if p.Cache {
				return true
			}
		}
	}
	return false
}

// implicitLookup finds the longest common prefix, in whole 256-token blocks, with a prompt of
// the scope seen in the last five minutes, then remembers this prompt.
func (s *Server) implicitLookup(in cacheInput, now time.Time) cacheUse {
	var ids []int
	for _, b := range promptBlocks(in.messages, in.tools) {
		ids = append(ids, s.tok.Encode(b)...)
	}
	c := s.cache
	hashes := make([]uint64, 0, len(ids)/cacheBlockTokens)
	var h maphash.Hash
	h.SetSeed(c.seed)
	var buf [4]byte
	for i, id := range ids {
		binary.LittleEndian.PutUint32(buf[:], uint32(id))
		_, _ = h.Write(buf[:])
		if (i+1)%cacheBlockTokens == 0 && len(hashes) < implicitMaxHashes {
			hashes = append(hashes, h.Sum64()) // chained: each sum covers every earlier token
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sc := c.scope(in.key)
	best, same := 0, -1
	live := sc.implicit[:0]
	for _, e := range sc.implicit {
		if now.Sub(e.at) >= cacheTTL {
			continue
		}
		live = append(live, e)
	}
	sc.implicit = live
	for i, e := range sc.implicit {
		k := 0
		for k < len(e.hashes) && k < len(hashes) && e.hashes[k] == hashes[k] {
			k++
		}
		best = max(best, k)
		if k == len(e.hashes) {
			same = i // this prompt extends (or repeats) the entry: replace it
		}
	}
	entry := implicitEntry{hashes: hashes, at: now, used: c.tick}
	switch {
	case same >= 0:
		sc.implicit[same] = entry
	case len(sc.implicit) < cacheEntriesPerScope:
		sc.implicit = append(sc.implicit, entry)
	default:
		sc.implicit[oldestImplicit(sc.implicit)] = entry
	}
	return cacheUse{implicit: best * cacheBlockTokens}
}

func oldestImplicit(es []implicitEntry) int {
	j := 0
	for i, e := range es {
		if e.used < es[j].used {
			j = i
		}
	}
	return j
}

// cacheBoundary is the end of a content block in the prompt: the prefix text up to it.
type cacheBoundary struct {
	prefix string
	mark   bool
}

// boundaries lists the ends of every content block in prompt order: each message is one
// block unless its content came in parts (Parts, whose text parts make up Content in order).
// The prefix is the prompt's rendering up to that point (the tools first, then each message
// as "<|im_start|>role\n" + content).
func boundaries(msgs []chatMessage, tools []toolDef) []cacheBoundary {
	var sb strings.Builder
	if len(tools) > 0 {
		sb.Write(marshalJSON(tools))
	}
	var out []cacheBoundary
	for _, m := range msgs {
		sb.WriteString("<|im_start|>" + m.Role + "\n")
		start := sb.Len()
		if len(m.Parts) == 0 {
			out = append(out, cacheBoundary{prefix: sb.String()[:start] + m.Content})
		}
		end := 0
		for _, p := range m.Parts {
			if p.Type == "text" {
				end = min(end+len(p.Text), len(m.Content))
			}
			out = append(out, cacheBoundary{prefix: sb.String()[:start] + m.Content[:end], mark: p.Cache})
		}
		sb.WriteString(m.Content)
		for _, tc := range m.ToolCalls {
			sb.WriteString(tc.Name + tc.Arguments)
		}
		sb.WriteString("<|im_end|>\n")
	}
	return out
}

// explicitLookup serves a request that carries cache_control markers.
func (s *Server) explicitLookup(in cacheInput, now time.Time) cacheUse {
	use := cacheUse{explicit: true}
	bs := boundaries(in.messages, in.tools)
	var markIdx []int
	for i, b := range bs {
		if b.mark {
			markIdx = append(markIdx, i)
		}
	}
	if len(markIdx) > explicitMaxMarkers {
		markIdx = markIdx[len(markIdx)-explicitMaxMarkers:]
	}
	hashOf := func(i int) uint64 { return maphash.String(s.cache.seed, bs[i].prefix) }
	c := s.cache
	c.mu.Lock()
	sc := c.scope(in.key)
	live := sc.explicit[:0]
	for _, e := range sc.explicit {
		if now.Before(e.expires) {
			live = append(live, e)
		}
	}
	sc.explicit = live
	find := func(h uint64) *explicitEntry {
		for i := range sc.explicit {
			if sc.explicit[i].hash == h {
				return &sc.explicit[i]
			}
		}
		return nil
	}
	// Hits: from each marker back over up to 20 blocks, the longest live prefix.
	var hitEntry *explicitEntry
	for _, mi := range markIdx {
		for j := mi; j >= 0 && j > mi-explicitLookback; j-- {
			if e := find(hashOf(j)); e != nil {
				if hitEntry == nil || e.tokens > hitEntry.tokens {
					hitEntry = e
				}
				break
			}
		}
	}
	if hitEntry != nil {
		c.tick++
		hitEntry.expires, hitEntry.used = now.Add(cacheTTL), c.tick
		use.hit = hitEntry.tokens
	}
	c.mu.Unlock()

	// Creation: each marker whose prefix is long enough and not cached yet.
	covered := use.hit
	for _, mi := range markIdx {
		h := hashOf(mi)
		c.mu.Lock()
		exists := find(h) != nil
		c.mu.Unlock()
		if exists {
			continue
		}
		n := s.tok.Count(bs[mi].prefix)
		if n < explicitMinTokens {
			continue
		}
		c.mu.Lock()
		c.tick++
		e := explicitEntry{hash: h, tokens: n, expires: now.Add(cacheTTL), used: c.tick}
		if len(sc.explicit) < cacheEntriesPerScope {
			sc.explicit = append(sc.explicit, e)
		} else {
			j := 0
			for i := range sc.explicit {
				if sc.explicit[i].used < sc.explicit[j].used {
					j = i
				}
			}
			sc.explicit[j] = e
		}
		c.mu.Unlock()
		if n > covered {
			use.created += n - covered
			covered = n
		}
	}
	use.created = min(use.created, max(0, in.promptTokens-use.hit))
	return use
}

// cacheMarked reports whether a part's cache_control asks for the explicit cache.
func cacheMarked(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return false
	}
	var cc struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(raw, &cc) == nil && cc.Type == "ephemeral"
}

// WithImplicitCache turns the simulated implicit context cache on (the default) or off.
func WithImplicitCache(on bool) Option {
	return func(c *config) error {
		c.implicitCache = on
		return nil
	}
}
