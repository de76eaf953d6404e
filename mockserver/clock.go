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

// MaxClockOffset bounds the total of every Advance (100 years), so that the server's time
// stays far from the limits of time.Duration and Unix timestamps.
const MaxClockOffset = 100 * 365 * 24 * time.Hour

// advance adds d to the offset unless the total would pass MaxClockOffset; it reports
// whether it did.
func (c *offsetClock) advance(d time.Duration) bool {
	if d <= 0 {
		return d == 0
	}
	for {
		old := c.offset.Load()
		if d > MaxClockOffset-time.Duration(old) {
			return false
		}
		if c.offset.CompareAndSwap(old, old+int64(d)) {
			return true
		}
	}
}

// follow sets the offset to the rate-limit backend's: the total of every Advance, on this
// server or, with a shared backend, on any.
func (c *offsetClock) follow(off time.Duration) {
	c.offset.Store(int64(off))
}
