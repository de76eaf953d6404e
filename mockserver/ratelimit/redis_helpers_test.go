package ratelimit

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gomodule/redigo/redis"
)

// store is a Redis server for a test: miniredis in process, or a real redis-server.
type store struct {
	name string
	url  string
	mini *miniredis.Miniredis // nil for a real server
}

// stores returns miniredis and, when the redis-server binary is installed, a real
// server on a Unix socket; both are stopped when the test ends.
func stores(t testing.TB) []store {
	t.Helper()
	m := miniredis.RunT(t)
	out := []store{{name: "miniredis", url: "redis://" + m.Addr(), mini: m}}
	if url, ok := realRedis(t); ok {
		out = append(out, store{name: "redis-server", url: url})
	}
	return out
}

// realRedis starts redis-server on a Unix socket in a temporary folder, without
// persistence, and stops it when the test ends. It reports false when the binary is
// missing.
func realRedis(t testing.TB) (string, bool) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", false
	}
	dir, err := os.MkdirTemp("", "qm-redis")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no",
		"--dir", dir, "--loglevel", "warning")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
	})
	url := "unix://" + sock
	for i := 0; ; i++ {
		if c, err := redis.Dial("unix", sock, redis.DialReadTimeout(time.Second)); err == nil {
			_, err = c.Do("PING")
			c.Close()
			if err == nil {
				return url, true
			}
		}
		if i == 500 {
			t.Fatalf("redis-server did not start: %s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newRedisBackend returns a backend on s with a fresh prefix, closed when the test ends.
func newRedisBackend(t testing.TB, s store, opt RedisOptions) *Redis {
	t.Helper()
	opt.URL = s.url
	if opt.Prefix == "" {
		opt.Prefix = fmt.Sprintf("t%d:", prefixSeq.Add(1))
	}
	b, err := NewRedis(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

var prefixSeq atomic.Int64

// freeze stops b's shared clock at t.
func freeze(t testing.TB, b *Redis, at time.Time) {
	t.Helper()
	if err := b.Freeze(context.Background(), at); err != nil {
		t.Fatal(err)
	}
}

// logBuffer collects log lines safely.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// freePort returns a loopback port nothing listens on at the moment.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
