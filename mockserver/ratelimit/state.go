package ratelimit

import (
	"cmp"
	"slices"
	"time"
)

// Unlimited is the Remaining value of a limit that is not set.
const Unlimited = -1

// ScopeState is the usage of one scope's minute window at some instant, measured against
// given limits: what x-ratelimit-* style headers and a control API report.
type ScopeState struct {
	Key    Key
	Limits Limits

	Requests int // requests admitted in the window (t−60s, t]
	Tokens   int // tokens they count (estimates, or settled values once settled)

	// RemainingRequests is RPM−Requests and RemainingTokens is TPM−Tokens, never below
	// zero (settled tokens may exceed the TPM); Unlimited when the limit is not set.
	RemainingRequests int
	RemainingTokens   int

	// ResetRequests is the time until the window holds no request, when the full RPM is
	// available again; ResetTokens is the time until it holds no token (the newest entry
	// with tokens leaves). Zero when already so; exact to the millisecond.
	ResetRequests time.Duration
	ResetTokens   time.Duration
}

// State returns the state of scope key at time now under limits. A scope that holds
// nothing (or has never been seen) reports zero usage.
func (l *Limiter) State(key Key, limits Limits, now time.Time) ScopeState {
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ms := l.observe(now.UnixMilli())
	s := sh.m[key]
	if s == nil {
		return (&scope{key: key}).state(limits, ms)
	}
	st := s.state(limits, s.advance(ms))
	if s.n == 0 {
		delete(sh.m, key)
		sh.shrink()
	}
	return st
}

// Snapshot returns the state at time now of every scope whose window holds something,
// sorted by account then model. limits gives each scope's limits; nil means unlimited for
// all. Scopes found empty are dropped. limits is called with a shard's lock held, so it
// must not call back into the Limiter.
func (l *Limiter) Snapshot(now time.Time, limits func(Key) Limits) []ScopeState {
	var out []ScopeState
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		ms := l.observe(now.UnixMilli())
		for k, s := range sh.m {
			at := s.advance(ms)
			if s.n == 0 {
				delete(sh.m, k)
				continue
			}
			var lim Limits
			if limits != nil {
				lim = limits(k)
			}
			out = append(out, s.state(lim, at))
		}
		sh.shrink()
		sh.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b ScopeState) int {
		return cmp.Or(cmp.Compare(a.Key.Account, b.Key.Account), cmp.Compare(a.Key.Model, b.Key.Model))
	})
	return out
}

// Reset forgets every scope and the latest time seen, so that time may start again from
// any point. Tickets issued before Reset settle nothing. Calls concurrent with Reset may
// see the Limiter before or after it, shard by shard.
func (l *Limiter) Reset() {
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		sh.m = nil
		sh.ops = 0
		sh.peak = 0
		sh.mu.Unlock()
	}
	l.clock.Store(0)
}

// Scopes returns the number of scopes the Limiter holds, including idle ones not yet
// dropped.
func (l *Limiter) Scopes() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// state reports s, already advanced to instant now, under limits.
func (s *scope) state(limits Limits, now int64) ScopeState {
	st := ScopeState{
		Key:               s.key,
		Limits:            limits,
		Requests:          int(s.req),
		Tokens:            int(s.tok),
		RemainingRequests: remaining(limits.RPM, s.req),
		RemainingTokens:   remaining(limits.TPM, s.tok),
	}
	if s.n > 0 {
		st.ResetRequests = time.Duration(s.at(s.n-1).ms+minuteMS-now) * time.Millisecond
	}
	for i := s.n - 1; i >= 0; i-- {
		if e := s.at(i); e.tok != 0 {
			st.ResetTokens = time.Duration(e.ms+minuteMS-now) * time.Millisecond
			break
		}
	}
	return st
}

func remaining(limit int, used int64) int {
	if limit <= 0 {
		return Unlimited
	}
	return int(max(int64(limit)-used, 0))
}
