package ratelimit

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Backend holds the windows of every scope and the clock they are measured by. Two
// implementations exist: Local, a Limiter in this process, and Redis, whose state lives in
// a Redis server shared by every replica that points at it. Both apply the same rules
// (package documentation) and give the same decisions for the same sequence of calls at the
// same instants.
//
// The clock belongs to the backend: Admit, Settle, State and Snapshot read it, and Advance
// moves it forward. For Local it is a base clock plus an offset kept in the process; for
// Redis it is the server's TIME plus an offset kept in Redis, so every replica reads the
// same time and an Advance on one moves all.
//
// Errors come only from a backend that talks to another process: Local never fails. A
// Redis backend returns errors that match ErrUnavailable (errors.Is), unless it was built
// with FailOpen, in which case Admit lets requests through unchecked instead.
type Backend interface {
	// Admit decides a request and, if admitted, records it (reserve). With WantState the
	// Admission also carries the scope's state after the decision.
	Admit(ctx context.Context, req Request) (Admission, error)
	// Settle replaces the tokens an admitted request counts by actualTokens, as
	// Limiter.Settle does; settling again with the same value changes nothing. It reports
	// whether the request's entry was still in its window.
	Settle(ctx context.Context, t Ticket, actualTokens int) (bool, error)
	// State reports one scope under limits at the backend's current time.
	State(ctx context.Context, key Key, limits Limits) (ScopeState, error)
	// Snapshot reports every scope whose window holds something, sorted by account then
	// model, with limits(key) as each scope's limits (nil: unlimited).
	Snapshot(ctx context.Context, limits func(Key) Limits) ([]ScopeState, error)
	// Reset forgets every scope. It leaves the clock where it is.
	Reset(ctx context.Context) error
	// Advance moves the clock forward by d (d ≤ 0 does nothing) and returns the total
	// offset now added to the base clock.
	Advance(ctx context.Context, d time.Duration) (time.Duration, error)
	// Now reads the clock, and the total offset added to its base.
	Now(ctx context.Context) (time.Time, time.Duration, error)
}

// Request is one admission question.
type Request struct {
	Key      Key
	Limits   Limits
	Estimate int  // tokens: input plus the most output the request may produce
	State    bool // also report the scope's state after the decision
}

// Admission is the answer to a Request.
type Admission struct {
	// Ticket is the admitted request's reservation, for Settle; the zero Ticket when
	// refused or let through unchecked.
	Ticket Ticket
	// Denial is nil when admitted.
	Denial *Denial
	// Now is the instant of the decision on the backend's clock, and Offset the total
	// offset then added to its base clock (what Advance has added, on any replica).
	Now    time.Time
	Offset time.Duration
	// State is the scope after the decision, when the Request asked for it.
	State ScopeState
	// Unchecked is set when the backend could not decide and let the request through
	// (a Redis backend with FailOpen while Redis is unreachable).
	Unchecked bool
}

// Admitted reports whether the request may run.
func (a Admission) Admitted() bool { return a.Denial == nil }

// ErrUnavailable is matched (errors.Is) by every error a backend returns because its store
// could not be reached or did not answer in time.
var ErrUnavailable = errors.New("rate-limit store unavailable")

// Local is the in-process Backend: a Limiter and a clock with an offset. It never fails
// and makes no allocation beyond the Limiter's own.
type Local struct {
	limiter *Limiter
	clock   func() time.Time
	offset  atomic.Int64 // nanoseconds added by Advance
}

// NewLocal returns a Local backend over l, reading time from clock (time.Now if nil).
func NewLocal(l *Limiter, clock func() time.Time) *Local {
	if clock == nil {
		clock = time.Now
	}
	return &Local{limiter: l, clock: clock}
}

// Limiter returns the Limiter that holds the windows.
func (b *Local) Limiter() *Limiter { return b.limiter }

func (b *Local) now() (time.Time, time.Duration) {
	off := time.Duration(b.offset.Load())
	return b.clock().Add(off), off
}

// Admit implements Backend.
func (b *Local) Admit(_ context.Context, req Request) (Admission, error) {
	now, off := b.now()
	t, d := b.limiter.Admit(req.Key, req.Limits, req.Estimate, now)
	a := Admission{Ticket: t, Denial: d, Now: now, Offset: off}
	if req.State {
		a.State = b.limiter.State(req.Key, req.Limits, now)
	}
	return a, nil
}

// Settle implements Backend.
func (b *Local) Settle(_ context.Context, t Ticket, actualTokens int) (bool, error) {
	now, _ := b.now()
	return b.limiter.Settle(t, actualTokens, now), nil
}

// State implements Backend.
func (b *Local) State(_ context.Context, key Key, limits Limits) (ScopeState, error) {
	now, _ := b.now()
	return b.limiter.State(key, limits, now), nil
}

// Snapshot implements Backend.
func (b *Local) Snapshot(_ context.Context, limits func(Key) Limits) ([]ScopeState, error) {
	now, _ := b.now()
	return b.limiter.Snapshot(now, limits), nil
}

// Reset implements Backend.
func (b *Local) Reset(context.Context) error {
	b.limiter.Reset()
	return nil
}

// Advance implements Backend.
func (b *Local) Advance(_ context.Context, d time.Duration) (time.Duration, error) {
	if d <= 0 {
		return time.Duration(b.offset.Load()), nil
	}
	return time.Duration(b.offset.Add(int64(d))), nil
}

// Now implements Backend.
func (b *Local) Now(context.Context) (time.Time, time.Duration, error) {
	now, off := b.now()
	return now, off, nil
}
