package ratelimit

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
)

// benchBackends returns the in-memory backend and a Redis backend on a real server: the
// one QWENMOCK_BENCH_REDIS_URL names, or else one started on a Unix socket when
// redis-server is installed (miniredis would measure gopher-lua, not Redis).
func benchBackends(b *testing.B) []struct {
	name string
	be   Backend
} {
	out := []struct {
		name string
		be   Backend
	}{{"local", NewLocal(&Limiter{}, nil)}}
	url, ok := os.Getenv("QWENMOCK_BENCH_REDIS_URL"), true
	if url == "" {
		url, ok = realRedis(b)
	}
	if ok {
		out = append(out, struct {
			name string
			be   Backend
		}{"redis", newRedisBackend(b, store{name: "redis-server", url: url}, RedisOptions{})})
	}
	return out
}

// scopeKeys are 1,000 scopes, as many accounts and models in use at once.
var scopeKeys = func() []Key {
	k := make([]Key, 1000)
	for i := range k {
		k[i] = Key{Account: "key:sk-" + strconv.Itoa(i), Model: "qwen3-max"}
	}
	return k
}()

// BenchmarkBackendAdmit measures one admission (reserve) followed by nothing else, over
// 1,000 scopes with limits high enough that every request is admitted. serial reports
// the latency percentiles of single calls; parallel runs 16 goroutines at once and
// reports admissions per second.
func BenchmarkBackendAdmit(b *testing.B) {
	lim := Limits{RPM: 1 << 30, TPM: 1 << 40}
	for _, c := range benchBackends(b) {
		b.Run(c.name+"/serial", func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				if _, err := c.be.Admit(ctx, Request{Key: scopeKeys[i%len(scopeKeys)], Limits: lim, Estimate: 100}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			reportPercentiles(b, lat)
		})
		b.Run(c.name+"/parallel16", func(b *testing.B) {
			var n atomic.Int64
			ctx := context.Background()
			b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				i := int(n.Add(1)) * 7919
				for pb.Next() {
					i++
					if _, err := c.be.Admit(ctx, Request{Key: scopeKeys[i%len(scopeKeys)], Limits: lim, Estimate: 100}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "admissions/s")
		})
	}
}

// BenchmarkBackendAdmitSettle is the whole life of a request's quota: admit, then settle.
func BenchmarkBackendAdmitSettle(b *testing.B) {
	lim := Limits{RPM: 1 << 30, TPM: 1 << 40}
	for _, c := range benchBackends(b) {
		b.Run(c.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			ctx := context.Background()
			for i := range b.N {
				start := time.Now()
				a, err := c.be.Admit(ctx, Request{Key: scopeKeys[i%len(scopeKeys)], Limits: lim, Estimate: 100})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.be.Settle(ctx, a.Ticket, 40); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			reportPercentiles(b, lat)
		})
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Nanoseconds()) }
	b.ReportMetric(p(0.50), "p50-ns")
	b.ReportMetric(p(0.99), "p99-ns")
}

// TestRedisMemoryPerScope measures, on a real server, the bytes one scope's keys take
// with n requests in its window (MEMORY USAGE, all samples), and holds them to the bounds
// docs/redis.md states.
func TestRedisMemoryPerScope(t *testing.T) {
	url, ok := realRedis(t)
	if !ok {
		t.Skip("redis-server is not installed")
	}
	st := store{name: "redis-server", url: url}
	// The stated bound: 400 + 64 bytes per request while the log holds at most 128
	// entries (Redis keeps small sorted sets and hashes as listpacks), 200 per request
	// beyond.
	bound := func(n int) int {
		if n <= 128 {
			return 400 + 64*n
		}
		return 200 * n
	}
	for _, n := range []int{1, 10, 100, 128, 129, 600, 1000} {
		c := struct{ n, max int }{n, bound(n)}
		b := newRedisBackend(t, st, RedisOptions{})
		freeze(t, b, t0)
		k := Key{Account: "key:sk-0123456789abcdef", Model: "qwen3-max"}
		for range c.n {
			if a, err := b.Admit(bg, Request{Key: k, Limits: Limits{RPM: 100000, TPM: 1 << 30}, Estimate: 1234}); err != nil || !a.Admitted() {
				t.Fatal(a, err)
			}
		}
		total := 0
		for _, key := range b.keys(k)[2:] {
			c := b.pool.Get()
			n, err := redis.Int(c.Do("MEMORY", "USAGE", key, "SAMPLES", 0))
			c.Close()
			if err != nil {
				t.Fatal(err)
			}
			total += int(n)
		}
		t.Logf("%5d requests in the window: %7d bytes (%d per request)", c.n, total, total/c.n)
		if total > c.max {
			t.Errorf("%d requests: %d bytes, above the stated %d", c.n, total, c.max)
		}
	}
}
