package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// startRun runs the command in process on a free port and returns its base URL once it has
// printed its listening line.
func startRun(t *testing.T, args ...string) (string, context.CancelFunc, <-chan int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), func(string) string { return "" }, io.Discard, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("reading listening line: %v", err)
	}
	go io.Copy(io.Discard, pr)
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "qwenmock listening on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasSuffix(url, ":0") {
		cancel()
		t.Fatalf("listening line %q", line)
	}
	return url, cancel, done
}

func TestRunServesAndStops(t *testing.T) {
	url, cancel, done := startRun(t, "--max-input-tokens", "20")
	req, _ := http.NewRequest(http.MethodPost, url+"/compatible-mode/v1/chat/completions",
		strings.NewReader(`{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":5}`))
	req.Header.Set("Authorization", "Bearer sk-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Choices []struct {
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens, CompletionTokens int
		} `json:"usage"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || body.Choices[0].FinishReason != "length" {
		t.Fatalf("status %d, %+v, %v", resp.StatusCode, body, err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunBadFlag(t *testing.T) {
	var stderr strings.Builder
	code := run(context.Background(), []string{"--max-body-bytes", "0"}, func(string) string { return "" }, io.Discard, &stderr)
	if code != 2 || stderr.String() != "qwenmock: --max-body-bytes must be positive\n" {
		t.Fatalf("code %d, stderr %q", code, stderr.String())
	}
}

func TestRunBadFixtureFile(t *testing.T) {
	p := t.TempDir() + "/f.yaml"
	if err := os.WriteFile(p, []byte("fixtures:\n  - name: a\n    match: {regex: \"(\"}\n    reply: {content: x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	code := run(context.Background(), []string{"--fixtures", p}, func(string) string { return "" }, io.Discard, &stderr)
	want := "qwenmock: " + p + ":3: fixture \"a\": bad regex: error parsing regexp: missing closing ): `(`\n"
	if code != 2 || stderr.String() != want {
		t.Fatalf("code %d, stderr %q", code, stderr.String())
	}
}

func TestRunWithFixtures(t *testing.T) {
	p := t.TempDir() + "/f.yaml"
	if err := os.WriteFile(p, []byte("fixtures:\n  - name: a\n    match: {contains: ping}\n    reply: {content: pong}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	url, cancel, done := startRun(t, "--fixtures", p, "--fallback", "strict")
	defer func() { cancel(); <-done }()
	for _, tc := range []struct {
		msg    string
		status int
		want   string
	}{{"ping?", 200, `"content":"pong"`}, {"other", 400, `"code":"no_fixture_matched"`}} {
		req, _ := http.NewRequest(http.MethodPost, url+"/v1/chat/completions",
			strings.NewReader(`{"model":"qwen3-max","messages":[{"role":"user","content":"`+tc.msg+`"}]}`))
		req.Header.Set("Authorization", "Bearer sk-test")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d %s", tc.msg, resp.StatusCode, body)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	url, cancel, done := startRun(t, "--admin-token", "adm")
	defer func() { cancel(); <-done }()
	addr := strings.TrimPrefix(url, "http://")
	env := func(k string) string {
		if k == "QWENMOCK_ADMIN_TOKEN" {
			return "adm"
		}
		return ""
	}
	if code := run(context.Background(), []string{"healthcheck", "--addr", addr}, env, io.Discard, io.Discard); code != 0 {
		t.Fatalf("healthy server: exit %d", code)
	}
	var stderr strings.Builder
	if code := run(context.Background(), []string{"healthcheck", "--addr", addr}, func(string) string { return "" }, io.Discard, &stderr); code != 0 {
		t.Fatalf("without the admin token (health stays open): exit %d (%s)", code, stderr.String())
	}
	// 0.0.0.0 is checked on loopback.
	_, port, _ := strings.Cut(addr, ":")
	if code := run(context.Background(), []string{"healthcheck", "--addr", "0.0.0.0:" + port}, env, io.Discard, io.Discard); code != 0 {
		t.Fatalf("0.0.0.0: exit %d", code)
	}
	if code := run(context.Background(), []string{"healthcheck", "--addr", "127.0.0.1:1"}, env, io.Discard, io.Discard); code != 1 {
		t.Fatalf("nothing listening: exit %d", code)
	}
}

func TestListeningAddr(t *testing.T) {
	for _, tc := range []struct{ asked, want string }{
		{"0.0.0.0:0", "0.0.0.0:4242"},
		{"127.0.0.1:0", "127.0.0.1:4242"},
		{"localhost:8080", "localhost:4242"},
		{":8080", "[::]:4242"},
		{"[::1]:0", "[::1]:4242"},
	} {
		if got := listeningAddr(tc.asked, &net.TCPAddr{IP: net.IPv6unspecified, Port: 4242}); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.asked, got, tc.want)
		}
	}
}
