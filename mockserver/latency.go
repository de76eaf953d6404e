package mockserver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Latency simulates the model's speed: the time to the first token and between tokens, each
// optionally varied by up to ±Jitter (a fraction, seeded per request). Zero by default.
type Latency struct {
	FirstToken time.Duration `json:"-"`
	PerToken   time.Duration `json:"-"`
	Jitter     float64       `json:"jitter"`
}

// Upper bounds of the simulated latency: a request waits at most MaxFirstTokenLatency before
// its first token and MaxTokenLatency between tokens.
const (
	MaxFirstTokenLatency = 10 * time.Minute
	MaxTokenLatency      = 10 * time.Second
)

func (l Latency) validate() error {
	if l.FirstToken < 0 || l.PerToken < 0 {
		return fmt.Errorf("latencies must not be negative")
	}
	if l.FirstToken > MaxFirstTokenLatency || l.PerToken > MaxTokenLatency {
		return fmt.Errorf("latencies must be at most %v before the first token and %v per token", MaxFirstTokenLatency, MaxTokenLatency)
	}
	if !(l.Jitter >= 0 && l.Jitter <= 1) {
		return fmt.Errorf("jitter %v is not in [0, 1]", l.Jitter)
	}
	return nil
}

// latencySetting is the server's latency, changeable at run time.
type latencySetting struct {
	mu sync.Mutex // guards l
	l  Latency
}

func (ls *latencySetting) get() Latency {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.l
}

// SetLatency changes the simulated latency at run time.
func (s *Server) SetLatency(l Latency) error {
	if err := l.validate(); err != nil {
		return err
	}
	s.latency.mu.Lock()
	s.latency.l = l
	s.latency.mu.Unlock()
	return nil
}

// pacer spends a call's simulated latency: the first token's wait once, then the per-token
// wait for each token sent. It stops early when the client goes away.
type pacer struct {
	ctx     context.Context
	l       Latency
	rng     *rand.Rand
	started bool
	sleep   func(ctx context.Context, d time.Duration) error
}

func (s *Server) newPacer(ctx context.Context, c *call, fx *Fixture) *pacer {
	l := s.latency.get()
	if fx != nil && fx.latency != nil {
		l.FirstToken, l.PerToken = fx.latency.FirstToken, fx.latency.PerToken
	}
	if l.FirstToken == 0 && l.PerToken == 0 {
		return nil
	}
	return &pacer{ctx: ctx, l: l, rng: rand.New(s.replySource(c, 1<<20)), sleep: s.sleep}
}

func (p *pacer) jitter(d time.Duration) time.Duration {
	if p.l.Jitter == 0 || d == 0 {
		return d
	}
	return time.Duration(float64(d) * (1 + p.l.Jitter*(2*p.rng.Float64()-1)))
}

// tokens waits before n tokens are sent; it returns the context's error if the client left.
func (p *pacer) tokens(n int) error {
	if p == nil {
		return nil
	}
	d := p.jitter(p.l.PerToken) * time.Duration(n)
	if !p.started {
		p.started = true
		d += p.jitter(p.l.FirstToken)
	}
	return p.sleep(p.ctx, d)
}

// sleep waits d (a simulated latency) through the server's sleeper, which tests replace to
// check the waits without spending them.
func (s *Server) sleep(ctx context.Context, d time.Duration) error {
	if s.cfg.sleep != nil {
		return s.cfg.sleep(ctx, d)
	}
	return sleepCtx(ctx, d)
}

// sleepCtx waits d, or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
