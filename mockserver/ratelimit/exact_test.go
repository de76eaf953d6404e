package ratelimit

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// record is an admitted request as the exactness tests see it.
type record struct {
	real time.Time // the time passed to Admit
	ms   int64     // the instant the Limiter recorded
	tok  int64     // its tokens after settlement
}

// randomGap returns a gap between arrivals: often none, often around the limit rate,
// sometimes a pause; with nanosecond precision, so instants fall anywhere in a millisecond.
func randomGap(rng *rand.Rand, period time.Duration) time.Duration {
	switch p := rng.IntN(100); {
	case p < 25:
		return 0
	case p < 35:
		return time.Duration(rng.Int64N(int64(time.Millisecond)))
	case p < 85:
		return time.Duration(rng.Int64N(int64(2 * period)))
	default:
		return time.Duration(rng.Int64N(int64(8 * time.Second)))
	}
}

// TestExactnessRandom admits randomised traffic for several minutes and then checks, by
// brute force over every admitted request, that no 60-second span (t−60s, t] holds more
// than the limits (and, with the per-second rule, no 1-second span more than its share).
// The maximum over all real spans is reached when the span ends at an admitted request, so
// checking those spans covers every span.
func TestExactnessRandom(t *testing.T) {
	for seed := range 12 {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 42))
			lim := Limits{RPM: 30 + rng.IntN(300), TPM: 2000 + rng.IntN(20000)}
			l := &Limiter{PerSecond: seed%2 == 1}
			if seed%3 == 2 {
				l.Burst = &BurstRule{Factor: 1 + rng.IntN(3)}
			}
			period := time.Minute / time.Duration(lim.RPM)
			now := t0.Add(time.Duration(rng.Int64N(int64(time.Millisecond))))
			var recs []*record
			var tickets []Ticket
			denied := 0
			for end := now.Add(5 * time.Minute); now.Before(end); now = now.Add(randomGap(rng, period)) {
				est := rng.IntN(lim.TPM / 20)
				if l.PerSecond {
					est = rng.IntN(lim.TPM / 100) // mostly within the per-second share
				}
				if rng.IntN(50) == 0 {
					est = lim.TPM + 1
				}
				tk, den := l.Admit(testKey, lim, est, now)
				if den != nil {
					denied++
					continue
				}
				recs = append(recs, &record{real: now, ms: tk.Time().UnixMilli(), tok: int64(est)})
				tickets = append(tickets, tk)
				// Settle some earlier request to a smaller value: the bound must hold on the
				// settled values too.
				if i := rng.IntN(len(tickets)); rng.IntN(3) == 0 && recs[i].ms > now.UnixMilli()-minuteMS {
					actual := rng.Int64N(recs[i].tok + 1)
					if l.Settle(tickets[i], int(actual), now) {
						recs[i].tok = actual
					}
				}
			}
			if len(recs) < min(lim.RPM, 200) || denied == 0 {
				t.Fatalf("weak run: %d admitted, %d denied", len(recs), denied)
			}
			checkSpans(t, recs, lim, l.PerSecond)
		})
	}
}

// checkSpans checks every window ending at an admitted request.
func checkSpans(t *testing.T, recs []*record, lim Limits, perSecond bool) {
	t.Helper()
	rps, tps := (int64(lim.RPM)+59)/60, (int64(lim.TPM)+59)/60
	for j, r := range recs {
		var req, tok, req1, tok1, realReq int64
		for _, q := range recs[:j+1] {
			if q.ms > r.ms-minuteMS {
				req++
				tok += q.tok
			}
			if q.ms > r.ms-secondMS {
				req1++
				tok1 += q.tok
			}
			// In real time, before quantising: any span of 59.999 s.
			if !q.real.Before(r.real.Add(-59999 * time.Millisecond)) {
				realReq++
			}
		}
		if req > int64(lim.RPM) || tok > int64(lim.TPM) || realReq > int64(lim.RPM) {
			t.Fatalf("minute ending at request %d holds %d requests (%d in real time), %d tokens; limits %+v",
				j, req, realReq, tok, lim)
		}
		if perSecond && (req1 > rps || (req1 > 1 && tok1 > tps)) {
			t.Fatalf("second ending at request %d holds %d requests, %d tokens; per second %d, %d", j, req1, tok1, rps, tps)
		}
	}
}

// TestLimitRate sends exactly at the limit rate for five minutes: nothing may be refused.
func TestLimitRate(t *testing.T) {
	cases := []struct {
		name   string
		lim    Limits
		est    int
		period time.Duration
	}{
		{"rpm 600, one every 100ms", Limits{RPM: 600, TPM: 1_000_000}, 1000, 100 * ms},
		{"rpm 600, tokens exactly at the TPM", Limits{RPM: 600, TPM: 600_000}, 1000, 100 * ms},
		{"tpm bound, one every 6s", Limits{RPM: 600, TPM: 10_000}, 1000, 6 * sec},
		{"rpm 7, period not a whole millisecond", Limits{RPM: 7, TPM: 7}, 1, time.Minute / 7},
		{"rpm 30000, one every 2ms", Limits{RPM: 30_000, TPM: 5_000_000}, 100, 2 * ms},
	}
	for _, c := range cases {
		for _, perSecond := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/perSecond=%v", c.name, perSecond), func(t *testing.T) {
				l := &Limiter{PerSecond: perSecond}
				start := t0.Add(777 * time.Microsecond) // not on a millisecond
				var recs []*record
				for k := int64(0); ; k++ {
					// k·60s/RPM computed exactly: request k and k+RPM are exactly 60 s apart.
					now := start.Add(time.Duration(k * int64(c.period)))
					if c.lim.RPM == 7 {
						now = start.Add(time.Duration(k * int64(time.Minute) / 7))
					}
					if now.Sub(start) > 5*time.Minute {
						break
					}
					tk, den := l.Admit(testKey, c.lim, c.est, now)
					if den != nil {
						t.Fatalf("request %d at %v refused: %+v", k, now.Sub(start), *den)
					}
					recs = append(recs, &record{real: now, ms: tk.Time().UnixMilli(), tok: int64(c.est)})
				}
				// And the window is full: one more at the last instant is refused.
				if _, den := l.Admit(testKey, c.lim, c.est, recs[len(recs)-1].real); den == nil {
					t.Fatal("an extra request at the limit rate was admitted")
				}
				if len(recs) < 5*c.lim.RPM && c.period == time.Minute/time.Duration(c.lim.RPM) {
					t.Fatalf("only %d requests", len(recs))
				}
			})
		}
	}
}

// TestMatchesReference compares every decision, retry time, settlement and state of the
// Limiter with the naive reference model, over random traffic with every option mix,
// small limits, merged instants, time going backwards and random settlements.
func TestMatchesReference(t *testing.T) {
	for seed := range 120 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		lim := Limits{RPM: 2 + rng.IntN(40), TPM: 50 + rng.IntN(1000)}
		switch seed % 5 {
		case 3:
			lim.RPM = 0
		case 4:
			lim.TPM = 0
		}
		l := &Limiter{PerSecond: rng.IntN(2) == 0}
		if rng.IntN(2) == 0 {
			l.Burst = &BurstRule{Floor: rng.IntN(3), Factor: rng.IntN(4)}
		}
		ref := &reference{perSecond: l.PerSecond, burst: l.Burst}
		type issued struct {
			tk Ticket
			i  int
		}
		var tickets []issued
		now := int64(0)
		for step := range 600 {
			switch p := rng.IntN(100); {
			case p < 5:
				now -= rng.Int64N(3000) // earlier than the latest time: clamped
			case p < 30:
			case p < 80:
				now += rng.Int64N(1500)
			default:
				now += rng.Int64N(20_000)
			}
			when := at(time.Duration(now)*ms + time.Duration(rng.Int64N(int64(ms))))
			where := fmt.Sprintf("seed %d step %d at %dms", seed, step, now)
			switch p := rng.IntN(100); {
			case p < 80:
				est := rng.IntN(max(lim.TPM, 100)/3+1) - 2
				if rng.IntN(40) == 0 {
					est = lim.TPM + 1
				}
				tk, den := l.Admit(testKey, lim, est, when)
				kind, retry := ref.admit(now, lim, int64(est))
				switch {
				case den == nil && kind != 0, den != nil && kind == 0:
					t.Fatalf("%s: limiter %+v, reference %v", where, den, kind)
				case den == nil:
					tickets = append(tickets, issued{tk, len(ref.reqs) - 1})
				case den.Kind != kind || den.RetryAfter != time.Duration(retry)*ms && !(retry < 0 && den.RetryAfter == Never):
					t.Fatalf("%s: limiter %+v, reference %v retry %dms", where, *den, kind, retry)
				}
			case p < 92 && len(tickets) > 0:
				it := tickets[rng.IntN(len(tickets))]
				actual := rng.IntN(max(lim.TPM, 100)/2) - 2
				if got, want := l.Settle(it.tk, actual, when), ref.settle(it.i, int64(actual), now); got != want {
					t.Fatalf("%s: Settle = %v, reference %v", where, got, want)
				}
			default:
				st := l.State(testKey, lim, when)
				req, tok := ref.count(ref.observe(now), minuteMS)
				if int64(st.Requests) != req || int64(st.Tokens) != tok {
					t.Fatalf("%s: State %d, %d; reference %d, %d", where, st.Requests, st.Tokens, req, tok)
				}
			}
		}
	}
}
