package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestStateUnknownScope(t *testing.T) {
	l := &Limiter{}
	got := l.State(testKey, Limits{RPM: 600}, t0)
	want := ScopeState{Key: testKey, Limits: Limits{RPM: 600}, RemainingRequests: 600, RemainingTokens: Unlimited}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if l.Scopes() != 0 {
		t.Fatal("State created a scope")
	}
}

func TestState(t *testing.T) {
	l := &Limiter{}
	lim := Limits{RPM: 10, TPM: 1000}
	admitOK(t, l, lim, 100, 0)
	admitOK(t, l, lim, 200, 10*sec)
	last := admitOK(t, l, lim, 300, 20*sec)
	got := l.State(testKey, lim, at(25*sec))
	want := ScopeState{
		Key: testKey, Limits: lim,
		Requests: 3, Tokens: 600,
		RemainingRequests: 7, RemainingTokens: 400,
		ResetRequests: 55 * sec, ResetTokens: 55 * sec,
	}
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	// Settling the newest to zero tokens: the tokens reset when the entry at 10 s leaves.
	l.Settle(last, 0, at(25*sec))
	got = l.State(testKey, lim, at(65*sec))
	want = ScopeState{
		Key: testKey, Limits: lim,
		Requests: 2, Tokens: 200,
		RemainingRequests: 8, RemainingTokens: 800,
		ResetRequests: 15 * sec, ResetTokens: 5 * sec,
	}
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	got = l.State(testKey, lim, at(80*sec))
	if got.Requests != 0 || got.ResetRequests != 0 || got.RemainingRequests != 10 {
		t.Fatalf("empty window: %+v", got)
	}
	if l.Scopes() != 0 {
		t.Fatal("State kept an empty scope")
	}
}

func TestSnapshot(t *testing.T) {
	l := &Limiter{}
	// Key c is first and leaves the window before the snapshot; key i gets i requests.
	keys := []Key{{"c", "old"}, {"b", "qwen3-max"}, {"a", "qwen3-max"}, {"a", "qwen-plus"}}
	for i, k := range keys {
		d := time.Duration(i-1) * sec
		if i == 0 {
			d = -50 * sec
		}
		for range max(i, 1) {
			if _, den := l.Admit(k, Limits{}, 10, at(d)); den != nil {
				t.Fatal(den)
			}
		}
	}
	limits := func(k Key) Limits {
		if k.Account == "a" {
			return Limits{RPM: 100, TPM: 50}
		}
		return Limits{}
	}
	got := l.Snapshot(at(20*sec), limits)
	want := []ScopeState{
		{Key: Key{"a", "qwen-plus"}, Limits: Limits{100, 50}, Requests: 3, Tokens: 30,
			RemainingRequests: 97, RemainingTokens: 20, ResetRequests: 42 * sec, ResetTokens: 42 * sec},
		{Key: Key{"a", "qwen3-max"}, Limits: Limits{100, 50}, Requests: 2, Tokens: 20,
			RemainingRequests: 98, RemainingTokens: 30, ResetRequests: 41 * sec, ResetTokens: 41 * sec},
		{Key: Key{"b", "qwen3-max"}, Requests: 1, Tokens: 10,
			RemainingRequests: Unlimited, RemainingTokens: Unlimited, ResetRequests: 40 * sec, ResetTokens: 40 * sec},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if n := l.Scopes(); n != 3 {
		t.Fatalf("Scopes = %d after Snapshot, want 3 (the empty one dropped)", n)
	}
	if got := l.Snapshot(at(20*sec), nil); len(got) != 3 || got[0].RemainingTokens != Unlimited {
		t.Fatalf("nil limits: %+v", got)
	}
}

func TestReset(t *testing.T) {
	l := &Limiter{}
	lim := Limits{RPM: 1}
	admitOK(t, l, lim, 0, 0)
	refused(t, l, lim, 0, 0)
	l.Reset()
	if l.Scopes() != 0 || len(l.Snapshot(t0, nil)) != 0 {
		t.Fatal("Reset kept scopes")
	}
	admitOK(t, l, lim, 0, 0)
}

// TestSweep checks that idle scopes are dropped by admissions in their shards, even when
// every admission names a new scope.
func TestSweep(t *testing.T) {
	l := &Limiter{}
	for i := range 10_000 {
		l.Admit(Key{fmt.Sprint("old", i), "m"}, Limits{}, 1, t0)
	}
	if n := l.Scopes(); n != 10_000 {
		t.Fatalf("Scopes = %d, want 10000", n)
	}
	for i := range 64_000 {
		l.Admit(Key{fmt.Sprint("new", i%1000), "m"}, Limits{}, 1, at(61*sec))
	}
	if n := l.Scopes(); n != 1000 {
		t.Fatalf("Scopes = %d after the old scopes went idle, want 1000", n)
	}
	// Only new scopes, each admitted once, one every 10 ms: 6,000 are live at any time, and
	// a shard sweeps when its admissions since the last sweep exceed half its scopes plus
	// 64, so it holds at most about twice its live scopes plus 128.
	for i := range 100_000 {
		l.Admit(Key{fmt.Sprint("once", i), "m"}, Limits{}, 1, at(200*sec+time.Duration(i)*10*ms))
	}
	if n := l.Scopes(); n > 2*6000+64*130 {
		t.Fatalf("Scopes = %d: idle scopes are not dropped", n)
	}
}
