package ratelimit

import (
	"hash/maphash"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// Key names a scope: the limits apply per account and model.
type Key struct{ Account, Model string }

// Limits are the per-minute limits of one scope. Zero or negative means unlimited.
type Limits struct {
	RPM int // requests per minute
	TPM int // tokens per minute, input plus output
}

// Kind says which limit refused a request.
type Kind uint8

// The kinds of refusal. The per-second rule refuses with Requests or Tokens too, as the
// real service answers with the same codes; Denial.Window tells the two apart.
const (
	Requests Kind = iota + 1 // Throttling.RateQuota: requests per minute (or per second)
	Tokens                   // Throttling.AllocationQuota: tokens per minute (or per second)
	Burst                    // Throttling.BurstRate: the BurstRule
)

// String returns "requests", "tokens" or "burst".
func (k Kind) String() string {
	switch k {
	case Requests:
		return "requests"
	case Tokens:
		return "tokens"
	case Burst:
		return "burst"
	}
	return "unknown"
}

// Never is the RetryAfter of a request that can never be admitted: its estimate alone
// exceeds the TPM.
const Never time.Duration = -1

// Denial describes a refused request.
type Denial struct {
	// Kind is the first rule that refused, in the order: requests per minute, requests
	// per second, tokens per minute, tokens per second, burst.
	Kind Kind
	// Window is the span of the rule that refused: time.Minute, or time.Second for the
	// per-second and burst rules.
	Window time.Duration
	// Limit is the bound that was exceeded: RPM, ⌈RPM/60⌉, TPM, ⌈TPM/60⌉, or for Burst
	// the number of requests the rule allowed in the last second.
	Limit int
	// RetryAfter is the exact time, in whole milliseconds, from the call's instant (its
	// now, or the Limiter's latest time if that is later) until the same request would be
	// admitted if nothing else arrived and no ticket were settled. It accounts for every
	// enabled rule, not only Kind. It is Never when the request can never be admitted
	// (estimate > TPM), whatever the Kind.
	RetryAfter time.Duration
}

// Ticket identifies an admitted request, for Settle. The zero Ticket (returned with a
// Denial) is valid and settles nothing. Copies of a Ticket share one settlement record.
// A Ticket issued by a Redis backend names its reservation there instead.
type Ticket struct {
	p *ticket
	r *reservation
}

// ticket is the settlement record of one admitted request; its tok field is guarded by
// the mutex of the shard that holds s.
type ticket struct {
	s   *scope
	ms  int64 // instant of the entry, milliseconds since the Unix epoch
	tok int64 // tokens this request currently contributes to the entry
}

// Key returns the scope of the request, or the zero Key for the zero Ticket.
func (t Ticket) Key() Key {
	switch {
	case t.p != nil:
		return t.p.s.key
	case t.r != nil:
		return t.r.key
	}
	return Key{}
}

// Time returns the instant at which the request was recorded: its millisecond, or the
// Limiter's latest time if that was later. It is the zero Time for the zero Ticket.
func (t Ticket) Time() time.Time {
	switch {
	case t.p != nil:
		return time.UnixMilli(t.p.ms)
	case t.r != nil:
		return time.UnixMilli(t.r.ms)
	}
	return time.Time{}
}

const (
	shardBits  = 6
	shardCount = 1 << shardBits
	sweepSlack = 64 // a shard sweeps after len(m)/2 + sweepSlack admissions
)

// hashSeed is shared by every Limiter; it only spreads keys over shards.
var hashSeed = maphash.MakeSeed()

// shard is one lock domain of a Limiter.
type shard struct {
	mu   sync.Mutex               // guards m, ops, peak, and the scopes in m with their tickets
	m    map[Key]*scope           // scopes of this shard; nil until first use
	ops  int                      // admissions since the last sweep
	peak int                      // most scopes m has held since it was last rebuilt
	_    [64 - 8 - 8 - 8 - 8]byte // keep shards on separate cache lines
}

// Limiter enforces the limits of many scopes. The zero Limiter is ready to use, with the
// per-second and burst rules off. A Limiter must not be copied after first use.
type Limiter struct {
	// PerSecond turns on the per-second rule: at most ⌈RPM/60⌉ requests and ⌈TPM/60⌉ tokens
	// in any span (t−1s, t], where a request alone in its second skips the token check.
	PerSecond bool
	// Burst, when not nil, turns on the burst rule it describes.
	Burst *BurstRule

	clock  atomic.Uint64 // latest instant seen, ms, as encoded by observe
	_      [56]byte
	shards [shardCount]shard
}

// observe records the instant ms and returns the latest instant seen, the later of ms and
// any earlier call's. Callers hold a shard lock, so that an operation that locks the shard
// afterwards sees an instant at least as late. The instant is stored with its sign bit
// flipped, which keeps the order and makes the zero value earlier than any time.
func (l *Limiter) observe(ms int64) int64 {
	const flip = 1 << 63
	k := uint64(ms) ^ flip
	for {
		cur := l.clock.Load()
		if k <= cur {
			return int64(cur ^ flip)
		}
		if l.clock.CompareAndSwap(cur, k) {
			return ms
		}
	}
}

func (l *Limiter) shard(k Key) *shard {
	h := maphash.String(hashSeed, k.Account) ^ maphash.String(hashSeed, k.Model)*0x9e3779b97f4a7c15
	return &l.shards[h>>(64-shardBits)]
}

// Admit decides whether a request of scope key, expected to use estimate tokens (input
// plus the most output it may produce), may run at time now under limits. If admitted it
// is recorded at now with estimate tokens and Admit returns its Ticket and nil; otherwise
// it returns the zero Ticket and a Denial. A negative estimate counts as 0.
func (l *Limiter) Admit(key Key, limits Limits, estimate int, now time.Time) (Ticket, *Denial) {
	est := max(int64(estimate), 0)
	sh := l.shard(key)
	// The ticket is made before the lock is taken, so that its allocation (and any garbage
	// collection work it is charged) never holds up the other requests of the shard; a
	// refusal leaves it unused.
	t := new(ticket)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ms := l.observe(now.UnixMilli())
	s := sh.m[key]
	if s == nil {
		if limits.TPM > 0 && est > int64(limits.TPM) {
			// An empty window refuses only this; do not create a scope for it.
			return Ticket{}, &Denial{Kind: Tokens, Window: time.Minute, Limit: limits.TPM, RetryAfter: Never}
		}
		if sh.m == nil {
			sh.m = make(map[Key]*scope)
		}
		s = &scope{key: key, clock: ms}
		sh.m[key] = s
		sh.peak = max(sh.peak, len(sh.m))
	}
	ms = s.advance(ms)
	if kind, window, limit := l.check(s.sums(), limits, est); kind != 0 {
		retry := Never
		if when, ok := l.earliest(s, limits, est, ms); ok {
			retry = time.Duration(when-ms) * time.Millisecond
		}
		return Ticket{}, &Denial{Kind: kind, Window: window, Limit: int(limit), RetryAfter: retry}
	}
	s.add(ms, est)
	sh.ops++
	if sh.ops > len(sh.m)/2+sweepSlack {
		sh.sweep(ms)
	}
	*t = ticket{s: s, ms: ms, tok: est}
	return Ticket{p: t}, nil
}

// Settle replaces the tokens that t's request counts in its window by actualTokens, the
// prompt plus completion tokens of the reply (a negative value counts as 0). It may be
// smaller or larger than the estimate given to Admit. Settling again replaces the
// previously settled value, so settling twice with the same value changes nothing. Settle
// does nothing, and reports false, when the request's entry has already left the window at
// time now (or the scope was reset or dropped since); otherwise it reports true.
func (l *Limiter) Settle(t Ticket, actualTokens int, now time.Time) bool {
	p := t.p
	if p == nil {
		l.observe(now.UnixMilli()) // every call moves the Limiter's time
		return false
	}
	s := p.s
	sh := l.shard(s.key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ms := l.observe(now.UnixMilli())
	if sh.m[s.key] != s {
		return false
	}
	s.advance(ms)
	i := s.find(p.ms)
	if i < 0 {
		return false
	}
	actual := max(int64(actualTokens), 0)
	s.adjust(i, actual-p.tok)
	p.tok = actual
	return true
}

// sweep drops the scopes of sh whose windows are empty at instant now.
func (sh *shard) sweep(now int64) {
	sh.ops = 0
	for k, s := range sh.m {
		if s.idle(now) {
			delete(sh.m, k)
		}
	}
	sh.shrink()
}

// shrink rebuilds the map once it holds under a quarter of its peak: a Go map keeps its
// table when entries are deleted, so without this, scopes that come and go would leave
// their slots behind. The copy costs O(len), paid for by the deletions since the peak.
func (sh *shard) shrink() {
	if len(sh.m)*4 >= sh.peak {
		return
	}
	var m map[Key]*scope
	if len(sh.m) > 0 {
		m = make(map[Key]*scope, len(sh.m))
		maps.Copy(m, sh.m)
	}
	sh.m = m
	sh.peak = len(m)
}
