package ratelimit

import "time"

// BurstRule is the optional Throttling.BurstRate rule: it refuses a request when the
// request rate grows too quickly compared with the recent past.
//
// At instant t, let n be the requests in the second window (t−1s, t] counting the new
// one, and p the requests in (t−60s, t−1s], the 59 seconds before that second. The request
// is refused with Kind Burst when
//
//	n > Floor  and  n > Factor · p / 59
//
// that is, when the last second holds more than Floor requests and more than Factor times
// the average per-second rate of the previous 59 seconds. A client that stays at or under
// Floor requests per second never meets it; one that starts cold must grow from Floor
// gradually. The real service does not publish its rule; this one only imitates its
// effect. Like every rule, it is checked against the entries the window holds, so a
// refused request does not count.
type BurstRule struct {
	// Floor is the number of requests in one second that is never a burst. Zero or less
	// means half the per-second rate, ⌈RPM/120⌉; with no RPM limit the rule then never
	// refuses.
	Floor int
	// Factor is the allowed multiple of the previous average rate. Zero or less means 2.
	Factor int
}

// allowed returns the most requests the rule lets into the second window when the 59
// seconds before it held prev requests, or −1 when the rule is off for these limits.
func (b *BurstRule) allowed(limits Limits, prev int64) int64 {
	floor := int64(b.Floor)
	if floor <= 0 {
		if limits.RPM <= 0 {
			return -1
		}
		floor = ceilDiv(int64(limits.RPM), 120)
	}
	factor := int64(b.Factor)
	if factor <= 0 {
		factor = 2
	}
	return max(floor, factor*prev/59)
}

// ceilDiv returns ⌈a/b⌉ for a ≥ 0, b > 0.
func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// check applies the enabled rules to a request of est tokens, given the windows' contents
// without it. It returns 0 if every rule passes, or the first rule that refuses with its
// window and bound, in the order: requests per minute, requests per second, tokens per
// minute, tokens per second, burst.
func (l *Limiter) check(w window, limits Limits, est int64) (Kind, time.Duration, int64) {
	if rpm := int64(limits.RPM); rpm > 0 {
		if w.req+1 > rpm {
			return Requests, time.Minute, rpm
		}
		if rps := ceilDiv(rpm, 60); l.PerSecond && w.req1+1 > rps {
			return Requests, time.Second, rps
		}
	}
	if tpm := int64(limits.TPM); tpm > 0 {
		if w.tok+est > tpm {
			return Tokens, time.Minute, tpm
		}
		// A request alone in its second (no entry in the second window) skips this check.
		if tps := ceilDiv(tpm, 60); l.PerSecond && w.req1 > 0 && w.tok1+est > tps {
			return Tokens, time.Second, tps
		}
	}
	if b := l.Burst; b != nil {
		if allowed := b.allowed(limits, w.req-w.req1); allowed >= 0 && w.req1+1 > allowed {
			return Burst, time.Second, allowed
		}
	}
	return 0, 0, 0
}

// earliest returns the first instant t ≥ now (the scope's clock) at which a request of est
// tokens passes every enabled rule, assuming nothing else arrives, or false if it never
// will. It replays the future: the windows change only when an entry leaves one, at
// e.ms+1s (second window) or e.ms+60s (minute window), so it visits those instants in
// order, updating the sums as it goes, and stops at the first that passes.
func (l *Limiter) earliest(s *scope, limits Limits, est, now int64) (int64, bool) {
	if limits.TPM > 0 && est > int64(limits.TPM) {
		return 0, false
	}
	w := s.sums()
	if kind, _, _ := l.check(w, limits, est); kind == 0 {
		return now, true
	}
	seconds := l.PerSecond || l.Burst != nil
	i60, i1 := 0, s.sec // next entry to leave the minute window, the second window
	for {
		const none = int64(1<<63 - 1)
		t := none
		if i60 < s.n {
			t = s.at(i60).ms + minuteMS
		}
		if seconds && i1 < s.n {
			t = min(t, s.at(i1).ms+secondMS)
		}
		if t == none {
			// Both windows are empty. With est ≤ TPM every rule passes an empty window,
			// so the last event has returned already; this is not reached.
			return 0, false
		}
		for seconds && i1 < s.n && s.at(i1).ms+secondMS <= t {
			e := s.at(i1)
			w.req1 -= e.req
			w.tok1 -= e.tok
			i1++
		}
		for i60 < s.n && s.at(i60).ms+minuteMS <= t {
			e := s.at(i60)
			w.req -= e.req
			w.tok -= e.tok
			i60++
		}
		if kind, _, _ := l.check(w, limits, est); kind == 0 {
			return t, true
		}
	}
}
