package mockserver

import (
	"net/http"
	"testing"

	"github.com/qwenmock/qwenmock/mockserver/ratelimit"
)

// TestFaultsAfterIdle checks that a fault queued, or a rate set, after requests found the
// queue idle (without its lock) is served to the next request.
func TestFaultsAfterIdle(t *testing.T) {
	srv := newTestHandler(t)
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}]}`
	for range 3 {
		if rec := chat(t, srv, body); rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
	}
	if !srv.faults.idle.Load() {
		t.Fatal("the queue is not known idle after requests without faults")
	}
	if err := srv.FailNext(2, "internal"); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{500, 500, 200} {
		if rec := chat(t, srv, body); rec.Code != want {
			t.Fatalf("request %d after FailNext: status %d, want %d", i, rec.Code, want)
		}
	}
	if err := srv.SetFaultRate(1); err != nil {
		t.Fatal(err)
	}
	if rec := chat(t, srv, body); rec.Code == http.StatusOK {
		t.Fatal("fault rate 1 set while idle: the request succeeded")
	}
	if err := srv.SetFaultRate(0); err != nil {
		t.Fatal(err)
	}
	if rec := chat(t, srv, body); rec.Code != http.StatusOK {
		t.Fatalf("fault rate 0: status %d", rec.Code)
	}
}

// TestScopeLRUFront checks the LRU with its lock-free front: the order, the scope dropped
// past the bound, and a bound of zero.
func TestScopeLRUFront(t *testing.T) {
	k := func(s string) ratelimit.Key { return ratelimit.Key{Account: s, Model: "m"} }
	l := &scopeLRU{max: 2}
	for _, s := range []string{"a", "b", "a", "a"} {
		if _, drop := l.touch(k(s)); drop {
			t.Fatalf("%s dropped a scope under the bound", s)
		}
	}
	// Order now: a (front), b. A new scope drops the least recent, b.
	if old, drop := l.touch(k("c")); !drop || old != k("b") {
		t.Fatalf("dropped %v %v, want b", old, drop)
	}
	if old, drop := l.touch(k("a")); drop {
		t.Fatalf("a dropped %v", old)
	}
	if old, drop := l.touch(k("d")); !drop || old != k("c") {
		t.Fatalf("dropped %v %v, want c", old, drop)
	}
	l.clear()
	if _, drop := l.touch(k("d")); drop {
		t.Fatal("a drop after clear")
	}
	if _, ok := l.byKey[k("d")]; !ok {
		t.Fatal("the front before clear was not tracked again")
	}
	z := &scopeLRU{max: 0}
	for range 2 {
		if old, drop := z.touch(k("x")); !drop || old != k("x") {
			t.Fatalf("bound 0: dropped %v %v, want x each time", old, drop)
		}
	}
}
