package ratelimit

import (
	"testing"
	"time"
)

// usage returns the requests and tokens of testKey's window at d.
func usage(l *Limiter, d time.Duration) (int, int) {
	st := l.State(testKey, Limits{}, at(d))
	return st.Requests, st.Tokens
}

func TestSettleSmaller(t *testing.T) {
	l := &Limiter{}
	lim := Limits{TPM: 100}
	tk := admitOK(t, l, lim, 80, 0)
	refused(t, l, lim, 70, 1*sec)
	if !l.Settle(tk, 30, at(1*sec)) {
		t.Fatal("Settle reported expired")
	}
	if r, tok := usage(l, 1*sec); r != 1 || tok != 30 {
		t.Fatalf("usage = %d requests, %d tokens; want 1, 30", r, tok)
	}
	admitOK(t, l, lim, 70, 1*sec) // exactly 100
}

func TestSettleLarger(t *testing.T) {
	l := &Limiter{}
	lim := Limits{TPM: 100}
	tk := admitOK(t, l, lim, 50, 0)
	l.Settle(tk, 120, at(0))
	st := l.State(testKey, lim, at(1*sec))
	if st.Tokens != 120 || st.RemainingTokens != 0 {
		t.Fatalf("state = %+v; want 120 tokens, 0 remaining", st)
	}
	den := refused(t, l, lim, 0, 1*sec)
	if den.Kind != Tokens || den.RetryAfter != 59*sec {
		t.Fatalf("got %+v; want tokens, 59s", den)
	}
	admitOK(t, l, lim, 100, 60*sec)
}

func TestSettleAfterExpiry(t *testing.T) {
	l := &Limiter{}
	lim := Limits{TPM: 100}
	tk := admitOK(t, l, lim, 50, 0)
	admitOK(t, l, lim, 10, 30*sec)
	if l.Settle(tk, 99, at(60*sec)) {
		t.Fatal("Settle applied to an entry that left the window")
	}
	if r, tok := usage(l, 60*sec); r != 1 || tok != 10 {
		t.Fatalf("usage = %d, %d; want 1, 10", r, tok)
	}
	// A scope dropped (empty) and recreated: the old ticket is dead.
	tk = admitOK(t, l, lim, 10, 100*sec)
	if _, tok := usage(l, 200*sec); tok != 0 {
		t.Fatalf("tokens = %d after the window emptied", tok)
	}
	admitOK(t, l, lim, 10, 200*sec)
	if l.Settle(tk, 99, at(200*sec)) {
		t.Fatal("Settle applied to a dropped scope")
	}
	if l.Settle(Ticket{}, 1, at(0)) {
		t.Fatal("Settle applied the zero Ticket")
	}
}

func TestSettleTwice(t *testing.T) {
	l := &Limiter{}
	lim := Limits{TPM: 1000}
	tk := admitOK(t, l, lim, 100, 0)
	copied := tk
	for _, c := range []struct {
		actual, want int
		tk           Ticket
	}{
		{30, 30, tk},
		{30, 30, tk},     // same value again: no change
		{40, 40, copied}, // a new value replaces the first
		{-5, 0, tk},      // negative counts as 0
		{500, 500, tk},
	} {
		if !l.Settle(c.tk, c.actual, at(1*sec)) {
			t.Fatalf("Settle(%d) reported expired", c.actual)
		}
		if _, tok := usage(l, 1*sec); tok != c.want {
			t.Fatalf("after Settle(%d): tokens = %d, want %d", c.actual, tok, c.want)
		}
	}
}

func TestSettleMergedEntry(t *testing.T) {
	l := &Limiter{}
	lim := Limits{TPM: 1000}
	a := admitOK(t, l, lim, 50, 0)
	b := admitOK(t, l, lim, 50, 200*time.Microsecond) // same millisecond: one entry
	c := admitOK(t, l, lim, 50, 5*sec)
	l.Settle(a, 10, at(6*sec))
	l.Settle(b, 20, at(6*sec))
	if r, tok := usage(l, 6*sec); r != 3 || tok != 80 {
		t.Fatalf("usage = %d, %d; want 3, 80", r, tok)
	}
	if r, tok := usage(l, 60*sec); r != 1 || tok != 50 {
		t.Fatalf("after the merged entry left: %d, %d; want 1, 50", r, tok)
	}
	l.Settle(c, 5, at(60*sec))
	if _, tok := usage(l, 60*sec); tok != 5 {
		t.Fatalf("tokens = %d, want 5", tok)
	}
}

// TestSettleSecondWindow checks that settling adjusts the second window only while the
// entry is in it.
func TestSettleSecondWindow(t *testing.T) {
	l := &Limiter{PerSecond: true}
	lim := Limits{TPM: 6000} // 100 tokens per second
	tk := admitOK(t, l, lim, 90, 0)
	refused(t, l, lim, 20, 10*ms)
	l.Settle(tk, 50, at(10*ms))
	admitOK(t, l, lim, 20, 10*ms) // 50+20 ≤ 100

	l.Reset()
	tk = admitOK(t, l, lim, 90, 0)
	l.Settle(tk, 10, at(1500*ms)) // the entry is out of the second window by now
	admitOK(t, l, lim, 60, 1500*ms)
	admitOK(t, l, lim, 40, 1600*ms) // 100 in the second
	den := refused(t, l, lim, 1, 1700*ms)
	if den.Kind != Tokens || den.Window != time.Second || den.RetryAfter != 800*ms {
		t.Fatalf("got %+v; want tokens per second, 800ms", den)
	}
	if _, tok := usage(l, 1700*ms); tok != 110 {
		t.Fatalf("minute tokens = %d, want 110", tok)
	}
}

func TestSettleAfterReset(t *testing.T) {
	l := &Limiter{}
	tk := admitOK(t, l, Limits{}, 10, 0)
	l.Reset()
	admitOK(t, l, Limits{}, 10, 0) // a new scope with an entry at the same instant
	if l.Settle(tk, 500, at(0)) {
		t.Fatal("Settle applied a ticket from before Reset")
	}
	if _, tok := usage(l, 0); tok != 10 {
		t.Fatalf("tokens = %d, want 10", tok)
	}
}
