//go:build redisintegration

// Shared rate limits across qwenmock processes, against a real redis-server. Run by
// .ci/redis-test.sh, which installs redis-server:
//
//	go test -tags redisintegration -run TestRedisReplicas -v ./cmd/qwenmock/
//
// The test builds qwenmock, starts redis-server on a random loopback port and three
// qwenmock processes sharing it, and stops them all when it ends.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// redisServer is a redis-server process on a loopback port, without persistence.
type redisServer struct {
	port string
	dir  string
	cmd  *exec.Cmd
	out  bytes.Buffer
}

// startRedis starts redis-server on port (a free one if empty) and waits until it answers.
func startRedis(t testing.TB, dir, port string) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is not installed (.ci/redis-test.sh installs it)")
	}
	for attempt := 0; ; attempt++ {
		p := port
		if p == "" {
			p = freeLoopbackPort(t)
		}
		r := &redisServer{port: p, dir: dir}
		r.cmd = exec.Command(bin, "--port", p, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--loglevel", "warning")
		r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if waitRedis(p) {
			t.Cleanup(r.stop)
			return r
		}
		r.stop()
		if port != "" || attempt == 3 {
			t.Fatalf("redis-server on port %s did not start: %s", p, r.out.String())
		}
	}
}

// waitRedis waits up to 5 s for PONG on port.
func waitRedis(port string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 200*time.Millisecond)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("PING\r\n"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if line == "+PONG\r\n" {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// kill stops the server at once (SIGKILL), as a crash would.
func (r *redisServer) kill() {
	if r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		_ = r.cmd.Wait()
	}
}

func (r *redisServer) stop() { r.kill() }

func freeLoopbackPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// replica is one qwenmock process.
type replica struct {
	url string
	cmd *exec.Cmd
	log *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`qwenmock listening on (http://\S+)`)

// buildQwenmock builds the command once per test binary.
var buildQwenmock = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "qm-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "qwenmock")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v: %s", err, out)
	}
	return bin, nil
})

// startReplica starts qwenmock on a free loopback port with args and waits for its
// listening line.
func startReplica(t testing.TB, args ...string) *replica {
	t.Helper()
	bin, err := buildQwenmock()
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{log: &syncBuffer{}}
	r.cmd = exec.Command(bin, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	r.cmd.Stdout = r.log
	r.cmd.Stderr = r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = r.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = r.cmd.Process.Kill()
			<-done
			t.Errorf("qwenmock did not stop on SIGTERM within 15 s:\n%s", r.log.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(r.log.String()); m != nil {
			r.url = m[1]
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("qwenmock did not start:\n%s", r.log.String())
	return nil
}

var client = &http.Client{Timeout: 10 * time.Second}

const chatPath = "/compatible-mode/v1/chat/completions"

// chatBody asks for exactly maxTokens of generated text: the generated prose is longer,
// so the reply stops at the limit and the request uses its whole estimate.
func chatBody(maxTokens int) string {
	return `{"model":"qwen3-max","messages":[{"role":"user","content":"Tell me a long story about the sea."}],"max_tokens":` + strconv.Itoa(maxTokens) + `}`
}

type result struct {
	status           int
	code             string // error code of a refusal
	completionTokens int
	promptTokens     int
	err              error
}

func send(url, body string) result {
	req, _ := http.NewRequest(http.MethodPost, url+chatPath, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk-fleet")
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{status: resp.StatusCode, err: err}
	}
	var v struct {
		Error *struct {
			Code string `json:"code"`
		} `json:"error"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return result{status: resp.StatusCode, err: fmt.Errorf("body %q: %v", data, err)}
	}
	r := result{status: resp.StatusCode, completionTokens: v.Usage.CompletionTokens, promptTokens: v.Usage.PromptTokens}
	if v.Error != nil {
		r.code = v.Error.Code
	}
	return r
}

func control(t testing.TB, method, url, body string) string {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, data)
	}
	return string(data)
}

type scope struct {
	Requests        int `json:"requests"`
	Tokens          int `json:"tokens"`
	RemainingTokens int `json:"remaining_tokens"`
}

func limits(t testing.TB, url string) []scope {
	var v struct{ Scopes []scope }
	if err := json.Unmarshal([]byte(control(t, http.MethodGet, url+"/_mock/limits", "")), &v); err != nil {
		t.Fatal(err)
	}
	return v.Scopes
}

// fleet sends perClient requests from each of clients goroutines at once, client g's
// i-th request to replica (g+i) mod n, and returns every result.
func fleet(replicas []*replica, clients, perClient int, body string) []result {
	var mu sync.Mutex
	var out []result
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range perClient {
				r := send(replicas[(g+i)%len(replicas)].url, body)
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func tally(t testing.TB, rs []result) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, r := range rs {
		if r.err != nil {
			t.Fatalf("request failed: %v", r.err)
		}
		m[strconv.Itoa(r.status)+" "+r.code]++
	}
	return m
}

// TestRedisReplicas is the shared-quota contract across processes: three qwenmock
// processes on one Redis, 64 concurrent clients spread over them.
func TestRedisReplicas(t *testing.T) {
	dir := t.TempDir()
	rs := startRedis(t, dir, "")
	redisURL := "redis://127.0.0.1:" + rs.port
	var reps []*replica
	for range 3 {
		reps = append(reps, startReplica(t, "--redis-url", redisURL, "--rpm", "30", "--tpm", "0"))
	}

	t.Run("rpm 30 admits exactly 30", func(t *testing.T) {
		got := tally(t, fleet(reps, 64, 4, chatBody(5)))
		want := map[string]int{"200 ": 30, "429 limit_requests": 64*4 - 30}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("statuses %v, want %v", got, want)
		}
		for i, r := range reps {
			if s := limits(t, r.url); len(s) != 1 || s[0].Requests != 30 {
				t.Fatalf("replica %d lists %+v, want 30 requests", i, s)
			}
		}
	})

	t.Run("advance on one replica moves all", func(t *testing.T) {
		if r := send(reps[2].url, chatBody(5)); r.status != 429 {
			t.Fatalf("before: %+v", r)
		}
		control(t, http.MethodPost, reps[0].url+"/_mock/clock/advance", `{"seconds": 60}`)
		if r := send(reps[2].url, chatBody(5)); r.status != 200 {
			t.Fatalf("after advancing replica 0 by 60 s, replica 2 answered %+v", r)
		}
	})

	t.Run("tpm admits exactly its tokens", func(t *testing.T) {
		control(t, http.MethodPost, reps[1].url+"/_mock/reset", "")
		probe := send(reps[0].url, chatBody(5))
		if probe.status != 200 || probe.completionTokens != 5 {
			t.Fatalf("probe: %+v", probe)
		}
		perRequest := probe.promptTokens + 5 // the estimate, and what is used
		const fits = 20
		tpm := fits * perRequest
		control(t, http.MethodPost, reps[2].url+"/_mock/reset", "")
		for _, r := range reps {
			control(t, http.MethodPatch, r.url+"/_mock/config", fmt.Sprintf(`{"rate_limits":{"rpm":0,"tpm":%d}}`, tpm))
		}
		results := fleet(reps, 64, 4, chatBody(5))
		got := tally(t, results)
		want := map[string]int{"200 ": fits, "429 insufficient_quota": 64*4 - fits}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("statuses %v, want %v", got, want)
		}
		used := 0
		for _, r := range results {
			used += r.promptTokens + r.completionTokens
		}
		if used != tpm {
			t.Fatalf("admitted requests used %d tokens, want the TPM %d", used, tpm)
		}
		for i, r := range reps {
			if s := limits(t, r.url); len(s) != 1 || s[0].Tokens != tpm || s[0].RemainingTokens != 0 {
				t.Fatalf("replica %d lists %+v, want %d tokens", i, s, tpm)
			}
		}
	})

	t.Run("redis killed and restarted", func(t *testing.T) {
		control(t, http.MethodPost, reps[0].url+"/_mock/reset", "")
		for _, r := range reps {
			control(t, http.MethodPatch, r.url+"/_mock/config", `{"rate_limits":{"rpm":100000,"tpm":0}}`)
		}
		var (
			stop     atomic.Bool
			restored [3]atomic.Bool // each replica admitted again after the restart
			mu       sync.Mutex
			before   = map[string]int{} // while Redis is up, before the kill
			during   = map[string]int{} // while Redis is down
			after    = map[string]int{} // after it is back
			failures []error
			phase    atomic.Int32 // 0 up, 1 down, 3 starting again, 2 back
			wg       sync.WaitGroup
		)
		for g := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; !stop.Load(); i++ {
					p := phase.Load()
					start := time.Now()
					n := (g + i) % 3
					r := send(reps[n].url, chatBody(5))
					mu.Lock()
					key := strconv.Itoa(r.status) + " " + r.code
					switch now := phase.Load(); {
					case r.err != nil:
						failures = append(failures, r.err)
					case time.Since(start) > 3*time.Second:
						failures = append(failures, fmt.Errorf("a request took %v", time.Since(start)))
					case p != now && p != 1 && p != 3:
						// crossed the kill: either answer is right
					case p == 0:
						before[key]++
					case p == 1 && now == 1:
						during[key]++
					case p == 2 || p == 3:
						after[key]++
						if r.status == 200 {
							restored[n].Store(true)
						}
					}
					mu.Unlock()
					time.Sleep(5 * time.Millisecond)
				}
			}()
		}
		time.Sleep(500 * time.Millisecond)
		phase.Store(1)
		rs.kill()
		time.Sleep(1500 * time.Millisecond)
		// Replicas may admit again before startRedis sees the server answer: a request
		// made while it starts counts as after the restart, and one made while Redis was
		// down counts as during only if it ended before the restart began.
		phase.Store(3)
		startRedis(t, dir, rs.port) // the same address, empty: no persistence
		phase.Store(2)
		back := time.Now()
		deadline := back.Add(10 * time.Second)
		for !(restored[0].Load() && restored[1].Load() && restored[2].Load()) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("every replica admitted again within %v after Redis answered", time.Since(back).Round(10*time.Millisecond))
		time.Sleep(300 * time.Millisecond)
		stop.Store(true)
		wg.Wait()
		t.Logf("before the kill %v; while down %v; after the restart %v", before, during, after)
		if len(failures) > 0 {
			t.Fatalf("%d requests failed or hung, first: %v", len(failures), failures[0])
		}
		if len(before) != 1 || before["200 "] == 0 {
			t.Fatalf("before the kill: %v", before)
		}
		if len(during) != 1 || during["503 rate_limit_store_unavailable"] == 0 {
			t.Fatalf("while Redis was down, want only 503 rate_limit_store_unavailable: %v", during)
		}
		if after["200 "] == 0 {
			t.Fatalf("service did not resume after Redis returned: %v", after)
		}
		for k := range after {
			if k != "200 " && k != "503 rate_limit_store_unavailable" {
				t.Fatalf("after the restart: %v", after)
			}
		}
		for i, r := range reps {
			log := r.log.String()
			if !strings.Contains(log, "redis unreachable") || !strings.Contains(log, "redis reachable again") {
				var lines []string
				for _, l := range strings.Split(log, "\n") {
					if strings.Contains(l, "redis") {
						lines = append(lines, l)
					}
				}
				t.Fatalf("replica %d log lacks the outage lines:\n%s", i, strings.Join(lines, "\n"))
			}
		}
		// The restarted Redis holds only what came after it: the windows started again.
		s := limits(t, reps[1].url)
		if len(s) != 1 || s[0].Requests > after["200 "]+64 {
			t.Fatalf("after the restart the window holds %+v; %d admitted since", s, after["200 "])
		}
	})

	t.Run("fail open", func(t *testing.T) {
		open := startReplica(t, "--redis-url", "redis://127.0.0.1:"+freeLoopbackPort(t), "--redis-fail-open", "--rpm", "1")
		for i := range 3 {
			start := time.Now()
			r := send(open.url, chatBody(5))
			t.Logf("request %d: %d in %v", i, r.status, time.Since(start))
			if r.status != 200 {
				t.Fatalf("request %d with Redis absent and --redis-fail-open: %+v", i, r)
			}
		}
		if !strings.Contains(open.log.String(), "let through unchecked") {
			t.Fatalf("log:\n%s", open.log.String())
		}
	})
}

// BenchmarkReplicasHTTP measures whole requests (non-streamed, 5 tokens) from 32
// concurrent clients: one in-memory qwenmock, one on Redis, and three on one Redis with
// the clients spread over them. It reports requests per second and the p50/p99 latency of
// a request.
func BenchmarkReplicasHTTP(b *testing.B) {
	dir := b.TempDir()
	rs := startRedis(b, dir, "")
	redisURL := "redis://127.0.0.1:" + rs.port
	memory := startReplica(b, "--rpm", "0", "--tpm", "0")
	var shared []*replica
	for range 3 {
		shared = append(shared, startReplica(b, "--redis-url", redisURL, "--rpm", "0", "--tpm", "0"))
	}
	cases := []struct {
		name string
		reps []*replica
	}{
		{"memory-1", []*replica{memory}},
		{"redis-1", shared[:1]},
		{"redis-3", shared},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			reps := c.reps
			body := chatBody(5)
			var n atomic.Int64
			lat := make([][]time.Duration, 32)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for g := range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; n.Add(1) <= int64(b.N); i++ {
						t0 := time.Now()
						if r := send(reps[(g+i)%len(reps)].url, body); r.status != 200 {
							b.Errorf("%+v", r)
							return
						}
						lat[g] = append(lat[g], time.Since(t0))
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			all := slices.Concat(lat...)
			slices.Sort(all)
			if len(all) > 0 {
				b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
				b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
			}
		})
	}
}
