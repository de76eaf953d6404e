package main

import (
	"io"
	"strings"
	"testing"
)

// TestLoadRedisSettings: --redis-url and --redis-fail-open come from flags, the
// environment or the config file, with the usual precedence, and fail-open alone is an
// error.
func TestLoadRedisSettings(t *testing.T) {
	t.Parallel()
	files := filesOf(map[string]string{"/q.yaml": "redis_url: redis://file:6379/1\nredis_fail_open: true\n"})
	s, err := load([]string{"--config", "/q.yaml"}, envOf(nil), files, io.Discard)
	if err != nil || s.redisURL != "redis://file:6379/1" || !s.redisFailOpen {
		t.Fatalf("file: %+v %v", s, err)
	}
	s, err = load([]string{"--config", "/q.yaml"}, envOf(map[string]string{"QWENMOCK_REDIS_URL": "redis://env:6379/0"}), files, io.Discard)
	if err != nil || s.redisURL != "redis://env:6379/0" {
		t.Fatalf("env over file: %+v %v", s, err)
	}
	s, err = load([]string{"--redis-url", "unix:///r.sock"},
		envOf(map[string]string{"QWENMOCK_REDIS_URL": "redis://env:6379/0", "QWENMOCK_REDIS_FAIL_OPEN": "true"}), noFiles, io.Discard)
	if err != nil || s.redisURL != "unix:///r.sock" || !s.redisFailOpen {
		t.Fatalf("flag over env: %+v %v", s, err)
	}
	if len(s.options()) == 0 {
		t.Fatal("no options")
	}
	_, err = load([]string{"--redis-fail-open"}, envOf(nil), noFiles, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--redis-fail-open needs --redis-url") {
		t.Fatalf("fail-open alone: %v", err)
	}
	s, err = load(nil, envOf(nil), noFiles, io.Discard)
	if err != nil || s.redisURL != "" || s.redisFailOpen {
		t.Fatalf("default: %+v %v", s, err)
	}
}
