package ratelimit

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const workers = 64

// TestConcurrentPhases runs 64 goroutines that all admit at the same instants, phase by
// phase, on a few scopes, while others settle, read states and take snapshots. Demand
// always exceeds the limit, so each scope must admit exactly the limit when its window
// frees, and nothing otherwise.
func TestConcurrentPhases(t *testing.T) {
	l := &Limiter{}
	lim := Limits{RPM: 100, TPM: 1_000_000}
	keys := []Key{{"a", "m"}, {"b", "m"}, {"a", "n"}, {"c", "m"}}
	// Phases 20 s apart: the window frees at 0 s, 60 s and 120 s.
	want := []int64{100, 0, 0, 100, 0, 0, 100}
	for phase, wantN := range want {
		now := at(time.Duration(phase) * 20 * sec)
		var admitted [4]atomic.Int64
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 40 {
					k := (w + i) % len(keys)
					tk, den := l.Admit(keys[k], lim, 10, now)
					switch {
					case den == nil:
						admitted[k].Add(1)
						if i%3 == 0 {
							l.Settle(tk, 5, now)
						}
					case den.Kind != Requests:
						t.Errorf("refused for %v", den.Kind)
					}
					if i%10 == 0 {
						l.State(keys[k], lim, now)
					}
				}
				if w%16 == 0 {
					l.Snapshot(now, func(Key) Limits { return lim })
				}
			}()
		}
		wg.Wait()
		for k := range keys {
			if got := admitted[k].Load(); got != wantN {
				t.Fatalf("phase %d, %v: admitted %d, want %d", phase, keys[k], got, wantN)
			}
		}
		for _, st := range l.Snapshot(now, func(Key) Limits { return lim }) {
			if st.Requests != 100 {
				t.Fatalf("phase %d: %+v", phase, st)
			}
		}
	}
}

// TestConcurrentClock has 64 goroutines take instants from one shared, advancing clock
// and race to admit; they reach the Limiter out of order, and it must still never let
// more than the limits into any window. Demand is about eight times the RPM.
func TestConcurrentClock(t *testing.T) {
	for _, perSecond := range []bool{false, true} {
		t.Run(fmt.Sprint("perSecond=", perSecond), func(t *testing.T) {
			l := &Limiter{PerSecond: perSecond}
			lim := Limits{RPM: 120, TPM: 3000}
			var clock atomic.Int64
			recs := make([][]*record, workers)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 100 {
						now := at(time.Duration(clock.Add(60)) * ms)
						est := 5 + (w*7+i)%40
						tk, den := l.Admit(testKey, lim, est, now)
						if den != nil {
							continue
						}
						r := &record{real: tk.Time(), ms: tk.Time().UnixMilli(), tok: int64(est)}
						if i%4 == 0 && l.Settle(tk, est/2, now) {
							r.tok = int64(est / 2)
						}
						recs[w] = append(recs[w], r)
					}
				}()
			}
			wg.Wait()
			all := slices.Concat(recs...)
			slices.SortStableFunc(all, func(a, b *record) int { return int(a.ms - b.ms) })
			if len(all) < 6*lim.RPM/2 {
				t.Fatalf("only %d admitted over 6 minutes", len(all))
			}
			checkSpans(t, all, lim, perSecond)
		})
	}
}

// TestConcurrentReset races Reset against admissions; it checks only for data races and
// that the Limiter stays usable.
func TestConcurrentReset(t *testing.T) {
	l := &Limiter{PerSecond: true, Burst: &BurstRule{}}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := Key{fmt.Sprint("acct", w%8), "m"}
				tk, _ := l.Admit(k, Limits{RPM: 600, TPM: 10_000}, 10, at(time.Duration(i)*ms))
				l.Settle(tk, 3, at(time.Duration(i)*ms))
				if w == 0 && i%50 == 0 {
					l.Reset()
				}
			}
		}()
	}
	wg.Wait()
	l.Reset()
	admitOK(t, l, Limits{RPM: 1}, 0, 0)
}
