package mockserver

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/qwenmock/qwenmock/mockserver/ratelimit"
)

// WithRedis keeps the rate-limit windows and the clock they are measured by in the Redis
// server at url (redis://host:port/db, rediss://… or unix:///path), so that every server
// pointed at it shares one quota per account and model, as the real service does however
// many nodes answer. Without this option no Redis code runs and each server counts alone.
//
// With it, rate-limit time is Redis TIME plus an offset kept in Redis: Advance (and POST
// /_mock/clock/advance) on any server moves every server's windows, Reset and
// ResetLimits clear the windows of all of them, and Limits lists the shared state. Answers'
// timestamps follow this server's clock plus that shared offset. While Redis cannot be
// reached, requests get a 503 (rate_limit_store_unavailable) and a log line says so,
// unless WithRedisFailOpen is given; the server recovers by itself when Redis answers
// again. Call Close when done with the server to close the connections.
func WithRedis(url string) Option {
	return func(c *config) error {
		c.redisURL = url
		return nil
	}
}

// WithRedisFailOpen lets requests through without a rate-limit check while the Redis of
// WithRedis cannot be reached, instead of refusing them with a 503.
func WithRedisFailOpen() Option {
	return func(c *config) error {
		c.redisFailOpen = true
		return nil
	}
}

// newLimitBackend returns the backend the server's rate limits live in: Redis with
// WithRedis, else an in-memory Limiter on the server's base clock.
func newLimitBackend(cfg config) (ratelimit.Backend, error) {
	var burst *ratelimit.BurstRule
	if cfg.burst {
		burst = &ratelimit.BurstRule{}
	}
	if cfg.redisURL == "" {
		return ratelimit.NewLocal(&ratelimit.Limiter{PerSecond: cfg.perSecond, Burst: burst}, cfg.clock.Now), nil
	}
	return ratelimit.NewRedis(ratelimit.RedisOptions{
		URL:       cfg.redisURL,
		PerSecond: cfg.perSecond,
		Burst:     burst,
		FailOpen:  cfg.redisFailOpen,
		Logger:    cfg.logger,
	})
}

// Close releases what the server holds open: the Redis connections of WithRedis. The
// server must not be used afterwards. Without WithRedis it does nothing.
func (s *Server) Close() error {
	if r, ok := s.rates.backend.(*ratelimit.Redis); ok {
		return r.Close()
	}
	return nil
}

// storeTimeout bounds the rate-limit store calls that do not run under a request's
// context: settlements after the reply, and the control API.
const storeTimeout = 2 * time.Second

// storeContext is the context of a rate-limit store call made outside a request.
func storeContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), storeTimeout)
}

// storeUnavailableMessage explains the 503 of a request that cannot be checked against
// the shared rate limits.
const storeUnavailableMessage = "qwenmock: the rate-limit store (Redis) cannot be reached, so this request cannot be checked against the shared limits. Retry when it is back, or start qwenmock with --redis-fail-open."

// errStoreUnavailable is the answer to a request that cannot be checked against the
// shared rate limits because their store cannot be reached: a condition of the mock, not
// of the real service, so every wire shape answers it with the kind as its code.
func errStoreUnavailable() *Error {
	return errMock("rate_limit_store_unavailable", storeUnavailableMessage)
}

// controlStoreError answers a control request whose rate-limit store call failed.
func (s *Server) controlStoreError(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, ratelimit.ErrUnavailable) {
		s.log.Error("rate-limit store", "err", err.Error())
	}
	writeCompatError(w, errStoreUnavailable(), s.cfg.newRequestID())
}

// advance moves the clock of the rate limits, and so the server's, by d. It reports false,
// and moves nothing, when the total of every Advance would pass MaxClockOffset.
func (s *Server) advance(d time.Duration) (bool, error) {
	if d > MaxClockOffset-time.Duration(s.clock.offset.Load()) {
		return false, nil
	}
	ctx, cancel := storeContext()
	defer cancel()
	off, err := s.rates.backend.Advance(ctx, d)
	if err != nil {
		return false, err
	}
	s.clock.follow(off)
	return true, nil
}
