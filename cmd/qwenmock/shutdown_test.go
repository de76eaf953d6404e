package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test start this test binary as the qwenmock command, to send it real
// signals.
func TestMain(m *testing.M) {
	if os.Getenv("QWENMOCK_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// startProcess runs the command in a child process and returns its base URL.
func startProcess(t *testing.T, args ...string) (*exec.Cmd, string, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "QWENMOCK_TEST_RUN_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	r := bufio.NewReader(stderr)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v", err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "qwenmock listening on ")
	if !ok {
		t.Fatalf("listening line %q", line)
	}
	rest := &strings.Builder{}
	go io.Copy(rest, r)
	return cmd, url, rest
}

// TestSignalDuringStream: SIGTERM while a stream runs lets the stream finish, refuses new
// connections and exits 0.
func TestSignalDuringStream(t *testing.T) {
	cmd, url, _ := startProcess(t, "--token-latency", "25ms", "--shutdown-timeout", "20s")
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/chat/completions",
		strings.NewReader(`{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":40,"stream":true}`))
	req.Header.Set("Authorization", "Bearer sk-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(br)
	if err != nil || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Fatalf("the stream did not finish: %v, %q", err, rest)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("did not exit after the stream")
	}
	if _, err := http.Get(url + "/_mock/health"); err == nil {
		t.Fatal("still accepting connections")
	}
}

// TestRequestLog checks one log line per request, in JSON, with no key in it.
func TestRequestLog(t *testing.T) {
	cmd, url, logs := startProcess(t, "--log-format", "json")
	for _, key := range []string{"sk-secret-7777", ""} {
		req, _ := http.NewRequest(http.MethodPost, url+"/v1/chat/completions",
			strings.NewReader(`{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":3}`))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON log line: %q", l)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d request lines in %s", len(lines), logs)
	}
	first, second := lines[0], lines[1]
	if first["method"] != "POST" || first["path"] != "/v1/chat/completions" || first["model"] != "qwen3-max" ||
		first["status"] != 200.0 || first["prompt_tokens"] != 9.0 || first["completion_tokens"] != 3.0 || first["duration_ms"] == nil {
		t.Errorf("first line %v", first)
	}
	if second["status"] != 401.0 || second["error_code"] != "invalid_api_key" {
		t.Errorf("second line %v", second)
	}
	if strings.Contains(logs.String(), "secret") || strings.Contains(logs.String(), "7777") {
		t.Fatalf("a key reached the log: %s", logs)
	}
}

// TestConfigFileEndToEnd runs the command with a config file.
func TestConfigFileEndToEnd(t *testing.T) {
	p := t.TempDir() + "/qwenmock.yaml"
	if err := os.WriteFile(p, []byte(testConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	url, cancel, done := startRun(t, "--config", p, "--fault-rate", "0")
	defer func() { cancel(); <-done }()
	post := func(key, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	// Two queued internal faults first.
	for range 2 {
		if st, _ := post("sk-file", `{"model":"qwen3-max","messages":[{"role":"user","content":"x"}],"max_tokens":3}`); st != 500 {
			t.Fatalf("queued fault: %d", st)
		}
	}
	if st, body := post("sk-file", `{"model":"my-model","messages":[{"role":"user","content":"hello"}]}`); st != 200 || !strings.Contains(body, "Hi from the config file.") {
		t.Fatalf("inline fixture on an added model: %d %s", st, body)
	}
	if st, body := post("sk-file", `{"model":"my-model","messages":[{"role":"user","content":"x"}],"max_tokens":4096}`); st != 400 || !strings.Contains(body, "Range of max_tokens should be [1, 2048]") {
		t.Fatalf("added model limits: %d %s", st, body)
	}
	if st, _ := post("sk-other", `{"model":"qwen3-max","messages":[{"role":"user","content":"x"}]}`); st != 401 {
		t.Fatalf("api_keys: %d", st)
	}
}
