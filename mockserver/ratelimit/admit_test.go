package ratelimit

import (
	"testing"
	"time"
)

// step is one call to Admit in a table test. A zero want means "admitted".
type step struct {
	at    time.Duration // offset from t0
	est   int
	want  Kind
	win   time.Duration // expected Denial.Window when refused
	limit int           // expected Denial.Limit when refused
	retry time.Duration // expected Denial.RetryAfter when refused
}

func ok(at time.Duration, est int) step { return step{at: at, est: est} }

func no(at time.Duration, est int, k Kind, limit int, retry time.Duration) step {
	return step{at: at, est: est, want: k, win: time.Minute, limit: limit, retry: retry}
}

func noSec(at time.Duration, est int, k Kind, limit int, retry time.Duration) step {
	return step{at: at, est: est, want: k, win: time.Second, limit: limit, retry: retry}
}

const (
	ms  = time.Millisecond
	sec = time.Second
)

type admitCase struct {
	name      string
	perSecond bool
	burst     *BurstRule
	limits    Limits
	steps     []step
}

func runAdmitCases(t *testing.T, cases []admitCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := &Limiter{PerSecond: c.perSecond, Burst: c.burst}
			for i, s := range c.steps {
				tk, den := l.Admit(testKey, c.limits, s.est, at(s.at))
				switch {
				case s.want == 0 && den != nil:
					t.Fatalf("step %d (at %v est %d): refused %+v, want admitted", i, s.at, s.est, *den)
				case s.want == 0:
					if tk.Key() != testKey {
						t.Fatalf("step %d: ticket key %v", i, tk.Key())
					}
				case den == nil:
					t.Fatalf("step %d (at %v est %d): admitted, want %v", i, s.at, s.est, s.want)
				default:
					want := Denial{Kind: s.want, Window: s.win, Limit: s.limit, RetryAfter: s.retry}
					if *den != want {
						t.Fatalf("step %d (at %v est %d): got %+v, want %+v", i, s.at, s.est, *den, want)
					}
					if tk != (Ticket{}) {
						t.Fatalf("step %d: refusal returned a ticket", i)
					}
				}
			}
		})
	}
}

func TestAdmitMinute(t *testing.T) {
	runAdmitCases(t, []admitCase{
		{name: "requests: retry when the oldest leaves", limits: Limits{RPM: 2}, steps: []step{
			ok(0, 1), ok(10*sec, 1),
			no(20*sec, 1, Requests, 2, 40*sec),
			no(59999*ms, 1, Requests, 2, 1*ms),
			ok(60*sec, 1), // the entry at 0 is exactly 60 s old: out of (t−60s, t]
			no(60*sec, 1, Requests, 2, 10*sec),
			ok(70*sec, 1),
		}},
		{name: "requests: one millisecond is one instant", limits: Limits{RPM: 3}, steps: []step{
			ok(0, 1), ok(300*time.Microsecond, 1), ok(999*time.Microsecond, 1),
			no(1*ms, 1, Requests, 3, 59999*ms),
			no(60*sec-time.Nanosecond, 1, Requests, 3, 1*ms),
			ok(60*sec, 1), ok(60*sec, 1), ok(60*sec+500*time.Microsecond, 1),
			no(60*sec+900*time.Microsecond, 1, Requests, 3, 60*sec),
		}},
		{name: "tokens: retry when enough tokens leave", limits: Limits{TPM: 100}, steps: []step{
			ok(0, 60), ok(5*sec, 30),
			no(10*sec, 20, Tokens, 100, 50*sec),
			no(10*sec, 95, Tokens, 100, 55*sec),
			ok(10*sec, 10), // exactly 100
			no(11*sec, 0+1, Tokens, 100, 49*sec),
			ok(11*sec, 0),
			ok(60*sec, 60),
		}},
		{name: "tokens: estimate above the TPM is never admitted", limits: Limits{RPM: 1, TPM: 100}, steps: []step{
			no(0, 101, Tokens, 100, Never),
			ok(0, 100),
			no(1*sec, 101, Requests, 1, Never), // requests are checked first
			no(1*sec, 100, Requests, 1, 59*sec),
		}},
		{name: "requests are checked before tokens", limits: Limits{RPM: 1, TPM: 10}, steps: []step{
			ok(0, 10),
			no(1*sec, 10, Requests, 1, 59*sec),
			no(1*sec, 0, Requests, 1, 59*sec),
		}},
		{name: "retry waits for every limit", limits: Limits{RPM: 2, TPM: 100}, steps: []step{
			ok(0, 10), ok(1*sec, 90),
			// Requests free up at 60 s, but the 90 tokens stay until 61 s.
			no(2*sec, 50, Requests, 2, 59*sec),
			no(60*sec, 50, Tokens, 100, 1*sec),
			ok(61*sec, 50),
		}},
		{name: "unlimited", limits: Limits{}, steps: []step{
			ok(0, 1e9), ok(0, 1e9), ok(0, 1e9), ok(1*ms, 1e9),
		}},
		{name: "negative limits are unlimited, negative estimates are 0", limits: Limits{RPM: -1, TPM: 10}, steps: []step{
			ok(0, 10), ok(0, -5), ok(0, -1),
			no(0, 1, Tokens, 10, 60*sec),
		}},
		{name: "time never goes backwards", limits: Limits{RPM: 1}, steps: []step{
			ok(10*sec, 1),
			no(5*sec, 1, Requests, 1, 60*sec), // treated as 10 s
			no(69*sec, 1, Requests, 1, 1*sec),
			ok(70*sec, 1),
		}},
	})
}

func TestTicket(t *testing.T) {
	l := &Limiter{}
	tk := admitOK(t, l, Limits{RPM: 5}, 1, 1500*time.Microsecond)
	if got, want := tk.Time(), at(1*ms).Truncate(ms); !got.Equal(want) {
		t.Errorf("Time = %v, want %v", got, want)
	}
	if tk.Key() != testKey {
		t.Errorf("Key = %v", tk.Key())
	}
	// A later call with an earlier time is recorded at the scope's latest instant.
	tk = admitOK(t, l, Limits{RPM: 5}, 1, 0)
	if got, want := tk.Time(), at(1*ms).Truncate(ms); !got.Equal(want) {
		t.Errorf("clamped Time = %v, want %v", got, want)
	}
	// The latest time is the Limiter's, not the scope's: another scope is clamped too.
	tk, den := l.Admit(Key{"other", "m"}, Limits{}, 1, t0.Add(-time.Hour))
	if den != nil || !tk.Time().Equal(at(1*ms).Truncate(ms)) {
		t.Errorf("other scope: Time = %v, %+v", tk.Time(), den)
	}
	var zero Ticket
	if zero.Key() != (Key{}) || !zero.Time().IsZero() {
		t.Errorf("zero ticket: %v %v", zero.Key(), zero.Time())
	}
	if Requests.String() != "requests" || Tokens.String() != "tokens" || Burst.String() != "burst" || Kind(0).String() != "unknown" {
		t.Error("Kind.String")
	}
}

func TestScopesAreIndependent(t *testing.T) {
	l := &Limiter{}
	lim := Limits{RPM: 1, TPM: 10}
	a, b := Key{"a", "qwen3-max"}, Key{"a", "qwen-plus"}
	c := Key{"b", "qwen3-max"}
	for _, k := range []Key{a, b, c} {
		if _, den := l.Admit(k, lim, 10, t0); den != nil {
			t.Fatalf("%v: refused %+v", k, *den)
		}
	}
	for _, k := range []Key{a, b, c} {
		if _, den := l.Admit(k, lim, 1, t0); den == nil || den.Kind != Requests {
			t.Fatalf("%v: second request not refused for requests: %+v", k, den)
		}
	}
	// Limits can change between calls; the window stays.
	if _, den := l.Admit(a, Limits{RPM: 2, TPM: 20}, 10, t0); den != nil {
		t.Fatalf("raised limits: refused %+v", *den)
	}
	if _, den := l.Admit(a, Limits{RPM: 3, TPM: 25}, 10, t0); den == nil || den.Kind != Tokens || den.RetryAfter != time.Minute {
		t.Fatalf("tokens after raising: %+v", den)
	}
}
