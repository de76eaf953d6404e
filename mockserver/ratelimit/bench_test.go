package ratelimit

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// benchLimits are the international defaults of qwen3-max.
var benchLimits = Limits{RPM: 600, TPM: 1_000_000}

func benchKeys(n int) []Key {
	keys := make([]Key, n)
	for i := range keys {
		keys[i] = Key{Account: fmt.Sprintf("acct-%05d", i), Model: "qwen3-max"}
	}
	return keys
}

// benchAdmit admits round-robin over keys, time advancing by step per request, and
// settles each ticket if settle is set. Every request must be admitted.
func benchAdmit(b *testing.B, l *Limiter, keys []Key, step time.Duration, settle bool) {
	now := t0
	i := 0
	for b.Loop() {
		now = now.Add(step)
		tk, den := l.Admit(keys[i], benchLimits, 1000, now)
		if den != nil {
			b.Fatalf("refused: %+v", *den)
		}
		if settle {
			l.Settle(tk, 400, now)
		}
		if i++; i == len(keys) {
			i = 0
		}
	}
}

// BenchmarkAdmit measures admission at the limit rate of one scope (one request every
// 100 ms, so 600 entries in the window) and over 10,000 scopes taken in turn (each scope
// gets one request every 10 s, or every second for "busy").
func BenchmarkAdmit(b *testing.B) {
	one := benchKeys(1)
	many := benchKeys(10_000)
	b.Run("1scope", func(b *testing.B) { benchAdmit(b, &Limiter{}, one, 100*ms, false) })
	b.Run("1scope/settle", func(b *testing.B) { benchAdmit(b, &Limiter{}, one, 100*ms, true) })
	b.Run("1scope/perSecond+burst", func(b *testing.B) {
		benchAdmit(b, &Limiter{PerSecond: true, Burst: &BurstRule{Floor: 10}}, one, 100*ms, false)
	})
	b.Run("10000scopes", func(b *testing.B) { benchAdmit(b, &Limiter{}, many, 1*ms, false) })
	b.Run("10000scopes/settle", func(b *testing.B) { benchAdmit(b, &Limiter{}, many, 1*ms, true) })
	b.Run("10000scopes/busy", func(b *testing.B) { benchAdmit(b, &Limiter{}, many, 100*time.Microsecond, false) })
}

// BenchmarkDeny measures refusals, which also compute RetryAfter: a scope whose window
// is full with 600 entries, asked again and again at one instant.
func BenchmarkDeny(b *testing.B) {
	for _, c := range []struct {
		name      string
		perSecond bool
		est       int
	}{
		{"requests", false, 1000},
		{"tokens/large", false, 900_000}, // needs most entries to leave
		{"requests/perSecond", true, 1000},
	} {
		b.Run(c.name, func(b *testing.B) {
			l := &Limiter{PerSecond: c.perSecond}
			key := benchKeys(1)
			now := t0
			for range 600 {
				now = now.Add(100 * ms)
				if _, den := l.Admit(key[0], benchLimits, 1000, now); den != nil {
					b.Fatal(den)
				}
			}
			for b.Loop() {
				if _, den := l.Admit(key[0], benchLimits, c.est, now); den == nil {
					b.Fatal("admitted")
				}
			}
		})
	}
}

// BenchmarkAdmitParallel admits from all procs over 10,000 scopes, with one shared clock.
func BenchmarkAdmitParallel(b *testing.B) {
	l := &Limiter{}
	keys := benchKeys(10_000)
	var clock, next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			now := at(time.Duration(clock.Add(1)) * time.Microsecond * 100)
			l.Admit(keys[i%int64(len(keys))], benchLimits, 1000, now)
		}
	})
}

// BenchmarkMemory reports the heap held per scope for 10,000 scopes, measured with
// runtime.ReadMemStats before and after filling a Limiter. The keys' strings are
// allocated beforehand and not counted (the map holds their headers).
func BenchmarkMemory(b *testing.B) {
	const n = 10_000
	keys := benchKeys(n)
	// fill gives every scope one request at each of entries instants, step apart (the
	// Limiter's time never goes backwards, so time is the outer loop).
	fill := func(entries int, step time.Duration) func(*Limiter) {
		return func(l *Limiter) {
			for e := range entries {
				for _, k := range keys {
					l.Admit(k, Limits{}, 1000, at(time.Duration(e)*step))
				}
			}
		}
	}
	for _, c := range []struct {
		name string
		fill func(*Limiter)
	}{
		{"1entry", fill(1, ms)},
		{"10entries", fill(10, ms)},
		{"10requests/1entry", fill(10, 0)},
		{"600entries", fill(600, 100*ms)},
		{"idle/notDropped", fill(10, ms)}, // expired, but no call has touched them yet
		{"idle/afterSnapshot", func(l *Limiter) {
			fill(10, ms)(l)
			l.Snapshot(at(2*time.Minute), nil)
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var perScope float64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				l := &Limiter{}
				c.fill(l)
				runtime.GC()
				runtime.ReadMemStats(&after)
				perScope = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / n
				runtime.KeepAlive(l)
			}
			b.ReportMetric(perScope, "B/scope")
		})
	}
}
