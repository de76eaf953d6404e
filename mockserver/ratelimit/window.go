package ratelimit

const (
	minuteMS = 60_000 // the minute window, in milliseconds
	secondMS = 1_000  // the second window, in milliseconds
	minRing  = 4      // smallest ring capacity
)

// entry is one non-empty millisecond of a scope: the requests admitted at that instant
// and the tokens they count (estimates, replaced by settled values).
type entry struct {
	ms  int64 // instant, milliseconds since the Unix epoch
	req int64 // requests admitted at ms
	tok int64 // tokens counted at ms
}

// scope is the window of one Key. Entries are kept in a ring in increasing ms order; the
// logical index i (0 = oldest) lives at buf[(head+i) & (len(buf)-1)]. All entries are in
// the minute window (clock−60s, clock]; entries sec..n−1 are those in the second window
// (clock−1s, clock].
type scope struct {
	key   Key
	buf   []entry // ring storage; its length is zero or a power of two
	head  int     // physical index of the oldest entry
	n     int     // entries held
	sec   int     // logical index of the oldest entry of the second window
	clock int64   // latest instant seen by the scope, ms

	req, tok   int64 // requests and tokens of the minute window (all entries)
	req1, tok1 int64 // requests and tokens of the second window (entries sec..n−1)
}

// window is what the rules look at: the contents of both windows at one instant,
// without the request being decided.
type window struct {
	req, tok   int64 // minute window
	req1, tok1 int64 // second window
}

func (s *scope) sums() window { return window{s.req, s.tok, s.req1, s.tok1} }

func (s *scope) at(i int) *entry { return &s.buf[(s.head+i)&(len(s.buf)-1)] }

// advance moves the scope's clock to ms, drops the entries that have left each window,
// and returns the scope's instant. Instants come from Limiter.observe under the shard
// lock, so they never decrease; advance still keeps the later one, as a guard.
func (s *scope) advance(ms int64) int64 {
	if ms < s.clock {
		ms = s.clock
	}
	s.clock = ms
	for s.sec < s.n {
		e := s.at(s.sec)
		if e.ms > ms-secondMS {
			break
		}
		s.req1 -= e.req
		s.tok1 -= e.tok
		s.sec++
	}
	// Every entry leaving the minute window has left the second window already, so it
	// lies before sec.
	for s.n > 0 {
		e := s.at(0)
		if e.ms > ms-minuteMS {
			break
		}
		s.req -= e.req
		s.tok -= e.tok
		s.head = (s.head + 1) & (len(s.buf) - 1)
		s.n--
		s.sec--
	}
	if s.n == 0 {
		*s = scope{key: s.key, clock: s.clock} // release the ring
		return ms
	}
	if c := len(s.buf); c > minRing && s.n <= c/4 {
		for c > minRing && s.n <= c/4 {
			c /= 2
		}
		s.resize(c)
	}
	return ms
}

// add records one admitted request of est tokens at instant ms, the scope's clock.
func (s *scope) add(ms, est int64) {
	s.req++
	s.tok += est
	s.req1++
	s.tok1 += est
	if s.n > 0 {
		if last := s.at(s.n - 1); last.ms == ms {
			last.req++
			last.tok += est
			return
		}
	}
	if s.n == len(s.buf) {
		s.resize(max(minRing, 2*len(s.buf)))
	}
	*s.at(s.n) = entry{ms: ms, req: 1, tok: est}
	s.n++
}

// resize moves the entries to a new ring of capacity c (a power of two, at least n).
func (s *scope) resize(c int) {
	buf := make([]entry, c)
	for i := 0; i < s.n; i++ {
		buf[i] = *s.at(i)
	}
	s.buf = buf
	s.head = 0
}

// find returns the logical index of the entry at instant ms, or −1.
func (s *scope) find(ms int64) int {
	lo, hi := 0, s.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.at(mid).ms < ms {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < s.n && s.at(lo).ms == ms {
		return lo
	}
	return -1
}

// adjust adds delta tokens to the entry at logical index i and to the windows holding it.
func (s *scope) adjust(i int, delta int64) {
	s.at(i).tok += delta
	s.tok += delta
	if i >= s.sec {
		s.tok1 += delta
	}
}

// idle reports whether the scope's window is empty at instant now.
func (s *scope) idle(now int64) bool {
	return s.n == 0 || s.at(s.n-1).ms <= now-minuteMS
}
