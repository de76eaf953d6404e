package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Connections that idle, or send their body a byte at a time, once stayed open for good. The
// deadlines below are loose (a second and more against timeouts of 300 ms) so that a busy
// machine passes.
func TestConnectionBounds(t *testing.T) {
	url, cancel, done := startRun(t, "--idle-timeout", "300ms", "--read-timeout", "300ms", "--max-connections", "8")
	defer func() { cancel(); <-done }()
	addr := strings.TrimPrefix(url, "http://")

	// closedWithin reports whether the server closes c within d (reading whatever it sends).
	// EOF and a reset (the server closed with the client's bytes unread) both mean closed;
	// only the read deadline passing means it stayed open.
	closedWithin := func(c net.Conn, d time.Duration) bool {
		_ = c.SetReadDeadline(time.Now().Add(d))
		_, err := io.Copy(io.Discard, c)
		var ne net.Error
		return err == nil || !(errors.As(err, &ne) && ne.Timeout())
	}

	// An idle keep-alive connection is closed after --idle-timeout.
	c := dial(t, addr)
	io.WriteString(c, "GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	if !closedWithin(c, 10*time.Second) {
		t.Error("an idle keep-alive connection stayed open")
	}
	c.Close()

	// A body sent a byte at a time is cut off after --read-timeout.
	c = dial(t, addr)
	io.WriteString(c, "POST /compatible-mode/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-test\r\nContent-Length: 100\r\n\r\n{")
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	if !closedWithin(c, 10*time.Second) {
		t.Error("a slow body kept its connection open")
	}
	close(stop)
	c.Close()

	// Headers that never end are cut off too.
	c = dial(t, addr)
	io.WriteString(c, "GET /_mock/health HTTP/1.1\r\n")
	if !closedWithin(c, 10*time.Second) {
		t.Error("unfinished headers kept their connection open")
	}
	c.Close()
}

// Past --max-connections a new connection gets a 503, and the server still serves once
// connections close. Every held connection has had its answer, so the server has accepted it:
// no sleep decides the outcome.
func TestConnectionCap(t *testing.T) {
	url, cancel, done := startRun(t, "--idle-timeout", "60s", "--read-timeout", "60s", "--max-connections", "8")
	defer func() { cancel(); <-done }()
	addr := strings.TrimPrefix(url, "http://")

	var held []net.Conn
	for range 8 {
		c := dial(t, addr)
		io.WriteString(c, "GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if status, _ := bufio.NewReader(c).ReadString('\n'); status != "HTTP/1.1 200 OK\r\n" {
			t.Fatalf("held connection: %q", status)
		}
		held = append(held, c)
	}
	extra := dial(t, addr)
	io.WriteString(extra, "GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	_ = extra.SetReadDeadline(time.Now().Add(30 * time.Second))
	status, _ := bufio.NewReader(extra).ReadString('\n')
	if status != "HTTP/1.1 503 Service Unavailable\r\n" {
		t.Errorf("connection past the cap: %q", status)
	}
	extra.Close()
	for _, h := range held {
		h.Close()
	}
	var resp *http.Response
	var err error
	for range 100 { // the server notices the closes asynchronously
		if resp, err = http.Get(url + "/_mock/health"); err == nil && resp.StatusCode == 200 {
			break
		}
		if resp != nil {
			resp.Body.Close()
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the held connections closed: %v", err)
	}
	resp.Body.Close()
}

// Many idle connections at once are all closed: the attack of 2,000 idle connections, scaled.
func TestManyIdleConnectionsClosed(t *testing.T) {
	url, cancel, done := startRun(t, "--idle-timeout", "300ms", "--read-timeout", "300ms", "--max-connections", "1000")
	defer func() { cancel(); <-done }()
	addr := strings.TrimPrefix(url, "http://")
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := 0
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
			if _, err := io.Copy(io.Discard, c); err != nil {
				mu.Lock()
				open++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if open > 0 {
		t.Errorf("%d of 200 idle connections were still open after 15 s", open)
	}
}

// A stream longer than the read timeout is not cut: the body deadline is lifted once the
// body is read.
func TestReadTimeoutSparesLongStreams(t *testing.T) {
	url, cancel, done := startRun(t, "--read-timeout", "200ms", "--token-latency", "30ms")
	defer func() { cancel(); <-done }()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url+"/compatible-mode/v1/chat/completions",
		strings.NewReader(`{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":40,"stream":true}`))
	req.Header.Set("Authorization", "Bearer sk-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !strings.HasSuffix(string(body), "data: [DONE]\n\n") {
		t.Fatalf("stream cut: %v %q", err, body)
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A server reachable beyond loopback gets a generated admin token, printed on stderr,
// unless it is given one or told --insecure-control-api; a loopback one does not.
func TestEnsureAdminToken(t *testing.T) {
	for _, c := range []struct {
		addr, given string
		insecure    bool
		generated   bool
	}{
		{"0.0.0.0:8080", "", false, true},
		{":8080", "", false, true},
		{"192.0.2.7:8080", "", false, true},
		{"[::]:8080", "", false, true},
		{"127.0.0.1:8080", "", false, false},
		{"localhost:8080", "", false, false},
		{"[::1]:8080", "", false, false},
		{"0.0.0.0:8080", "mine", false, false},
		{"0.0.0.0:8080", "", true, false},
	} {
		s := settings{addr: c.addr, adminToken: c.given, insecureControl: c.insecure}
		var stderr strings.Builder
		if err := ensureAdminToken(&s, &stderr); err != nil {
			t.Fatal(err)
		}
		line := stderr.String()
		tok, ok := strings.CutPrefix(line, "qwenmock: control API admin token (use Authorization: Bearer <token> on /_mock/*): ")
		if c.generated != ok || (ok && (tok != s.adminToken+"\n" || len(s.adminToken) != 51 || !strings.HasPrefix(s.adminToken, "qm-"))) {
			t.Errorf("%+v: token %q, stderr %q", c, s.adminToken, line)
		}
		if !c.generated && s.adminToken != c.given {
			t.Errorf("%+v: token changed to %q", c, s.adminToken)
		}
	}
}
