package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
)

var bg = context.Background()

// traceConfig is one rule set the differential test runs under: estimates up to maxEst,
// small steps of time up to gap.
type traceConfig struct {
	name      string
	perSecond bool
	burst     *BurstRule
	limits    Limits
	maxEst    int
	gap       time.Duration
}

var traceConfigs = []traceConfig{
	{name: "rpm", limits: Limits{RPM: 5}, maxEst: 50, gap: 1500 * time.Millisecond},
	{name: "tpm", limits: Limits{TPM: 400}, maxEst: 100, gap: 1500 * time.Millisecond},
	{name: "rpm+tpm", limits: Limits{RPM: 8, TPM: 600}, maxEst: 150, gap: 1500 * time.Millisecond},
	{name: "per-second", perSecond: true, limits: Limits{RPM: 120, TPM: 12000}, maxEst: 150, gap: 400 * time.Millisecond},
	{name: "per-second tokens only", perSecond: true, limits: Limits{TPM: 3000}, maxEst: 60, gap: 300 * time.Millisecond},
	{name: "burst", burst: &BurstRule{}, limits: Limits{RPM: 600, TPM: 100000}, maxEst: 10, gap: 150 * time.Millisecond},
	{name: "burst with floor and factor", burst: &BurstRule{Floor: 2, Factor: 3}, limits: Limits{TPM: 50000}, maxEst: 10, gap: 300 * time.Millisecond},
	{name: "everything", perSecond: true, burst: &BurstRule{}, limits: Limits{RPM: 240, TPM: 8000}, maxEst: 60, gap: 200 * time.Millisecond},
}

// TestRedisMatchesMemory replays random traces (admissions of several scopes with random
// estimates, settlements, state and snapshot reads, time moving in small and large steps)
// on the in-memory Limiter and on the Redis backend, and requires the same answer from
// both at every step: the same decisions, Denials (kind, window, limit, RetryAfter), ticket
// instants, settle results and states.
func TestRedisMatchesMemory(t *testing.T) {
	for _, st := range stores(t) {
		for _, cfg := range traceConfigs {
			t.Run(st.name+"/"+cfg.name, func(t *testing.T) {
				// gopher-lua in miniredis is slower than Redis: shorter traces there.
				steps, seeds := 400, uint64(3)
				if st.mini != nil {
					steps, seeds = 250, 2
				}
				if testing.Short() {
					steps = 100
				}
				for seed := uint64(1); seed <= seeds; seed++ {
					replay(t, st, cfg, seed, steps)
				}
			})
		}
	}
}

func replay(t *testing.T, st store, cfg traceConfig, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 42))
	var now time.Time = t0
	mem := NewLocal(&Limiter{PerSecond: cfg.perSecond, Burst: cfg.burst}, func() time.Time { return now })
	// The traces compare answers, not latency: a generous Timeout keeps a starved CPU
	// (the race detector on a shared machine, miniredis's Lua) from failing a call.
	rb := newRedisBackend(t, st, RedisOptions{PerSecond: cfg.perSecond, Burst: cfg.burst, Timeout: 10 * time.Second})
	keys := []Key{{"key:a", "qwen3-max"}, {"key:a", "qwen-plus"}, {"account:team", "qwen3-max"}}
	limitsOf := func(Key) Limits { return cfg.limits }
	type pair struct{ m, r Ticket }
	var tickets []pair
	maxEst := cfg.maxEst
	for i := range steps {
		switch r := rng.IntN(100); {
		case r < 3:
			now = now.Add(time.Duration(20_000+rng.IntN(60_000)) * time.Millisecond)
		case r < 50:
			now = now.Add(time.Duration(rng.Int64N(int64(cfg.gap))).Truncate(time.Millisecond))
		case r < 60:
			now = now.Add(time.Duration(rng.IntN(1000)) * time.Microsecond)
		}
		freeze(t, rb, now)
		key := keys[rng.IntN(len(keys))]
		switch r := rng.IntN(100); {
		case r < 70:
			req := Request{Key: key, Limits: cfg.limits, Estimate: rng.IntN(maxEst + 1), State: rng.IntN(2) == 0}
			if rng.IntN(50) == 0 {
				req.Estimate = cfg.limits.TPM + 1
			}
			ma, _ := mem.Admit(bg, req)
			ra, err := rb.Admit(bg, req)
			if err != nil {
				t.Fatalf("seed %d step %d: %v", seed, i, err)
			}
			if !reflect.DeepEqual(ma.Denial, ra.Denial) {
				t.Fatalf("seed %d step %d at %v %+v: memory %+v, redis %+v", seed, i, now.Sub(t0), req, ma.Denial, ra.Denial)
			}
			if req.State && ma.State != ra.State {
				t.Fatalf("seed %d step %d: state after admit: memory %+v, redis %+v", seed, i, ma.State, ra.State)
			}
			if ma.Admitted() {
				if !ma.Ticket.Time().Equal(ra.Ticket.Time()) || ra.Ticket.Key() != key {
					t.Fatalf("seed %d step %d: ticket memory %v, redis %v %v", seed, i, ma.Ticket.Time(), ra.Ticket.Time(), ra.Ticket.Key())
				}
				tickets = append(tickets, pair{ma.Ticket, ra.Ticket})
			}
		case r < 85 && len(tickets) > 0:
			p := tickets[len(tickets)-1-rng.IntN(min(len(tickets), 10))]
			actual := rng.IntN(maxEst*2 + 1)
			ms, _ := mem.Settle(bg, p.m, actual)
			rs, err := rb.Settle(bg, p.r, actual)
			if err != nil || ms != rs {
				t.Fatalf("seed %d step %d: settle memory %v, redis %v %v", seed, i, ms, rs, err)
			}
		case r < 95:
			ms, _ := mem.State(bg, key, cfg.limits)
			rs, err := rb.State(bg, key, cfg.limits)
			if err != nil || ms != rs {
				t.Fatalf("seed %d step %d: state memory %+v, redis %+v %v", seed, i, ms, rs, err)
			}
		default:
			ms, _ := mem.Snapshot(bg, limitsOf)
			rs, err := rb.Snapshot(bg, limitsOf)
			if err != nil || !reflect.DeepEqual(ms, rs) {
				t.Fatalf("seed %d step %d: snapshot memory %+v, redis %+v %v", seed, i, ms, rs, err)
			}
		}
	}
}

// TestRedisReserveSettle is the reserve-then-settle sequence on one scope: the estimate
// counts from admission, the settled value replaces it, and a settlement after the entry
// left the window changes nothing.
func TestRedisReserveSettle(t *testing.T) {
	for _, st := range stores(t) {
		t.Run(st.name, func(t *testing.T) {
			b := newRedisBackend(t, st, RedisOptions{})
			lim := Limits{TPM: 10000}
			freeze(t, b, t0)
			first, err := b.Admit(bg, Request{Key: testKey, Limits: lim, Estimate: 6000})
			if err != nil || !first.Admitted() {
				t.Fatalf("first: %+v %v", first, err)
			}
			second, _ := b.Admit(bg, Request{Key: testKey, Limits: lim, Estimate: 6000})
			want := &Denial{Kind: Tokens, Window: time.Minute, Limit: 10000, RetryAfter: time.Minute}
			if !reflect.DeepEqual(second.Denial, want) {
				t.Fatalf("second: %+v, want %+v", second.Denial, want)
			}
			if ok, err := b.Settle(bg, first.Ticket, 1500); !ok || err != nil {
				t.Fatalf("settle: %v %v", ok, err)
			}
			if ok, _ := b.Settle(bg, first.Ticket, 1500); !ok { // the same value again: no change
				t.Fatal("second settle")
			}
			third, _ := b.Admit(bg, Request{Key: testKey, Limits: lim, Estimate: 6000, State: true})
			if !third.Admitted() || third.State.Tokens != 7500 || third.State.Requests != 2 || third.State.RemainingTokens != 2500 {
				t.Fatalf("third: %+v", third)
			}
			if _, err := b.Advance(bg, time.Minute); err != nil {
				t.Fatal(err)
			}
			if ok, _ := b.Settle(bg, third.Ticket, 1); ok {
				t.Fatal("settled an entry that left the window")
			}
			if ok, _ := b.Settle(bg, Ticket{}, 1); ok {
				t.Fatal("settled the zero ticket")
			}
			s, err := b.State(bg, testKey, lim)
			if err != nil || s.Requests != 0 || s.Tokens != 0 || s.RemainingTokens != 10000 {
				t.Fatalf("state after the window: %+v %v", s, err)
			}
		})
	}
}

// TestRedisSharedAcrossReplicas: two backends on one server, as two replicas would be.
// An admission on one counts on the other; Advance on one moves the other's clock; a
// ticket from one settles on the other; Reset on one clears both.
func TestRedisSharedAcrossReplicas(t *testing.T) {
	for _, st := range stores(t) {
		t.Run(st.name, func(t *testing.T) {
			a := newRedisBackend(t, st, RedisOptions{})
			b := newRedisBackend(t, st, RedisOptions{Prefix: a.opt.Prefix})
			lim := Limits{RPM: 3, TPM: 1000}
			freeze(t, a, t0)
			var tk Ticket
			for i, r := range []*Redis{a, b, a} {
				adm, err := r.Admit(bg, Request{Key: testKey, Limits: lim, Estimate: 100})
				if err != nil || !adm.Admitted() {
					t.Fatalf("admission %d: %+v %v", i, adm, err)
				}
				tk = adm.Ticket
			}
			adm, _ := b.Admit(bg, Request{Key: testKey, Limits: lim, Estimate: 100})
			if adm.Denial == nil || adm.Denial.Kind != Requests || adm.Denial.RetryAfter != time.Minute {
				t.Fatalf("fourth on b: %+v", adm.Denial)
			}
			if ok, err := b.Settle(bg, tk, 400); !ok || err != nil { // admitted on a
				t.Fatalf("settle on b: %v %v", ok, err)
			}
			if s, _ := a.State(bg, testKey, lim); s.Tokens != 600 {
				t.Fatalf("tokens seen on a after settling on b: %+v", s)
			}
			off, err := a.Advance(bg, 30*time.Second)
			if err != nil || off != 30*time.Second {
				t.Fatalf("advance: %v %v", off, err)
			}
			if now, off, err := b.Now(bg); err != nil || !now.Equal(t0.Add(30*time.Second).Truncate(time.Microsecond)) || off != 30*time.Second {
				t.Fatalf("b's clock: %v %v %v", now, off, err)
			}
			adm, _ = b.Admit(bg, Request{Key: testKey, Limits: lim, Estimate: 100})
			if adm.Denial == nil || adm.Denial.RetryAfter != 30*time.Second || adm.Offset != 30*time.Second {
				t.Fatalf("after advancing a: %+v", adm)
			}
			a.Advance(bg, 30*time.Second)
			if adm, _ = b.Admit(bg, Request{Key: testKey, Limits: lim, Estimate: 100}); !adm.Admitted() {
				t.Fatalf("after the window: %+v", adm.Denial)
			}
			snap, _ := a.Snapshot(bg, nil)
			if len(snap) != 1 || snap[0].Requests != 1 {
				t.Fatalf("snapshot: %+v", snap)
			}
			if err := b.Reset(bg); err != nil {
				t.Fatal(err)
			}
			if snap, _ := a.Snapshot(bg, nil); len(snap) != 0 {
				t.Fatalf("snapshot after reset: %+v", snap)
			}
			for range 3 {
				if adm, _ := a.Admit(bg, Request{Key: testKey, Limits: lim, Estimate: 100}); !adm.Admitted() {
					t.Fatalf("after reset: %+v", adm.Denial)
				}
			}
			if ok, _ := a.Settle(bg, tk, 1); ok {
				t.Fatal("a ticket from before the reset settled")
			}
			if _, off, _ := a.Now(bg); off != time.Minute {
				t.Fatalf("reset moved the clock: offset %v", off)
			}
		})
	}
}

// TestRedisPrefixesAreSeparate: deployments with different prefixes share nothing.
func TestRedisPrefixesAreSeparate(t *testing.T) {
	st := stores(t)[0]
	a := newRedisBackend(t, st, RedisOptions{Prefix: "one:"})
	b := newRedisBackend(t, st, RedisOptions{Prefix: "two:"})
	lim := Limits{RPM: 1}
	for _, r := range []*Redis{a, b} {
		if adm, err := r.Admit(bg, Request{Key: testKey, Limits: lim}); err != nil || !adm.Admitted() {
			t.Fatalf("%+v %v", adm, err)
		}
	}
}

// TestRedisRealClock runs on Redis TIME (not frozen): miniredis's SetTime moves it. The
// keys expire with their window, and the index with them.
func TestRedisRealClock(t *testing.T) {
	st := stores(t)[0]
	m := st.mini
	m.SetTime(t0)
	b := newRedisBackend(t, st, RedisOptions{})
	lim := Limits{RPM: 2}
	for range 2 {
		if adm, _ := b.Admit(bg, Request{Key: testKey, Limits: lim, Estimate: 5}); !adm.Admitted() || !adm.Now.Equal(t0) {
			t.Fatalf("%+v", adm)
		}
	}
	m.SetTime(t0.Add(10 * time.Second))
	adm, _ := b.Admit(bg, Request{Key: testKey, Limits: lim})
	if adm.Denial == nil || adm.Denial.RetryAfter != 50*time.Second {
		t.Fatalf("%+v", adm.Denial)
	}
	for _, k := range b.keys(testKey)[1:] {
		if ttl := m.TTL(k); ttl != keyTTL {
			t.Errorf("TTL of %s = %v, want %v", k, ttl, keyTTL)
		}
	}
	m.SetTime(t0.Add(60 * time.Second))
	if adm, _ := b.Admit(bg, Request{Key: testKey, Limits: lim}); !adm.Admitted() {
		t.Fatalf("%+v", adm.Denial)
	}
	// Once its entries leave the window, the cost hash goes with them.
	m.SetTime(t0.Add(121 * time.Second))
	if s, _ := b.State(bg, testKey, lim); s.Requests != 0 {
		t.Fatalf("%+v", s)
	}
	if m.Exists(b.keys(testKey)[2]) || m.Exists(b.keys(testKey)[3]) {
		t.Errorf("keys left: %v", m.Keys())
	}
}

// TestRedisFrozenClockKeepsKeys: while the clock is frozen the keys do not expire in
// real time, since the window has not moved.
func TestRedisFrozenClockKeepsKeys(t *testing.T) {
	st := stores(t)[0]
	b := newRedisBackend(t, st, RedisOptions{})
	freeze(t, b, t0)
	b.Admit(bg, Request{Key: testKey, Limits: Limits{RPM: 1}})
	st.mini.FastForward(time.Hour)
	if adm, _ := b.Admit(bg, Request{Key: testKey, Limits: Limits{RPM: 1}}); adm.Denial == nil {
		t.Fatal("the frozen window lost its entry")
	}
	if err := b.Freeze(bg, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if now, _, _ := b.Now(bg); now.Before(time.Now().Add(-time.Minute)) {
		t.Fatalf("unfrozen clock reads %v", now)
	}
}

// TestRedisRetryDoesNotDoubleCount loses the reply of the first admission script run
// after Redis executed it; the backend runs it again with the same reservation id, which
// finds its own entry: the request counts once, and is admitted at its first instant.
func TestRedisRetryDoesNotDoubleCount(t *testing.T) {
	for _, st := range stores(t) {
		t.Run(st.name, func(t *testing.T) {
			b := newRedisBackend(t, st, RedisOptions{})
			freeze(t, b, t0)
			loseFirstReply(b)
			adm, err := b.Admit(bg, Request{Key: testKey, Limits: Limits{RPM: 2, TPM: 100}, Estimate: 30, State: true})
			if err != nil || !adm.Admitted() {
				t.Fatalf("%+v %v", adm, err)
			}
			if adm.State.Requests != 1 || adm.State.Tokens != 30 {
				t.Fatalf("after a retried admission: %+v", adm.State)
			}
			if !adm.Ticket.Time().Equal(t0) {
				t.Fatalf("ticket time %v", adm.Ticket.Time())
			}
		})
	}
}

// loseFirstReply makes b's connections run the first EVAL/EVALSHA on the server and then
// report a network error, as if the connection dropped before the reply came. It drops
// the pooled connections, so that every later one is dialled through it.
func loseFirstReply(b *Redis) {
	old := b.pool
	lost := false
	b.pool = &redis.Pool{
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			c, err := old.DialContext(ctx)
			if err != nil {
				return nil, err
			}
			return &lossyConn{ConnWithTimeout: c.(redis.ConnWithTimeout), lost: &lost}, nil
		},
		MaxActive: old.MaxActive, MaxIdle: old.MaxIdle, Wait: true,
	}
	old.Close()
}

type lossyConn struct {
	redis.ConnWithTimeout
	lost *bool
}

func (c *lossyConn) Do(cmd string, args ...any) (any, error) {
	v, err := c.ConnWithTimeout.Do(cmd, args...)
	return c.lose(cmd, v, err)
}

func (c *lossyConn) DoWithTimeout(t time.Duration, cmd string, args ...any) (any, error) {
	v, err := c.ConnWithTimeout.DoWithTimeout(t, cmd, args...)
	return c.lose(cmd, v, err)
}

func (c *lossyConn) lose(cmd string, v any, err error) (any, error) {
	if !*c.lost && err == nil && (cmd == "EVALSHA" || cmd == "EVAL") {
		*c.lost = true
		return nil, errLostReply
	}
	return v, err
}

var errLostReply = &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}

// TestRedisFailClosed: with Redis gone, every operation fails with ErrUnavailable within
// the Timeout, one log line says so, and the backend recovers by itself when Redis
// returns.
func TestRedisFailClosed(t *testing.T) {
	st := stores(t)[0]
	var logs logBuffer
	b := newRedisBackend(t, st, RedisOptions{Timeout: 200 * time.Millisecond, Logger: logs.logger()})
	lim := Limits{RPM: 2}
	if adm, err := b.Admit(bg, Request{Key: testKey, Limits: lim}); err != nil || !adm.Admitted() {
		t.Fatalf("%+v %v", adm, err)
	}
	st.mini.Close()
	for range 3 {
		adm, err := b.Admit(bg, Request{Key: testKey, Limits: lim})
		if !errors.Is(err, ErrUnavailable) || adm.Admitted() && adm.Ticket != (Ticket{}) {
			t.Fatalf("with redis down: %+v %v", adm, err)
		}
	}
	if _, err := b.Settle(bg, Ticket{r: &reservation{key: testKey, id: "x"}}, 1); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("settle: %v", err)
	}
	for _, f := range []func() error{
		func() error { _, err := b.State(bg, testKey, lim); return err },
		func() error { _, err := b.Snapshot(bg, nil); return err },
		func() error { return b.Reset(bg) },
		func() error { _, err := b.Advance(bg, time.Second); return err },
		func() error { _, _, err := b.Now(bg); return err },
	} {
		if err := f(); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("%v", err)
		}
	}
	if !b.Down() {
		t.Fatal("Down() = false")
	}
	if n := strings.Count(logs.String(), "redis unreachable"); n != 1 {
		t.Fatalf("%d 'unreachable' lines:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "requests are refused with 503") {
		t.Fatalf("log: %s", logs.String())
	}
	if err := st.mini.Restart(); err != nil {
		t.Fatal(err)
	}
	// The server restarted empty (no persistence): the window starts again.
	var adm Admission
	var err error
	for range 50 { // the pool may hold connections to the old server; they fail once
		if adm, err = b.Admit(bg, Request{Key: testKey, Limits: lim}); err == nil {
			break
		}
	}
	if err != nil || !adm.Admitted() || b.Down() {
		t.Fatalf("after restart: %+v %v", adm, err)
	}
	if !strings.Contains(logs.String(), "redis reachable again") {
		t.Fatalf("log: %s", logs.String())
	}
}

// TestRedisFailOpen: with FailOpen, admissions pass unchecked while Redis is gone.
func TestRedisFailOpen(t *testing.T) {
	st := stores(t)[0]
	var logs logBuffer
	b := newRedisBackend(t, st, RedisOptions{Timeout: 200 * time.Millisecond, FailOpen: true, Logger: logs.logger()})
	st.mini.Close()
	for range 3 {
		adm, err := b.Admit(bg, Request{Key: testKey, Limits: Limits{RPM: 1}})
		if err != nil || !adm.Admitted() || !adm.Unchecked || adm.Ticket != (Ticket{}) {
			t.Fatalf("%+v %v", adm, err)
		}
	}
	if !strings.Contains(logs.String(), "let through unchecked") {
		t.Fatalf("log: %s", logs.String())
	}
}

// TestRedisSlowServer: a server that accepts connections but never answers fails every
// call with ErrUnavailable once the Timeout runs out, instead of hanging.
func TestRedisSlowServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { // read and never answer
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	b, err := NewRedis(RedisOptions{URL: "redis://" + l.Addr().String(), Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Admit(bg, Request{Key: testKey, Limits: Limits{RPM: 1}}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("%v", err)
	}
	if err := b.Ping(bg); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("%v", err)
	}
}

func TestRedisBadURL(t *testing.T) {
	if _, err := NewRedis(RedisOptions{URL: "http://x"}); err == nil {
		t.Fatal("accepted http://")
	}
}

func TestScopeName(t *testing.T) {
	for _, k := range []Key{{}, {"a", "b"}, {"key:sk-1:2", ":m:"}, {"αβ", "{x}"}} {
		got, ok := parseScopeName(scopeName(k))
		if !ok || got != k {
			t.Errorf("%+v → %q → %+v %v", k, scopeName(k), got, ok)
		}
	}
	for _, s := range []string{"", "x", "5:ab", "-1:a"} {
		if _, ok := parseScopeName(s); ok {
			t.Errorf("%q parsed", s)
		}
	}
}

// TestRedisSnapshotAfterScriptFlush: a server that lost its scripts (SCRIPT FLUSH, as
// after a restart) answers the pipelined reads of Snapshot with NOSCRIPT; the backend
// loads the script again and repeats them.
func TestRedisSnapshotAfterScriptFlush(t *testing.T) {
	for _, st := range stores(t) {
		t.Run(st.name, func(t *testing.T) {
			b := newRedisBackend(t, st, RedisOptions{})
			freeze(t, b, t0)
			lim := Limits{RPM: 10, TPM: 1000}
			keys := []Key{{"key:b", "qwen3-max"}, {"key:a", "qwen-plus"}, {"key:a", "qwen3-max"}}
			for i, k := range keys {
				for range i + 1 {
					if adm, err := b.Admit(bg, Request{Key: k, Limits: lim, Estimate: 7}); err != nil || !adm.Admitted() {
						t.Fatalf("%+v %v", adm, err)
					}
				}
			}
			c := b.pool.Get()
			_, err := c.Do("SCRIPT", "FLUSH")
			c.Close()
			if err != nil {
				t.Fatal(err)
			}
			snap, err := b.Snapshot(bg, func(Key) Limits { return lim })
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range snap {
				got = append(got, fmt.Sprintf("%s/%s %d %d", s.Key.Account, s.Key.Model, s.Requests, s.Tokens))
			}
			want := []string{"key:a/qwen-plus 2 14", "key:a/qwen3-max 3 21", "key:b/qwen3-max 1 7"}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("snapshot %q, want %q", got, want)
			}
			if b.Down() {
				t.Fatal("Down() after a reloaded script")
			}
		})
	}
}

// TestParseRedisURL: the URL forms and options RedisOptions.URL accepts, and the ones it
// refuses.
func TestParseRedisURL(t *testing.T) {
	for _, c := range []struct {
		url, network, address string
		size, idle            int
		dial, idleTimeout     time.Duration
		tls                   bool
	}{
		{url: "redis://", network: "tcp", address: "localhost:6379"},
		{url: "redis://10.0.0.1", network: "tcp", address: "10.0.0.1:6379"},
		{url: "redis://:pw@h:7000/3", network: "tcp", address: "h:7000"},
		{url: "redis://u:pw@[::1]:7000/0?dial_timeout=200ms&pool_size=50&max_idle_conns=5&conn_max_idle_time=2", network: "tcp", address: "[::1]:7000",
			size: 50, idle: 5, dial: 200 * time.Millisecond, idleTimeout: 2 * time.Second},
		{url: "rediss://h:6380?skip_verify=true", network: "tcp", address: "h:6380", tls: true},
		{url: "unix:///run/redis.sock?db=2&client_name=qm", network: "unix", address: "/run/redis.sock"},
	} {
		u, err := parseRedisURL(c.url)
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if u.network != c.network || u.address != c.address || u.poolSize != c.size || u.maxIdle != c.idle ||
			u.dialTimeout != c.dial || u.idleTimeout != c.idleTimeout || u.tls != c.tls {
			t.Errorf("%s: %+v", c.url, u)
		}
	}
	for _, bad := range []string{"http://x", "x", "redis://h/x", "redis://h/-1", "redis://h/1/2", "unix://",
		"redis://h?pool_size=0", "redis://h?dial_timeout=soon", "redis://h?skip_verify=true", "redis://h?protocol=3",
		"rediss://h?skip_verify=maybe", "unix:///s?db=x"} {
		if _, err := parseRedisURL(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	p := (&redisURL{network: "tcp", address: "h:1"}).pool(time.Second)
	if p.MaxActive != 10*runtime.GOMAXPROCS(0) || p.MaxIdle != p.MaxActive || !p.Wait || p.IdleTimeout != defaultIdleTimeout {
		t.Errorf("default pool: MaxActive %d MaxIdle %d Wait %v IdleTimeout %v", p.MaxActive, p.MaxIdle, p.Wait, p.IdleTimeout)
	}
	u, _ := parseRedisURL("redis://h?pool_size=4&max_idle_conns=9&conn_max_idle_time=-1")
	if p := u.pool(time.Second); p.MaxActive != 4 || p.MaxIdle != 4 || p.IdleTimeout != 0 {
		t.Errorf("pool_size=4: MaxActive %d MaxIdle %d IdleTimeout %v", p.MaxActive, p.MaxIdle, p.IdleTimeout)
	}
}

// TestRedisURLDatabase: the database of the URL is the one the backend writes to.
func TestRedisURLDatabase(t *testing.T) {
	st := stores(t)[0]
	b := newRedisBackend(t, store{name: st.name, url: st.url + "/3", mini: st.mini}, RedisOptions{Prefix: "db:"})
	if adm, err := b.Admit(bg, Request{Key: testKey, Limits: Limits{RPM: 1}}); err != nil || !adm.Admitted() {
		t.Fatalf("%+v %v", adm, err)
	}
	st.mini.Select(3)
	if !st.mini.Exists(b.keys(testKey)[2]) {
		t.Fatalf("keys in db 3: %v", st.mini.Keys())
	}
	st.mini.Select(0)
	if len(st.mini.Keys()) != 0 {
		t.Fatalf("keys in db 0: %v", st.mini.Keys())
	}
}
