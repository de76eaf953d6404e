package mockserver

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const hiBody = `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":10}`

const (
	rpmBody = `{"error":{"message":"You have exceeded your current request limit. For details, see: https://www.alibabacloud.com/help/en/model-studio/error-code#rate-limit","type":"limit_requests","param":null,"code":"limit_requests"},"request_id":"%s"}`
	tpmBody = `{"error":{"message":"You exceeded your current quota, please check your plan and billing details. For details, see: https://www.alibabacloud.com/help/en/model-studio/error-code#token-limit","type":"insufficient_quota","param":null,"code":"insufficient_quota"},"request_id":"%s"}`
)

func TestRPMLimit(t *testing.T) {
	t.Parallel()
	ids := sequentialIDs()
	srv := newTestHandler(t, WithRequestIDs(ids), WithModelLimits("qwen3-max", RateLimits{RPM: 2}))
	for i := range 2 {
		if rec := chat(t, srv, hiBody); rec.Code != 200 {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := chat(t, srv, hiBody)
	if want := fmt.Sprintf(rpmBody, "00000000-0000-4000-8000-000000000003"); rec.Code != 429 || rec.Body.String() != want {
		t.Fatalf("third request: %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Retry-After") != "" || rec.Header().Get("X-Ratelimit-Remaining-Requests") != "" {
		t.Fatalf("rate-limit headers without WithRateLimitHeaders: %v", rec.Header())
	}
	// A streaming request gets the 429 before any stream byte.
	rec = chat(t, srv, strings.TrimSuffix(hiBody, `}`)+`,"stream":true}`)
	if rec.Code != 429 || !strings.HasPrefix(rec.Body.String(), `data: {"error":{"message":"You have exceeded your current request limit.`) {
		t.Fatalf("stream: %d %s", rec.Code, rec.Body)
	}
	// Another model, and an alias of the same snapshot, have their own windows.
	if rec := chat(t, srv, strings.Replace(hiBody, "qwen3-max", "qwen3-max-2026-01-23", 1)); rec.Code != 200 {
		t.Fatalf("snapshot: %d", rec.Code)
	}
	// Another key is another account.
	if rec := chatAs(t, srv, "sk-other", hiBody); rec.Code != 200 {
		t.Fatalf("other key: %d", rec.Code)
	}
	// 59.999 s later the window still holds both; at 60 s the first has left.
	srv.Advance(59999 * time.Millisecond)
	if rec := chat(t, srv, hiBody); rec.Code != 429 {
		t.Fatalf("at 59.999 s: %d", rec.Code)
	}
	srv.Advance(time.Millisecond)
	if rec := chat(t, srv, hiBody); rec.Code != 200 {
		t.Fatalf("at 60 s: %d %s", rec.Code, rec.Body)
	}
}

func TestTPMLimit(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t, WithRequestIDs(sequentialIDs()), WithLimits(RateLimits{TPM: 100}))
	// "hi" is 9 prompt tokens; with max_tokens 10 the estimate is 19, settled to 9 + 10.
	for i := range 5 {
		if rec := chat(t, srv, hiBody); rec.Code != 200 {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := chat(t, srv, hiBody)
	if want := fmt.Sprintf(tpmBody, "00000000-0000-4000-8000-000000000006"); rec.Code != 429 || rec.Body.String() != want {
		t.Fatalf("sixth request: %d %s", rec.Code, rec.Body)
	}
	// A request whose estimate alone exceeds the TPM never passes, even in an empty window.
	srv.Advance(time.Hour)
	big := strings.Replace(hiBody, `"max_tokens":10`, `"max_tokens":200`, 1)
	for range 2 {
		if rec := chat(t, srv, big); rec.Code != 429 || !strings.Contains(rec.Body.String(), `"code":"insufficient_quota"`) {
			t.Fatalf("estimate over TPM: %d %s", rec.Code, rec.Body)
		}
		srv.Advance(time.Minute)
	}
	// Settlement: the window holds what was used, not the estimate.
	srv.Advance(time.Hour)
	c := decodeCompletion(t, chat(t, srv, strings.Replace(hiBody, `"max_tokens":10`, `"max_tokens":80`, 1)))
	lim := srv.Limits()
	if len(lim) != 1 || lim[0].Tokens != c.Usage.TotalTokens || lim[0].RemainingTokens != 100-c.Usage.TotalTokens {
		t.Fatalf("after settlement %+v, usage %+v", lim, c.Usage)
	}
}

func TestAccountsShareLimits(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t, WithModelLimits("qwen3-max", RateLimits{RPM: 2}), WithAccount("team", "sk-a", "sk-b"))
	for _, key := range []string{"sk-a", "sk-b"} {
		if rec := chatAs(t, srv, key, hiBody); rec.Code != 200 {
			t.Fatalf("%s: %d", key, rec.Code)
		}
	}
	if rec := chatAs(t, srv, "sk-a", hiBody); rec.Code != 429 {
		t.Fatalf("shared window: %d", rec.Code)
	}
	if rec := chatAs(t, srv, "sk-c", hiBody); rec.Code != 200 {
		t.Fatalf("other account: %d", rec.Code)
	}
	lim := srv.Limits()
	if len(lim) != 2 || lim[0].Account != "account:team" || lim[0].Requests != 2 || lim[1].Account != "key:sk-…#923e700d172f" {
		t.Fatalf("limits %+v", lim)
	}
	if _, err := New(WithAccount("x", "sk-a"), WithAccount("y", "sk-a")); err == nil {
		t.Fatal("a key in two accounts was accepted")
	}
}

func TestRateLimitHeaders(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t, WithRateLimitHeaders(), WithModelLimits("qwen3-max", RateLimits{RPM: 2, TPM: 1000}))
	rec := chat(t, srv, hiBody)
	want := map[string]string{
		"X-Ratelimit-Limit-Requests": "2", "X-Ratelimit-Remaining-Requests": "1", "X-Ratelimit-Reset-Requests": "1m0s",
		"X-Ratelimit-Limit-Tokens": "1000", "X-Ratelimit-Remaining-Tokens": "981", "X-Ratelimit-Reset-Tokens": "1m0s",
		"Retry-After": "", "Retry-After-Ms": "",
	}
	for h, v := range want {
		if got := rec.Header().Get(h); got != v {
			t.Errorf("first request %s = %q, want %q", h, got, v)
		}
	}
	srv.Advance(20 * time.Second)
	chat(t, srv, hiBody)
	srv.Advance(10*time.Second + 500*time.Millisecond)
	rec = chat(t, srv, hiBody)
	if rec.Code != 429 {
		t.Fatalf("third: %d", rec.Code)
	}
	// The first request leaves the window 60 s after it came: 29.5 s from now.
	for h, v := range map[string]string{"Retry-After": "30", "Retry-After-Ms": "29500", "X-Ratelimit-Remaining-Requests": "0", "X-Ratelimit-Reset-Requests": "49.5s"} {
		if got := rec.Header().Get(h); got != v {
			t.Errorf("429 %s = %q, want %q", h, got, v)
		}
	}
	// Coming back before Retry-After is a premature retry.
	srv.Advance(10 * time.Second)
	if rec := chat(t, srv, hiBody); rec.Code != 429 {
		t.Fatalf("early retry: %d", rec.Code)
	}
	srv.Advance(20 * time.Second)
	if rec := chat(t, srv, hiBody); rec.Code != 200 {
		t.Fatalf("retry after Retry-After: %d %s", rec.Code, rec.Body)
	}
	if lim := srv.Limits(); lim[0].PrematureRetries != 1 {
		t.Fatalf("premature retries %+v", lim)
	}
}

// TestLimitsConcurrent sends 192 requests from 64 goroutines at one instant: exactly RPM pass.
func TestLimitsConcurrent(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t, WithModelLimits("qwen3-max", RateLimits{RPM: 100, TPM: 100 * 19}))
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				switch rec := chat(t, srv, hiBody); rec.Code {
				case 200:
					ok.Add(1)
				case 429:
					refused.Add(1)
				default:
					t.Errorf("status %d", rec.Code)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 100 || refused.Load() != 92 {
		t.Fatalf("%d admitted, %d refused; want 100 and 92", ok.Load(), refused.Load())
	}
}

// TestLimitRateNeverRefused sends at exactly the limit rate for three minutes.
func TestLimitRateNeverRefused(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t, WithModelLimits("qwen3-max", RateLimits{RPM: 120, TPM: 120 * 19}))
	for i := range 360 {
		if rec := chat(t, srv, hiBody); rec.Code != 200 {
			t.Fatalf("request %d at the limit rate: %d %s", i, rec.Code, rec.Body)
		}
		srv.Advance(500 * time.Millisecond)
	}
}

func TestPerSecondLimits(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t, WithPerSecondLimits(), WithModelLimits("qwen3-max", RateLimits{RPM: 120}))
	for i := range 2 {
		if rec := chat(t, srv, hiBody); rec.Code != 200 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	if rec := chat(t, srv, hiBody); rec.Code != 429 {
		t.Fatalf("third in one second: %d", rec.Code)
	}
	srv.Advance(time.Second)
	if rec := chat(t, srv, hiBody); rec.Code != 200 {
		t.Fatalf("next second: %d", rec.Code)
	}
}

func TestControlLimitsClockReset(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithClock(FixedClock(testTime)), WithModelLimits("qwen3-max", RateLimits{RPM: 1, TPM: 1000}))
	call := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-test-key-1234")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var sb strings.Builder
		_, _ = fmt.Fprint(&sb, readAll(t, resp))
		return resp.StatusCode, sb.String()
	}
	if st, _ := call("POST", "/v1/chat/completions", hiBody); st != 200 {
		t.Fatal(st)
	}
	if st, _ := call("POST", "/v1/chat/completions", hiBody); st != 429 {
		t.Fatal(st)
	}
	st, body := call("GET", "/_mock/limits", "")
	want := `,"scopes":[{"account":"key:sk-…#3b3d2edc38e5","model":"qwen3-max","rpm":1,"tpm":1000,"requests":1,"tokens":19,"remaining_requests":0,"remaining_tokens":981,"reset_requests_seconds":60,"reset_tokens_seconds":60,"premature_retries":0}]}`
	if st != 200 || !strings.HasPrefix(body, `{"now":"2024-12-25T09:47:13Z","models":[`) || !strings.HasSuffix(body, want) ||
		!strings.Contains(body, `{"model":"qwen3-max","rpm":1,"tpm":1000},`) || !strings.Contains(body, `{"model":"qwen-max","rpm":1200,"tpm":1000000},`) {
		t.Fatalf("limits:\n got  %d %s\n want %s", st, body, want)
	}
	if st, body := call("POST", "/_mock/clock/advance", `{"seconds": 60}`); st != 200 || body != `{"now":"2024-12-25T09:48:13Z"}` {
		t.Fatalf("advance: %d %s", st, body)
	}
	if st, _ := call("POST", "/v1/chat/completions", hiBody); st != 200 {
		t.Fatalf("after advance: %d", st)
	}
	if st, _ := call("POST", "/_mock/reset", ""); st != 200 {
		t.Fatal(st)
	}
	if st, body := call("GET", "/_mock/limits", ""); st != 200 || !strings.HasSuffix(body, `"scopes":[]}`) {
		t.Fatalf("after reset: %s", body)
	}
	for _, bad := range []string{``, `{"seconds":-1}`, `{"secs":5}`, `{"seconds":"5"}`} {
		if st, body := call("POST", "/_mock/clock/advance", bad); st != 400 || !strings.Contains(body, `"code":"invalid_control_request"`) {
			t.Errorf("advance %q: %d %s", bad, st, body)
		}
	}
	if st, body := call("GET", "/_mock/health", ""); st != 200 || body != `{"status":"ok"}` {
		t.Fatalf("health %d %s", st, body)
	}
}

// TestStreamSettlesWhatWasSent: a client that goes away mid-stream is charged the prompt and
// the tokens it was sent, not the estimate nor the whole reply.
func TestStreamSettlesWhatWasSent(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("word ", 40000)
	ts := NewTestServer(t, WithClock(FixedClock(testTime)), WithStreamChunkTokens(1),
		WithFixtures(Fixture{Name: "long", Reply: &FixtureReply{Content: &long}}))
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":30000,"stream":true}`
	resp := postStream(t, ts.URL, body)
	buf := make([]byte, 4096)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		lim := ts.Limits()
		if len(lim) == 1 && lim[0].Tokens < 9+30000 {
			if lim[0].Tokens <= 9 {
				t.Fatalf("settled to %d tokens: nothing sent was counted", lim[0].Tokens)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not settled below the full reply: %+v", lim)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestClientGoneIsLogged: a client that leaves mid-stream is reported to the logger.
func TestClientGoneIsLogged(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	long := strings.Repeat("word ", 40000)
	ts := NewTestServer(t, WithLogger(logger), WithStreamChunkTokens(1),
		WithFixtures(Fixture{Name: "long", Reply: &FixtureReply{Content: &long}}))
	resp := postStream(t, ts.URL, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":30000,"stream":true}`)
	buf := make([]byte, 4096)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		out := logs.String()
		mu.Unlock()
		if strings.Contains(out, `msg="client went away mid-stream"`) && strings.Contains(out, "reply_tokens=30000") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not logged: %q", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
