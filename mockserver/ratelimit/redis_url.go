package ratelimit

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gomodule/redigo/redis"
)

// redisURL is a parsed RedisOptions.URL: where to dial, with what, and the bounds of the
// connection pool.
type redisURL struct {
	network, address string
	opts             []redis.DialOption // credentials, database, client name, TLS
	tls              bool
	skipVerify       bool
	serverName       string

	dialTimeout time.Duration // 0: the backend's Timeout; negative: none of its own
	poolSize    int           // 0: 10 per CPU
	maxIdle     int           // 0: poolSize
	idleTimeout time.Duration // 0: defaultIdleTimeout; negative: none
	maxLifetime time.Duration // 0 or negative: none
}

// defaultIdleTimeout closes pooled connections unused for this long.
const defaultIdleTimeout = 30 * time.Minute

// idleCheckAfter is how long a pooled connection may sit unused before it is tested
// with a PING when taken again: a server that restarted meanwhile closed it.
const idleCheckAfter = time.Second

// parseRedisURL parses redis://[user:password@]host[:port][/db][?options],
// rediss://… (TLS) and unix://[user:password@]/path[?options]. The host defaults to
// localhost and the port to 6379. The options are listed on RedisOptions.URL.
func parseRedisURL(raw string) (*redisURL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Opaque != "" {
		return nil, fmt.Errorf("%q is not a URL with a path", raw)
	}
	r := &redisURL{}
	db := 0
	switch u.Scheme {
	case "redis", "rediss":
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil {
			host, port = u.Host, "6379" // no port
		}
		if host == "" {
			host = "localhost"
		}
		r.network, r.address = "tcp", net.JoinHostPort(host, port)
		r.tls, r.serverName = u.Scheme == "rediss", host
		if p := strings.TrimPrefix(u.Path, "/"); p != "" {
			if db, err = strconv.Atoi(p); err != nil || db < 0 {
				return nil, fmt.Errorf("invalid database %q", p)
			}
		}
	case "unix":
		if u.Path == "" {
			return nil, errors.New("unix URL without a socket path")
		}
		r.network, r.address = "unix", u.Path
	default:
		return nil, fmt.Errorf("invalid scheme %q: want redis, rediss or unix", u.Scheme)
	}
	if u.User != nil {
		if name := u.User.Username(); name != "" {
			r.opts = append(r.opts, redis.DialUsername(name))
		}
		if pw, ok := u.User.Password(); ok {
			r.opts = append(r.opts, redis.DialPassword(pw))
		}
	}
	for name, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch name {
		case "db":
			if db, err = strconv.Atoi(v); err != nil || db < 0 {
				return nil, fmt.Errorf("invalid database %q", v)
			}
		case "client_name":
			r.opts = append(r.opts, redis.DialClientName(v))
		case "dial_timeout":
			r.dialTimeout, err = urlDuration(name, v)
		case "conn_max_idle_time":
			r.idleTimeout, err = urlDuration(name, v)
		case "conn_max_lifetime":
			r.maxLifetime, err = urlDuration(name, v)
		case "pool_size":
			r.poolSize, err = urlCount(name, v)
		case "max_idle_conns":
			r.maxIdle, err = urlCount(name, v)
		case "skip_verify":
			if !r.tls {
				return nil, errors.New("skip_verify applies to rediss:// only")
			}
			if r.skipVerify, err = strconv.ParseBool(v); err != nil {
				err = fmt.Errorf("invalid skip_verify %q", v)
			}
		default:
			return nil, fmt.Errorf("unexpected option %q", name)
		}
		if err != nil {
			return nil, err
		}
	}
	if db != 0 {
		r.opts = append(r.opts, redis.DialDatabase(db))
	}
	return r, nil
}

// urlDuration parses an option's duration: "200ms", or a whole number of seconds.
func urlDuration(name, v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("invalid %s %q", name, v)
	}
	return d, nil
}

func urlCount(name, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("invalid %s %q: want a count of 1 or more", name, v)
	}
	return n, nil
}

// pool returns a connection pool for r whose dials, reads and writes are each bounded
// by timeout (the dial by dial_timeout if set). Callers wait for a free connection at
// most until their context's deadline.
func (r *redisURL) pool(timeout time.Duration) *redis.Pool {
	dial := timeout
	if r.dialTimeout != 0 {
		dial = max(r.dialTimeout, 0)
	}
	handshake := dial
	if handshake == 0 {
		handshake = timeout
	}
	opts := append(r.opts[:len(r.opts):len(r.opts)],
		redis.DialConnectTimeout(dial), redis.DialReadTimeout(timeout), redis.DialWriteTimeout(timeout))
	if r.tls {
		opts = append(opts, redis.DialUseTLS(true), redis.DialTLSHandshakeTimeout(handshake),
			redis.DialTLSConfig(&tls.Config{ServerName: r.serverName, MinVersion: tls.VersionTLS12, InsecureSkipVerify: r.skipVerify}))
	}
	size := r.poolSize
	if size == 0 {
		size = 10 * runtime.GOMAXPROCS(0)
	}
	idle := r.maxIdle
	if idle == 0 || idle > size {
		idle = size
	}
	idleTimeout := r.idleTimeout
	if idleTimeout == 0 {
		idleTimeout = defaultIdleTimeout
	}
	network, address := r.network, r.address
	return &redis.Pool{
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			return redis.DialContext(ctx, network, address, opts...)
		},
		TestOnBorrowContext: checkIdle,
		MaxActive:           size,
		MaxIdle:             idle,
		Wait:                true,
		IdleTimeout:         max(idleTimeout, 0),
		MaxConnLifetime:     max(r.maxLifetime, 0),
	}
}

// checkIdle tests a pooled connection that sat unused for idleCheckAfter or longer with a
// PING, within the caller's deadline, so that one the server closed meanwhile is dropped
// instead of failing an operation. Busy connections are taken as they are.
func checkIdle(ctx context.Context, c redis.Conn, lastUsed time.Time) error {
	if time.Since(lastUsed) < idleCheckAfter {
		return nil
	}
	dl, ok := ctx.Deadline()
	if !ok {
		_, err := c.Do("PING") // within the connection's read timeout
		return err
	}
	t := time.Until(dl)
	if t <= 0 {
		return nil // no time left to test it: the operation fails by itself
	}
	_, err := redis.DoWithTimeout(c, t, "PING")
	return err
}
