package ratelimit

import (
	"slices"
	"testing"
	"time"
)

// t0 is the origin of test time; it is not aligned to a second, so tests do not depend
// on aligned windows.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(123456 * time.Millisecond)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

var testKey = Key{Account: "acct", Model: "qwen3-max"}

// admitOK admits a request that the test expects to pass.
func admitOK(t *testing.T, l *Limiter, lim Limits, est int, d time.Duration) Ticket {
	t.Helper()
	tk, den := l.Admit(testKey, lim, est, at(d))
	if den != nil {
		t.Fatalf("at %v est %d: refused %+v", d, est, *den)
	}
	return tk
}

// refused admits a request that the test expects to be refused and returns the Denial.
func refused(t *testing.T, l *Limiter, lim Limits, est int, d time.Duration) Denial {
	t.Helper()
	_, den := l.Admit(testKey, lim, est, at(d))
	if den == nil {
		t.Fatalf("at %v est %d: admitted, want a refusal", d, est)
	}
	return *den
}

// reference is a deliberately naive model of one scope: it keeps every admitted request
// separately, counts windows by scanning all of them, and finds retry times by trying
// every instant at which a window changes. Tests compare the Limiter with it.
type reference struct {
	perSecond bool
	burst     *BurstRule
	clock     int64 // latest instant seen, if seen
	seen      bool
	reqs      []refRequest
}

// observe returns the instant of a call at ms: ms or the latest instant seen, if later.
func (r *reference) observe(ms int64) int64 {
	if !r.seen || ms > r.clock {
		r.clock, r.seen = ms, true
	}
	return r.clock
}

type refRequest struct{ ms, tok int64 }

// count returns the requests and tokens with instants in (t−span, t]. Requests are kept
// in order of their instants, so it scans back from the newest.
func (r *reference) count(t, span int64) (req, tok int64) {
	for i := len(r.reqs) - 1; i >= 0 && r.reqs[i].ms > t-span; i-- {
		if q := r.reqs[i]; q.ms <= t {
			req++
			tok += q.tok
		}
	}
	return req, tok
}

// rule returns the first rule a request of est tokens fails at instant t, or 0.
func (r *reference) rule(t int64, lim Limits, est int64) Kind {
	req, tok := r.count(t, 60_000)
	req1, tok1 := r.count(t, 1_000)
	rpm, tpm := int64(lim.RPM), int64(lim.TPM)
	if rpm > 0 && req+1 > rpm {
		return Requests
	}
	if rpm > 0 && r.perSecond && req1+1 > (rpm+59)/60 {
		return Requests
	}
	if tpm > 0 && tok+est > tpm {
		return Tokens
	}
	if tpm > 0 && r.perSecond && req1 > 0 && tok1+est > (tpm+59)/60 {
		return Tokens
	}
	if b := r.burst; b != nil {
		floor, factor := int64(b.Floor), int64(b.Factor)
		if floor <= 0 && rpm > 0 {
			floor = (rpm + 119) / 120
		}
		if factor <= 0 {
			factor = 2
		}
		n, prev := req1+1, req-req1
		if floor > 0 && n > floor && 59*n > factor*prev {
			return Burst
		}
	}
	return 0
}

// admit decides a request at ms the way the Limiter should: it returns the refusing
// rule (0 if admitted) and the retry delay in milliseconds (−1 for never).
func (r *reference) admit(ms int64, lim Limits, est int64) (Kind, int64) {
	est = max(est, 0)
	now := r.observe(ms)
	kind := r.rule(now, lim, est)
	if kind == 0 {
		r.reqs = append(r.reqs, refRequest{now, est})
		return 0, 0
	}
	if lim.TPM > 0 && est > int64(lim.TPM) {
		return kind, -1
	}
	var cands []int64
	for i := len(r.reqs) - 1; i >= 0 && r.reqs[i].ms > now-60_000; i-- {
		cands = append(cands, r.reqs[i].ms+1_000, r.reqs[i].ms+60_000)
	}
	slices.Sort(cands)
	for _, c := range cands {
		if c > now && r.rule(c, lim, est) == 0 {
			return kind, c - now
		}
	}
	panic("reference: request never passes")
}

// settle sets the tokens of request i, unless it has left the window at ms.
func (r *reference) settle(i int, actual, ms int64) bool {
	if r.reqs[i].ms <= r.observe(ms)-60_000 {
		return false
	}
	r.reqs[i].tok = max(actual, 0)
	return true
}
