package ratelimit

import (
	"testing"
	"time"
)

func TestPerSecond(t *testing.T) {
	runAdmitCases(t, []admitCase{
		{name: "off by default", limits: Limits{RPM: 600, TPM: 6000}, steps: []step{
			ok(0, 100), ok(0, 100), ok(0, 100), ok(0, 100), ok(0, 100), ok(0, 100),
			ok(0, 100), ok(0, 100), ok(0, 100), ok(0, 100), ok(0, 100), ok(0, 100),
		}},
		{name: "requests: ceil(RPM/60) per second", perSecond: true, limits: Limits{RPM: 600}, steps: []step{
			ok(0, 0), ok(0, 0), ok(0, 0), ok(0, 0), ok(0, 0),
			ok(0, 0), ok(0, 0), ok(0, 0), ok(0, 0), ok(0, 0),
			noSec(0, 0, Requests, 10, 1*sec),
			noSec(999*ms, 0, Requests, 10, 1*ms),
			ok(1*sec, 0),
		}},
		{name: "requests: spread entries leave one by one", perSecond: true, limits: Limits{RPM: 61}, steps: []step{
			ok(0, 0), ok(300*ms, 0), // ⌈61/60⌉ = 2
			noSec(600*ms, 0, Requests, 2, 400*ms),
			ok(1*sec, 0),
			noSec(1200*ms, 0, Requests, 2, 100*ms),
		}},
		{name: "requests: the minute limit still applies", perSecond: true, limits: Limits{RPM: 2}, steps: []step{
			ok(0, 0),
			noSec(500*ms, 0, Requests, 1, 500*ms),
			ok(1*sec, 0),
			no(2*sec, 0, Requests, 2, 58*sec),
		}},
		{name: "tokens: ceil(TPM/60) per second", perSecond: true, limits: Limits{TPM: 6000}, steps: []step{
			ok(0, 60), ok(10*ms, 40), // exactly 100
			noSec(20*ms, 1, Tokens, 100, 980*ms),  // the 60 leave at 1 s
			noSec(20*ms, 61, Tokens, 100, 990*ms), // 40+61 > 100: alone once the 40 leaves
			ok(20*ms, 0),
		}},
		{name: "tokens: a request alone in its second skips the check", perSecond: true, limits: Limits{TPM: 6000}, steps: []step{
			ok(0, 150), // alone: 150 > 100 passes
			noSec(500*ms, 1, Tokens, 100, 500*ms),
			ok(1*sec, 150), // alone again
			noSec(1200*ms, 50, Tokens, 100, 800*ms),
			ok(2*sec, 50),
			noSec(2100*ms, 100, Tokens, 100, 900*ms), // 50+100 > 100; alone at 3 s
			ok(3*sec, 100),
		}},
		{name: "tokens: alone still needs the minute", perSecond: true, limits: Limits{TPM: 300}, steps: []step{
			ok(0, 200),
			noSec(500*ms, 1, Tokens, 5, 500*ms),
			no(2*sec, 101, Tokens, 300, 58*sec),
			ok(2*sec, 100), // alone in its second, 300 in the minute
		}},
		{name: "retry waits for the minute and the second", perSecond: true, limits: Limits{RPM: 120, TPM: 1000}, steps: []step{
			ok(0, 900), ok(59500*ms, 50),
			// At 59.6 s: minute tokens 950+100 > 1000 free at 60 s (the 900 leaves), but the
			// 50 at 59.5 s fills the second (50+100 > ⌈1000/60⌉ = 17) until 60.5 s.
			no(59600*ms, 100, Tokens, 1000, 900*ms),
			ok(60500*ms, 100),
		}},
	})
}

func TestBurst(t *testing.T) {
	runAdmitCases(t, []admitCase{
		{name: "cold start: floor of half the per-second rate", burst: &BurstRule{}, limits: Limits{RPM: 600}, steps: []step{
			ok(0, 0), ok(0, 0), ok(0, 0), ok(0, 0), ok(0, 0), // ⌈600/120⌉ = 5
			noSec(0, 0, Burst, 5, 1*sec),
			noSec(999*ms, 0, Burst, 5, 1*ms),
			// At 1 s: one request in the second, five before it: allowed max(5, 2·5/59) = 5.
			ok(1*sec, 0), ok(1*sec, 0), ok(1*sec, 0), ok(1*sec, 0), ok(1*sec, 0),
			noSec(1*sec, 0, Burst, 5, 1*sec),
		}},
		{name: "off without a floor or an RPM", burst: &BurstRule{}, limits: Limits{TPM: 1000}, steps: []step{
			ok(0, 1), ok(0, 1), ok(0, 1), ok(0, 1), ok(0, 1), ok(0, 1), ok(0, 1),
		}},
		{name: "per-second refusal comes first", perSecond: true, burst: &BurstRule{Floor: 1}, limits: Limits{RPM: 60}, steps: []step{
			ok(0, 0),
			noSec(1*ms, 0, Requests, 1, 999*ms),
		}},
	})
}

// TestBurstWarm ramps a client up from one request per second: after 59 s at that rate
// the rule (Floor 1, Factor 2) allows two requests in a second, not three.
func TestBurstWarm(t *testing.T) {
	l := &Limiter{Burst: &BurstRule{Floor: 1, Factor: 2}}
	lim := Limits{}
	for i := range 59 {
		admitOK(t, l, lim, 0, time.Duration(i)*sec)
	}
	admitOK(t, l, lim, 0, 59000*ms) // the entry at 58 s is outside (58 s, 59 s]
	admitOK(t, l, lim, 0, 59001*ms) // 2 ≤ 2·59/59
	den := refused(t, l, lim, 0, 59002*ms)
	// Until 60 s the second holds 2 and the 59 s before it 59; at 60 s the entry at 59 s is
	// in the past 59 s and the one at 0 s has gone: the second holds 1 (+1), the past 59.
	want := Denial{Kind: Burst, Window: time.Second, Limit: 2, RetryAfter: 998 * ms}
	if den != want {
		t.Fatalf("got %+v, want %+v", den, want)
	}
	admitOK(t, l, lim, 0, 60*sec)
}

// TestBurstRetryNotMonotone checks a case where the burst rule passes, fails again, then
// passes for good: RetryAfter must be the first passing instant, not the last.
func TestBurstRetryNotMonotone(t *testing.T) {
	rule := &BurstRule{Floor: 1, Factor: 59} // allows max(1, p) in a second after p in 59 s
	setup := func() *Limiter {
		l := &Limiter{} // the rule would refuse the setup itself
		for _, d := range []time.Duration{0, 58800 * ms, 59500 * ms} {
			admitOK(t, l, Limits{}, 0, d)
		}
		l.Burst = rule
		return l
	}
	// At 59.7 s the second holds 58.8 s and 59.5 s (n = 3) and the 59 s before it hold
	// the entry at 0 (p = 1): refused. At 59.8 s, 58.8 s moves to the past: n = 2, p = 2,
	// passes. At 60 s the entry at 0 leaves: n = 2, p = 1, refused until 60.5 s.
	den := refused(t, setup(), Limits{}, 0, 59700*ms)
	if want := (Denial{Kind: Burst, Window: time.Second, Limit: 1, RetryAfter: 100 * ms}); den != want {
		t.Fatalf("at 59.7 s: got %+v, want %+v", den, want)
	}
	den = refused(t, setup(), Limits{}, 0, 60*sec)
	if want := (Denial{Kind: Burst, Window: time.Second, Limit: 1, RetryAfter: 500 * ms}); den != want {
		t.Fatalf("at 60 s: got %+v, want %+v", den, want)
	}
	admitOK(t, setup(), Limits{}, 0, 59800*ms)

	ref := &reference{}
	for _, m := range []int64{0, 58800, 59500} {
		ref.admit(m, Limits{}, 0)
	}
	ref.burst = rule
	if kind, retry := ref.admit(59700, Limits{}, 0); kind != Burst || retry != 100 {
		t.Fatalf("reference: %v %dms", kind, retry)
	}
}

// TestPerSecondLimitRateTokens shows the one case where the per-second rule refuses a
// client at the limit rate (as the package documentation says): requests less than a
// second apart whose tokens exceed ⌈TPM/60⌉ in some second.
func TestPerSecondLimitRateTokens(t *testing.T) {
	lim := Limits{RPM: 90, TPM: 900} // one request every 666.67 ms, 15 tokens per second
	for _, perSecond := range []bool{false, true} {
		l := &Limiter{PerSecond: perSecond}
		refusals := 0
		for k := range int64(300) {
			if _, den := l.Admit(testKey, lim, 10, at(time.Duration(k*int64(time.Minute)/90))); den != nil {
				if !perSecond || den.Kind != Tokens || den.Window != time.Second {
					t.Fatalf("perSecond=%v request %d: %+v", perSecond, k, *den)
				}
				refusals++
			}
		}
		if perSecond != (refusals > 0) {
			t.Fatalf("perSecond=%v: %d refusals", perSecond, refusals)
		}
	}
}
