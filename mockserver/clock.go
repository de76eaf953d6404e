package mockserver

import (
	"sync/atomic"
	"time"
)

// Clock tells the time. Every timestamp the server writes ("created") and every rate-limit
// window reads it, so a test can pass a fixed clock, or move the server's clock forward with
// Server.Advance, instead of sleeping.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// FixedClock returns a Clock that always answers t (until the server is advanced).
func FixedClock(t time.Time) Clock { return ClockFunc(func() time.Time { return t }) }

// offsetClock is the server's view of time: the base clock plus the total of every Advance.
type offsetClock struct {
	base   Clock
	offset atomic.Int64 // nanoseconds added by Advance; read on every request
}

func (c *offsetClock) Now() time.Time {
	return c.base.Now().Add(time.Duration(c.offset.Load()))
}

// follow sets the offset to the rate-limit backend's: the total of every Advance, on this
// server or, with a shared backend, on any.
func (c *offsetClock) follow(off time.Duration) {
	c.offset.Store(int64(off))
}
