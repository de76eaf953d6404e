package ratelimit

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomodule/redigo/redis"
)

// RedisOptions configure a Redis backend.
type RedisOptions struct {
	// URL is the server, as redis://[user:password@]host:port[/db][?options],
	// rediss:// for TLS or unix://[user:password@]/path.sock[?options]. The options are
	// db, client_name, dial_timeout, read_timeout, write_timeout (durations, "200ms", or
	// whole seconds), pool_size, max_idle_conns, pool_timeout, conn_max_idle_time,
	// conn_max_lifetime and skip_verify (rediss only); any other is an error. Ignored
	// when Pool is set.
	URL string
	// Pool, when set, is used instead of dialling URL; Close leaves it open. Its
	// connections must support redis.ConnWithTimeout, as those of redis.Dial do.
	Pool *redis.Pool
	// Prefix starts every key the backend writes; "qwenmock:" if empty. Deployments that
	// share one Redis but not their quotas use different prefixes.
	Prefix string
	// PerSecond and Burst turn on the optional rules, as on Limiter.
	PerSecond bool
	Burst     *BurstRule
	// Timeout bounds every operation, retries included; 500ms if zero. An operation that
	// runs out of time fails with ErrUnavailable.
	Timeout time.Duration
	// FailOpen lets requests through unchecked while Redis cannot be reached, instead of
	// failing their admission with ErrUnavailable.
	FailOpen bool
	// Logger receives one line when Redis becomes unreachable, one every 10 s while it
	// stays so, and one when it answers again. Discarded if nil.
	Logger *slog.Logger
}

// DefaultRedisTimeout is the Timeout used when RedisOptions.Timeout is zero.
const DefaultRedisTimeout = 500 * time.Millisecond

// keyTTL is how long, in real time, a scope's keys outlive its latest admission: the
// 60-second window plus slack for a server clock that steps back a little.
const keyTTL = 70 * time.Second

// Redis is a Backend whose windows and clock live in a Redis server, so that every
// replica pointed at the same server (and prefix) shares one quota per scope.
//
// Each Admit is one script run (EVALSHA, or EVAL the first time a server sees it) that
// reads the clock, drops expired entries, checks every rule and records the request: no
// other admission can come between the check and the write. The reservation has an id
// unique to this process; a retried run with the same id finds its own entry and answers
// as before, so a retry after a lost reply never counts a request twice. Settle is one
// script run too. Memory in Redis per scope: two keys holding one entry per request
// admitted in the last 60 s (see docs/redis.md for measured sizes).
type Redis struct {
	pool    *redis.Pool
	own     bool
	opt     RedisOptions
	log     *slog.Logger
	meta    string
	index   string
	idStart string
	seq     atomic.Uint64

	mu       sync.Mutex // guards down, failures, lastLog
	down     bool
	failures int
	lastLog  time.Time
}

// NewRedis returns a Redis backend. It does not contact the server: the first operation
// does, and a server that is down at start is handled like one that goes down later.
func NewRedis(opt RedisOptions) (*Redis, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultRedisTimeout
	}
	if opt.Prefix == "" {
		opt.Prefix = "qwenmock:"
	}
	b := &Redis{opt: opt, pool: opt.Pool, log: opt.Logger}
	if b.log == nil {
		b.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if b.pool == nil {
		u, err := parseRedisURL(opt.URL)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		b.pool, b.own = u.pool(opt.Timeout), true
	}
	var id [9]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	b.idStart = base64.RawURLEncoding.EncodeToString(id[:]) // 12 characters
	b.meta = opt.Prefix + "meta"
	b.index = opt.Prefix + "scopes"
	return b, nil
}

// Close closes the connection pool, unless the Pool was given in the options.
func (b *Redis) Close() error {
	if b.own {
		return b.pool.Close()
	}
	return nil
}

// Ping checks that the server answers, within the Timeout.
func (b *Redis) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.opt.Timeout)
	defer cancel()
	return b.outcome(b.with(ctx, func(c redis.Conn) error {
		_, err := c.Do("PING")
		return err
	}))
}

// with runs f on a connection of the pool. Every command f sends through the connection
// is bounded by ctx's deadline, which the caller sets.
func (b *Redis) with(ctx context.Context, f func(redis.Conn) error) error {
	c, err := b.pool.GetContext(ctx)
	if err != nil {
		return err
	}
	dl, _ := ctx.Deadline()
	err = f(deadlineConn{Conn: c, deadline: dl})
	c.Close() // a connection that failed is discarded, not returned to the pool
	return err
}

// deadlineConn bounds every command and reply read by one deadline.
type deadlineConn struct {
	redis.Conn
	deadline time.Time
}

// Do sends a command and reads its reply before the deadline. Past the deadline it sends
// nothing.
func (c deadlineConn) Do(cmd string, args ...any) (any, error) {
	t := time.Until(c.deadline)
	if t <= 0 {
		return nil, context.DeadlineExceeded
	}
	return redis.DoWithTimeout(c.Conn, t, cmd, args...)
}

// Receive reads the reply of a command sent earlier before the deadline. Past the
// deadline the read fails at once, and the connection, with replies still pending, is
// discarded.
func (c deadlineConn) Receive() (any, error) {
	t := time.Until(c.deadline)
	if t == 0 {
		t = -1 // zero would mean no deadline
	}
	return redis.ReceiveWithTimeout(c.Conn, t)
}

// reservation is what a Redis Ticket names.
type reservation struct {
	key Key
	id  string
	ms  int64
}

// scopeName encodes a Key reversibly: the account's length, a colon, the account, the
// model.
func scopeName(k Key) string {
	return strconv.Itoa(len(k.Account)) + ":" + k.Account + k.Model
}

func parseScopeName(s string) (Key, bool) {
	n, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Key{}, false
	}
	l, err := strconv.Atoi(n)
	if err != nil || l < 0 || l > len(rest) {
		return Key{}, false
	}
	return Key{Account: rest[:l], Model: rest[l:]}, true
}

func (b *Redis) keys(k Key) []string {
	name := scopeName(k)
	return []string{b.meta, b.index, b.opt.Prefix + "l:" + name, b.opt.Prefix + "c:" + name}
}

// newID returns a reservation id unique to this process and, with overwhelming
// probability, to every process: 12 random characters and a counter.
func (b *Redis) newID() string {
	return b.idStart + strconv.FormatUint(b.seq.Add(1), 36)
}

// run runs a script within the Timeout, trying again once on failure while time is left.
// Every script is safe to run twice: admission is idempotent by reservation id, settle
// sets a value, the others only read or expire.
func (b *Redis) run(ctx context.Context, s *redis.Script, keys []string, args ...any) ([]any, error) {
	ctx, cancel := context.WithTimeout(ctx, b.opt.Timeout)
	defer cancel()
	keysAndArgs := scriptArgs(keys, args...)
	var err error
	for try := 0; try < 2; try++ {
		var v any
		err = b.with(ctx, func(c redis.Conn) error {
			var err error
			v, err = s.Do(c, keysAndArgs...) // EVALSHA, or EVAL if the server answers NOSCRIPT
			return err
		})
		if err == nil {
			r, ok := v.([]any)
			if !ok {
				return nil, b.outcome(fmt.Errorf("unexpected script reply %T", v))
			}
			return r, b.outcome(nil)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, b.outcome(err)
}

// scriptArgs lays out a script call for scripts made with redis.NewScript(-1, …): the
// number of keys, the keys, the arguments.
func scriptArgs(keys []string, args ...any) []any {
	out := make([]any, 0, 1+len(keys)+len(args))
	out = append(out, len(keys))
	for _, k := range keys {
		out = append(out, k)
	}
	return append(out, args...)
}

// StoreError is the error of an operation Redis did not complete. It matches
// ErrUnavailable.
type StoreError struct{ Err error }

func (e *StoreError) Error() string { return "redis: " + e.Err.Error() }
func (e *StoreError) Unwrap() error { return e.Err }

// Is reports true for ErrUnavailable.
func (e *StoreError) Is(target error) bool { return target == ErrUnavailable }

// outcome records whether Redis answered, logging the transitions, and wraps err.
func (b *Redis) outcome(err error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		if b.down {
			b.log.Info("redis reachable again: rate limits are shared once more", "failed_operations", b.failures)
			b.down, b.failures = false, 0
		}
		return nil
	}
	b.failures++
	now := time.Now()
	policy := "requests are refused with 503 until it returns"
	if b.opt.FailOpen {
		policy = "requests are let through unchecked until it returns (fail open)"
	}
	switch {
	case !b.down:
		b.log.Error("redis unreachable: rate limits cannot be checked; "+policy, "err", err.Error())
		b.down, b.lastLog = true, now
	case now.Sub(b.lastLog) >= 10*time.Second:
		b.log.Error("redis still unreachable; "+policy, "err", err.Error(), "failed_operations", b.failures)
		b.lastLog = now
	}
	return &StoreError{Err: err}
}

// Down reports whether the latest operation failed to reach Redis.
func (b *Redis) Down() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.down
}

func flag(on bool) string {
	if on {
		return "1"
	}
	return "0"
}

// ints converts a script reply of integers.
func ints(r []any, n int) ([]int64, error) {
	if len(r) < n {
		return nil, fmt.Errorf("script reply has %d values, want %d", len(r), n)
	}
	out := make([]int64, n)
	for i := range n {
		v, ok := r[i].(int64)
		if !ok {
			return nil, fmt.Errorf("script reply value %d is %T", i, r[i])
		}
		out[i] = v
	}
	return out, nil
}

func millis(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
func micros(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// Admit implements Backend. While Redis cannot be reached it returns an error matching
// ErrUnavailable, or with FailOpen an Admission that is Unchecked and admitted.
func (b *Redis) Admit(ctx context.Context, req Request) (Admission, error) {
	id := b.newID()
	var floor, factor int
	if b.opt.Burst != nil {
		floor, factor = b.opt.Burst.Floor, b.opt.Burst.Factor
	}
	r, err := b.run(ctx, admitScript, b.keys(req.Key),
		scopeName(req.Key), id, max(req.Estimate, 0), max(req.Limits.RPM, 0), max(req.Limits.TPM, 0),
		flag(b.opt.PerSecond), flag(b.opt.Burst != nil), floor, factor, flag(req.State), keyTTL.Milliseconds())
	if err != nil {
		if b.opt.FailOpen {
			return Admission{Now: time.Now(), Unchecked: true}, nil
		}
		return Admission{}, err
	}
	v, err := ints(r, 12)
	if err != nil {
		return Admission{}, b.outcome(err)
	}
	a := Admission{Now: time.UnixMilli(v[1]), Offset: micros(v[2])}
	if v[0] == 0 {
		retry := Never
		if v[7] >= 0 {
			retry = millis(v[7])
		}
		a.Denial = &Denial{Kind: Kind(v[4]), Window: millis(v[5]), Limit: int(v[6]), RetryAfter: retry}
	} else {
		a.Ticket = Ticket{r: &reservation{key: req.Key, id: id, ms: v[3]}}
	}
	if req.State {
		a.State = scopeState(req.Key, req.Limits, v[8], v[9], v[10], v[11])
	}
	return a, nil
}

func scopeState(k Key, limits Limits, req, tok, rr, rt int64) ScopeState {
	return ScopeState{
		Key: k, Limits: limits, Requests: int(req), Tokens: int(tok),
		RemainingRequests: remaining(limits.RPM, req), RemainingTokens: remaining(limits.TPM, tok),
		ResetRequests: millis(rr), ResetTokens: millis(rt),
	}
}

// Settle implements Backend. A Ticket from another backend, or the zero Ticket, settles
// nothing.
func (b *Redis) Settle(ctx context.Context, t Ticket, actualTokens int) (bool, error) {
	if t.r == nil {
		return false, nil
	}
	r, err := b.run(ctx, settleScript, b.keys(t.r.key), t.r.id, max(actualTokens, 0))
	if err != nil {
		return false, err
	}
	v, err := ints(r, 3)
	if err != nil {
		return false, b.outcome(err)
	}
	return v[0] == 1, nil
}

// State implements Backend.
func (b *Redis) State(ctx context.Context, key Key, limits Limits) (ScopeState, error) {
	r, err := b.run(ctx, stateScript, b.keys(key))
	if err != nil {
		return ScopeState{}, err
	}
	v, err := ints(r, 6)
	if err != nil {
		return ScopeState{}, b.outcome(err)
	}
	return scopeState(key, limits, v[2], v[3], v[4], v[5]), nil
}

// Snapshot implements Backend: the scopes admitted to in the last minute, read in one
// pipeline after listing them.
func (b *Redis) Snapshot(ctx context.Context, limits func(Key) Limits) ([]ScopeState, error) {
	r, err := b.run(ctx, listScript, []string{b.meta, b.index})
	if err != nil {
		return nil, err
	}
	if len(r) < 2 {
		return nil, b.outcome(fmt.Errorf("script reply has %d values", len(r)))
	}
	var keys []Key
	for _, v := range r[2:] {
		s, _ := v.([]byte)
		if k, ok := parseScopeName(string(s)); ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	// The scripts are loaded: listScript ran on the same server. A server that restarted
	// in between answers NOSCRIPT: the script is loaded again and the pipeline repeated.
	pctx, cancel := context.WithTimeout(ctx, b.opt.Timeout)
	defer cancel()
	var replies []any
	err = b.with(pctx, func(c redis.Conn) error {
		var err error
		replies, err = b.pipelineState(c, keys)
		if isNoScript(err) {
			if err = stateScript.Load(c); err == nil {
				replies, err = b.pipelineState(c, keys)
			}
		}
		return err
	})
	if err != nil {
		return nil, b.outcome(err)
	}
	out := make([]ScopeState, 0, len(keys))
	for i, k := range keys {
		res, ok := replies[i].([]any)
		if !ok {
			return nil, b.outcome(fmt.Errorf("unexpected script reply %T", replies[i]))
		}
		v, err := ints(res, 6)
		if err != nil {
			return nil, b.outcome(err)
		}
		if v[2] == 0 {
			continue
		}
		var lim Limits
		if limits != nil {
			lim = limits(k)
		}
		out = append(out, scopeState(k, lim, v[2], v[3], v[4], v[5]))
	}
	slices.SortFunc(out, func(a, b ScopeState) int {
		return cmp.Or(cmp.Compare(a.Key.Account, b.Key.Account), cmp.Compare(a.Key.Model, b.Key.Model))
	})
	return out, b.outcome(nil)
}

// pipelineState sends stateScript for every key at once (EVALSHA) and reads every reply.
// An error reply of Redis does not stop the reading, so the connection stays in step; the
// first one is returned.
func (b *Redis) pipelineState(c redis.Conn, keys []Key) ([]any, error) {
	for _, k := range keys {
		if err := stateScript.SendHash(c, scriptArgs(b.keys(k))...); err != nil {
			return nil, err
		}
	}
	if err := c.Flush(); err != nil {
		return nil, err
	}
	replies := make([]any, len(keys))
	var first error
	for i := range keys {
		v, err := c.Receive()
		if err != nil {
			if _, ok := err.(redis.Error); !ok {
				return nil, err
			}
			if first == nil {
				first = err
			}
		}
		replies[i] = v
	}
	return replies, first
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// Reset implements Backend: it starts a new generation, so every scope of the old one
// counts as empty on every replica at once. The clock stays.
func (b *Redis) Reset(ctx context.Context) error {
	_, err := b.run(ctx, resetScript, []string{b.meta, b.index})
	return err
}

// Advance implements Backend: the shared offset grows by d (whole microseconds).
func (b *Redis) Advance(ctx context.Context, d time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, b.opt.Timeout)
	defer cancel()
	if d < time.Microsecond {
		_, off, err := b.Now(ctx)
		return off, err
	}
	// HINCRBY is not retried: a lost reply after it ran would advance twice.
	var off int64
	err := b.with(ctx, func(c redis.Conn) error {
		var err error
		off, err = redis.Int64(c.Do("HINCRBY", b.meta, "o", d.Microseconds()))
		return err
	})
	if err != nil {
		return 0, b.outcome(err)
	}
	return micros(off), b.outcome(nil)
}

// Freeze stops the shared clock at t for every replica: from then on the clock reads t plus
// what Advance adds (the offset restarts from zero), like a server built with a fixed
// clock. While frozen, keys do not expire in real time; they are dropped as the clock
// moves past them. The zero Time unfreezes: the clock is TIME plus the offset again.
func (b *Redis) Freeze(ctx context.Context, t time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, b.opt.Timeout)
	defer cancel()
	return b.outcome(b.with(ctx, func(c redis.Conn) error {
		var err error
		if t.IsZero() {
			_, err = c.Do("HDEL", b.meta, "f")
		} else {
			_, err = c.Do("HSET", b.meta, "f", t.UnixMicro(), "o", 0)
		}
		return err
	}))
}

// Now implements Backend: Redis TIME (or the frozen time) plus the shared offset.
func (b *Redis) Now(ctx context.Context) (time.Time, time.Duration, error) {
	r, err := b.run(ctx, clockScript, []string{b.meta})
	if err != nil {
		return time.Time{}, 0, err
	}
	v, err := ints(r, 2)
	if err != nil {
		return time.Time{}, 0, b.outcome(err)
	}
	return time.UnixMicro(v[0]), micros(v[1]), nil
}
