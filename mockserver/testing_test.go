package mockserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestJournal(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithClock(FixedClock(testTime)), WithRequestIDs(sequentialIDs()), WithJournal(3, 40),
		WithModelLimits("qwen-max", RateLimits{RPM: 1}))
	complete(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"你是谁？"}]}`)
	stream(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":3}`)
	post(t, ts, `{"model":"qwen-max","messages":[{"role":"user","content":"hi"}],"max_tokens":3}`)
	post(t, ts, `{"model":"qwen-max","messages":[{"role":"user","content":"hi"}],"max_tokens":3}`)

	all := ts.Requests()
	if len(all) != 3 || all[0].Seq != 2 || all[2].Seq != 4 {
		t.Fatalf("the ring should keep the last 3: %v", all)
	}
	s := all[0]
	if !s.Stream || s.Status != 200 || s.PromptTokens != 9 || s.CompletionTokens != 3 || s.FinishReason != "length" ||
		s.Shape != "compatible" || s.Key != "sk-…#f3abf2a6cc4f" || s.Path != "/compatible-mode/v1/chat/completions" || !s.BodyTruncated || len(s.Body) > 40 {
		t.Errorf("stream record %+v", s)
	}
	if last := ts.ExpectLastRequest(t); last.Status != 429 || last.ErrorCode != "limit_requests" || last.Model != "qwen-max" {
		t.Errorf("last %+v", last)
	}
	ts.ExpectRequests(t, 1, ModelIs("qwen-max"), StatusIs(200))
	ts.ExpectRequests(t, 1, ErrorCodeIs("limit_requests"))

	st, body := controlCall(t, ts, "GET", "/_mock/requests?model=qwen-max&status=429", "")
	if st != 200 || !strings.Contains(body, `"status":429,"error_code":"limit_requests"`) || strings.Count(body, `"seq"`) != 1 {
		t.Fatalf("filtered journal: %d %s", st, body)
	}
	if st, body := controlCall(t, ts, "GET", "/_mock/requests?status=abc", ""); st != 400 {
		t.Fatalf("bad filter: %d %s", st, body)
	}
	if st, _ := controlCall(t, ts, "DELETE", "/_mock/requests", ""); st != 200 || len(ts.Requests()) != 0 {
		t.Fatal("journal not cleared")
	}
}

// fakeT records a Fatalf so that a failing assertion helper can be tested.
type fakeT struct {
	msg string
}

func (f *fakeT) Helper()                   {}
func (f *fakeT) Cleanup(func())            {}
func (f *fakeT) Fatalf(s string, a ...any) { f.msg = fmt.Sprintf(s, a...) }

func TestExpectRequestsMessage(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`)
	var ft fakeT
	ts.ExpectRequests(&ft, 2, ModelIs("qwen3-max"))
	want := "qwenmock: want 2 matching requests, got 1; received:\n  #1 POST /compatible-mode/v1/chat/completions model=\"qwen3-max\" status=200 tokens=9+2 finish=length"
	if ft.msg != want {
		t.Fatalf("message:\n%s\nwant\n%s", ft.msg, want)
	}
}

func TestFaultsQueued(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithRequestIDs(sequentialIDs()))
	if err := ts.FailNext(2, "overloaded"); err != nil {
		t.Fatal(err)
	}
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":5}`
	st, out := post(t, ts, body)
	want := `{"error":{"message":"<503> InternalError.Algo: An error occurred in model serving, error message is: [Too many requests. Your requests are being throttled due to system capacity limits. Please try again later.]","type":"ServiceUnavailable","param":null,"code":"ServiceUnavailable"},"id":"chatcmpl-` + firstID + `","request_id":"` + firstID + `"}`
	if st != 503 || string(out) != want {
		t.Fatalf("first: %d %s", st, out)
	}
	// The second one, on the native shape, in its envelope.
	resp, out := postNative(t, ts, `{"model":"qwen3-max","input":{"prompt":"hi"}}`)
	if resp.StatusCode != 503 || !strings.HasPrefix(string(out), `{"code":"ServiceUnavailable","message":"<503> InternalError.Algo`) {
		t.Fatalf("second: %d %s", resp.StatusCode, out)
	}
	if st, _ := post(t, ts, body); st != 200 {
		t.Fatalf("third should pass: %d", st)
	}
	// Per model, over the control API.
	if st, out := controlCall(t, ts, "POST", "/_mock/faults", `{"fault":"internal","count":1,"model":"qwen-plus"}`); st != 200 || out != `{"status":"queued"}` {
		t.Fatalf("queue: %d %s", st, out)
	}
	if st, _ := post(t, ts, body); st != 200 {
		t.Fatalf("other model: %d", st)
	}
	if st, out := post(t, ts, strings.Replace(body, "qwen3-max", "qwen-plus", 1)); st != 500 || !strings.Contains(string(out), `"code":"internal_server_error"`) {
		t.Fatalf("qwen-plus: %d %s", st, out)
	}
	for _, bad := range []string{`{"fault":"nope"}`, `{"fault":"internal","count":-1}`, `{"kind":"internal"}`} {
		if st, out := controlCall(t, ts, "POST", "/_mock/faults", bad); st != 400 {
			t.Errorf("%s: %d %s", bad, st, out)
		}
	}
	ts.ExpectRequests(t, 3, func(r RequestRecord) bool { return r.Fault != "" })
}

func TestFaultHeader(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}]}`
	r := bothWays(t, ts, body, "X-Mock-Fault", "rate_limit_tokens")
	if r.Status != 429 || r.Error.Code != "insufficient_quota" {
		t.Fatalf("header fault: %s", r.Raw)
	}
	r = complete(t, ts, body, "X-Mock-Fault", "context_length")
	if r.Status != 400 || r.Error.Message != "<400> InternalError.Algo.InvalidParameter: Range of input length should be [1, 258048]" {
		t.Fatalf("context fault: %s", r.Raw)
	}
	for _, h := range []string{"nope", "internal; after_chunks=x", "internal; every=2"} {
		if r := complete(t, ts, body, "X-Mock-Fault", h); r.Status != 400 || r.Error.Code != "invalid_fault" {
			t.Errorf("%q: %s", h, r.Raw)
		}
	}
}

// TestMidStreamFault: after N events the stream gets the shape's error frame, then ends.
func TestMidStreamFault(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithRequestIDs(sequentialIDs()))
	_, out := post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"stream":true}`, "X-Mock-Fault", "internal; after_chunks=3")
	events := sseEvents(t, strings.NewReader(string(out)))
	if len(events) != 4 || !strings.HasPrefix(events[2], `{"choices":[{"delta":{"content":`) {
		t.Fatalf("events %q", events)
	}
	if want := `{"error":{"message":"<500> InternalError.Algo: An error occurred in model serving, error message is: [Inference engine abort. Finish reason: [UNKNOWN].]","type":"internal_server_error","param":null,"code":"internal_server_error"},"id":"chatcmpl-` + firstID + `","request_id":"` + firstID + `"}`; events[3] != want {
		t.Fatalf("error event %s", events[3])
	}
	resp, out := postNative(t, ts, `{"model":"qwen3-max","input":{"prompt":"hi"},"parameters":{"incremental_output":true}}`, "X-DashScope-SSE", "enable", "X-Mock-Fault", "timeout; after_chunks=2")
	frames := strings.Split(strings.TrimSuffix(string(out), "\n\n"), "\n\n")
	want := "id:3\nevent:error\n:HTTP_STATUS/500\ndata:{\"code\":\"RequestTimeOut\",\"message\":\"Request timed out, please try again later.\",\"request_id\":\"00000000-0000-4000-8000-000000000002\"}"
	if resp.StatusCode != 200 || len(frames) != 3 || frames[2] != want {
		t.Fatalf("native frames %q", frames)
	}
	rec := ts.ExpectLastRequest(t)
	if rec.Fault != "timeout" || rec.ErrorCode != "RequestTimeOut" || rec.Status != 200 {
		t.Fatalf("record %+v", rec)
	}
}

func TestStreamDropAndHang(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"stream":true}`
	req, _ := http.NewRequest(http.MethodPost, ts.OpenAIBaseURL()+"/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk-test")
	req.Header.Set("X-Mock-Fault", "stream_drop; after_chunks=2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || strings.Count(string(out), "data: ") != 2 || strings.Contains(string(out), "[DONE]") {
		t.Fatalf("drop: err %v, body %q", err, out)
	}
	// A non-stream drop closes the connection without an answer.
	req, _ = http.NewRequest(http.MethodPost, ts.OpenAIBaseURL()+"/chat/completions", strings.NewReader(strings.Replace(body, `"stream":true`, `"stream":false`, 1)))
	req.Header.Set("Authorization", "Bearer sk-test")
	req.Header.Set("X-Mock-Fault", "stream_drop")
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("non-stream drop answered")
	}
	// hang: no answer until the client gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, ts.OpenAIBaseURL()+"/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk-test")
	req.Header.Set("X-Mock-Fault", "hang")
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang: %v", err)
	}
	// slow_headers: the answer comes after the delay.
	var sl sleepLog
	slow := NewTestServer(t, sl.option())
	r := complete(t, slow, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":3}`, "X-Mock-Fault", "slow_headers; delay_ms=150")
	if waits := sl.get(); r.Status != 200 || len(waits) != 1 || waits[0] != 150*time.Millisecond {
		t.Fatalf("slow headers: %d after waits %v", r.Status, waits)
	}
}

func TestFaultRateSeeded(t *testing.T) {
	t.Parallel()
	pattern := func() string {
		ts := NewTestServer(t, WithFaultRate(0.3), WithSeed(9))
		var sb strings.Builder
		for i := range 40 {
			st, _ := post(t, ts, fmt.Sprintf(`{"model":"qwen3-max","messages":[{"role":"user","content":"q%d"}],"max_tokens":2}`, i))
			fmt.Fprintf(&sb, "%d,", st)
		}
		return sb.String()
	}
	a, b := pattern(), pattern()
	if a != b {
		t.Fatalf("fault pattern differs between runs:\n%s\n%s", a, b)
	}
	if n := 40 - strings.Count(a, "200,"); n < 4 || n > 24 {
		t.Fatalf("%d of 40 faulted at rate 0.3: %s", n, a)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	var sl sleepLog
	ts := NewTestServer(t, WithLatency(100*time.Millisecond, 10*time.Millisecond, 0), sl.option())
	r := complete(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":5}`)
	if waits := sl.get(); r.Status != 200 || sumDurations(waits) != 150*time.Millisecond {
		t.Fatalf("non-stream waited %v, want 100ms + 5×10ms", waits)
	}
	// Streams: the headers go out before the first-token latency is spent. The sleeper
	// holds the first wait until the client has the headers.
	gated := &sleepLog{gate: make(chan struct{})}
	ts = NewTestServer(t, WithLatency(100*time.Millisecond, 10*time.Millisecond, 0), gated.option())
	req, _ := http.NewRequest(http.MethodPost, ts.OpenAIBaseURL()+"/chat/completions",
		strings.NewReader(`{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":8,"stream":true}`))
	req.Header.Set("Authorization", "Bearer sk-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	close(gated.gate)
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if waits := gated.get(); len(waits) == 0 || waits[0] < 100*time.Millisecond || sumDurations(waits) != 180*time.Millisecond {
		t.Fatalf("stream waits %v, want the first token's 100ms first and 100ms + 8×10ms in all", waits)
	}
	// A fixture's latency wins over the server's.
	fast := NewTestServer(t, WithLatency(MaxFirstTokenLatency, 0, 0), WithFixtures(Fixture{Name: "f", Reply: &FixtureReply{}, Latency: &FixtureLatency{FirstToken: "1ms"}}))
	if r := complete(t, fast, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":3}`); r.Status != 200 {
		t.Fatal(r.Raw)
	}
	if _, err := ParseFixtures("x.yaml", []byte("fixtures:\n  - name: a\n    reply: {content: x}\n    latency: {first_token: soon}\n")); err == nil || !strings.Contains(err.Error(), `x.yaml:4: fixture "a": bad duration "soon"`) {
		t.Fatalf("bad latency: %v", err)
	}
}

func TestUsageAndCost(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	r := complete(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"你是谁？"}]}`)
	complete(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"你是谁？"}]}`)
	u := ts.Usage()
	in, out := 2*r.Usage.PromptTokens, 2*r.Usage.CompletionTokens
	wantCost := (float64(in)*1.2 + float64(out)*6.0) / 1e6
	if len(u) != 1 || u[0].Requests != 2 || u[0].PromptTokens != in || u[0].CompletionTokens != out || u[0].Key != "sk-…#f3abf2a6cc4f" || !u[0].Priced ||
		u[0].CostUSD < wantCost-1e-12 || u[0].CostUSD > wantCost+1e-12 {
		t.Fatalf("usage %+v, want cost %v", u, wantCost)
	}
	st, body := controlCall(t, ts, "GET", "/_mock/usage", "")
	if st != 200 || !strings.Contains(body, `"total_cost_usd":`) || !strings.Contains(body, `"model":"qwen3-max","requests":2`) {
		t.Fatalf("usage endpoint %d %s", st, body)
	}
	// The tier follows the input length: over 32K tokens the price doubles.
	m := &Model{Pricing: &Pricing{Tiers: []PriceTier{{MaxInputTokens: 32768, Input: 1.2, Output: 6}, {MaxInputTokens: 131072, Input: 2.4, Output: 12}}}}
	if c := cost(m, 40000, 1000, cacheUse{}); c != (40000*2.4+1000*12)/1e6 {
		t.Fatalf("tier 2 cost %v", c)
	}
}

func TestRuntimeConfig(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	st, body := controlCall(t, ts, "GET", "/_mock/config", "")
	if want := `{"rate_limits":{"rpm":null,"tpm":null,"tpm_estimate":"declared","models":{}},"latency":{"first_token_ms":0,"per_token_ms":0,"jitter":0},"fault_rate":0,"fault_kinds":["internal","overloaded","timeout","rate_limit_requests"],"implicit_cache":true}`; st != 200 || body != want {
		t.Fatalf("config %d %s", st, body)
	}
	st, body = controlCall(t, ts, "PATCH", "/_mock/config", `{"rate_limits":{"rpm":1,"models":{"qwen-max":{"rpm":5,"tpm":0}}},"latency":{"per_token_ms":1.5},"fault_rate":0}`)
	if want := `{"rate_limits":{"rpm":1,"tpm":null,"tpm_estimate":"declared","models":{"qwen-max":{"rpm":5,"tpm":0}}},"latency":{"first_token_ms":0,"per_token_ms":1.5,"jitter":0},"fault_rate":0,"fault_kinds":["internal","overloaded","timeout","rate_limit_requests"],"implicit_cache":true}`; st != 200 || body != want {
		t.Fatalf("patch %d %s", st, body)
	}
	hi := `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`
	post(t, ts, hi)
	if st, _ := post(t, ts, hi); st != 429 {
		t.Fatalf("rpm 1 at run time: %d", st)
	}
	for _, bad := range []string{`{"fault_rate":2}`, `{"latency":{"jitter":-1}}`, `{"rate_limits":{"rpm":-3}}`, `{"rate_limits":{"rpm":"x"}}`, `{"colour":"red"}`} {
		if st, body := controlCall(t, ts, "PATCH", "/_mock/config", bad); st != 400 || !strings.Contains(body, "invalid_control_request") {
			t.Errorf("%s: %d %s", bad, st, body)
		}
	}
	if st, body := controlCall(t, ts, "PATCH", "/_mock/config", `{"rate_limits":{"rpm":null,"models":{"qwen-max":null}}}`); st != 200 || !strings.Contains(body, `"rate_limits":{"rpm":null,"tpm":null,"tpm_estimate":"declared","models":{}}`) {
		t.Fatalf("clear: %d %s", st, body)
	}
}

func TestAdminToken(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithAdminToken("secret"))
	if st, body := controlCall(t, ts, "GET", "/_mock/requests", ""); st != 401 || !strings.Contains(body, `"code":"invalid_admin_token"`) {
		t.Fatalf("no token: %d %s", st, body)
	}
	if st, _ := controlCall(t, ts, "GET", "/_mock/health", ""); st != 200 {
		t.Fatalf("health is open: %d", st)
	}
	if st, _ := controlCall(t, ts, "GET", "/_mock/requests", "", "Authorization", "Bearer secret"); st != 200 {
		t.Fatalf("with token: %d", st)
	}
	// The API itself is not locked by the admin token.
	if st, _ := post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`); st != 200 {
		t.Fatal(st)
	}
}

func TestResetClearsEverything(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`)
	_ = ts.FailNext(5, "internal")
	ts.Reset()
	if len(ts.Requests()) != 0 || len(ts.Usage()) != 0 || len(ts.Limits()) != 0 {
		t.Fatal("state left after Reset")
	}
	if st, _ := post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`); st != 200 {
		t.Fatalf("queued faults survived Reset: %d", st)
	}
}

// TestManyServers: servers share the tokenizer and built-in fixtures, so making many is cheap.
func TestManyServers(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ts := NewTestServer(t)
			if st, _ := post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`); st != 200 {
				t.Errorf("status %d", st)
			}
		}()
	}
	wg.Wait()
}
