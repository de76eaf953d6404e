package ratelimit

import (
	"math/rand/v2"
	"testing"
	"time"
)

// checkRing checks a scope's invariants: entries in increasing instants inside the minute
// window, sums matching them, the second window starting at sec, and the ring's capacity
// within max(4, 4n).
func checkRing(t *testing.T, s *scope) {
	t.Helper()
	var req, tok, req1, tok1 int64
	for i := range s.n {
		e := s.at(i)
		if i > 0 && e.ms <= s.at(i-1).ms {
			t.Fatalf("entry %d at %d after %d", i, e.ms, s.at(i-1).ms)
		}
		if e.ms <= s.clock-minuteMS || e.ms > s.clock || e.req < 1 {
			t.Fatalf("entry %d %+v outside the window at %d", i, *e, s.clock)
		}
		if (i >= s.sec) != (e.ms > s.clock-secondMS) {
			t.Fatalf("entry %d at %d: sec = %d at %d", i, e.ms, s.sec, s.clock)
		}
		req += e.req
		tok += e.tok
		if i >= s.sec {
			req1 += e.req
			tok1 += e.tok
		}
		if s.find(e.ms) != i {
			t.Fatalf("find(%d) = %d, want %d", e.ms, s.find(e.ms), i)
		}
	}
	if (window{req, tok, req1, tok1}) != s.sums() {
		t.Fatalf("sums %+v, entries give %+v", s.sums(), window{req, tok, req1, tok1})
	}
	if c := len(s.buf); c < s.n || c > max(minRing, 4*s.n) || c&(c-1) != 0 {
		t.Fatalf("capacity %d for %d entries", c, s.n)
	}
	if s.n == 0 && s.buf != nil {
		t.Fatal("an empty scope keeps its ring")
	}
}

// TestRing drives one scope through growth, wrap-around, merging, bursts and quiet
// spells, checking its invariants after quiet spells and every 16th call.
func TestRing(t *testing.T) {
	l := &Limiter{}
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Duration(0)
	for step := range 12_000 {
		check := step%16 == 0
		switch p := rng.IntN(1000); {
		case p < 300: // same instant: merged
		case p < 990:
			now += time.Duration(rng.IntN(20)) * ms
		default: // a quiet spell: most or all entries leave
			now += time.Duration(50_000+rng.IntN(20_000)) * ms
			check = true
		}
		if step%7 == 0 {
			l.State(testKey, Limits{}, at(now))
		} else {
			admitOK(t, l, Limits{}, rng.IntN(100), now)
		}
		if s := l.shard(testKey).m[testKey]; s != nil && check {
			checkRing(t, s)
		}
	}
	if s := l.shard(testKey).m[testKey]; s != nil && s.find(s.at(0).ms-1) != -1 {
		t.Fatal("find of a missing instant")
	}
}

// TestStorageReleased checks that a scope whose window empties gives back its ring, and
// that shards rebuild their maps once most scopes are gone.
func TestStorageReleased(t *testing.T) {
	l := &Limiter{}
	keys := benchKeys(5000)
	for _, k := range keys {
		l.Admit(k, Limits{}, 1, t0)
	}
	l.Admit(keys[0], Limits{}, 1, at(30*sec))
	l.Snapshot(at(61*sec), nil) // drops all but keys[0]
	for i := range l.shards {
		sh := &l.shards[i]
		if sh.peak > 1 || len(sh.m) > 1 {
			t.Fatalf("shard %d: peak %d, %d scopes after the snapshot", i, sh.peak, len(sh.m))
		}
	}
	s := l.shard(keys[0]).m[keys[0]]
	if s == nil || s.n != 1 {
		t.Fatal("the live scope was dropped")
	}
	l.Settle(Ticket{}, 0, at(90*sec)) // moves time on; the scope is not touched
	if s.buf == nil {
		t.Fatal("ring released before the scope was touched")
	}
	if st := l.State(keys[0], Limits{}, at(90*sec)); st.Requests != 0 || s.buf != nil {
		t.Fatalf("state %+v; ring kept: %v", st, s.buf != nil)
	}
}
