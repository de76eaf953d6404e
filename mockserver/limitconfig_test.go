package mockserver

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func limitOf(t *testing.T, s *Server, model string) RateLimits {
	t.Helper()
	for _, m := range s.ModelLimits() {
		if m.Model == model {
			return RateLimits{RPM: m.RPM, TPM: m.TPM}
		}
	}
	t.Fatalf("no model %s", model)
	return RateLimits{}
}

// TestLimitOptionsMergeInOrder: a zero field keeps its value, Unlimited lifts a limit,
// options apply in order, and per model beats every model whatever the order.
func TestLimitOptionsMergeInOrder(t *testing.T) {
	t.Parallel()
	three, four := 3, 4
	cases := []struct {
		name  string
		opts  []Option
		model string
		want  RateLimits
	}{
		{"catalogue", nil, "qwen3-max", RateLimits{600, 1000000}},
		{"model RPM keeps TPM", []Option{WithModelLimits("qwen3-max", RateLimits{RPM: 1})}, "qwen3-max", RateLimits{1, 1000000}},
		{"model options merge", []Option{WithModelLimits("qwen3-max", RateLimits{RPM: 1}), WithModelLimits("qwen3-max", RateLimits{TPM: 7})}, "qwen3-max", RateLimits{1, 7}},
		{"unlimited", []Option{WithModelLimits("qwen3-max", RateLimits{TPM: Unlimited})}, "qwen3-max", RateLimits{600, 0}},
		{"WithLimits then override", []Option{WithLimits(RateLimits{RPM: 5, TPM: 50}), WithRateLimitOverride(&three, nil)}, "qwen-max", RateLimits{3, 50}},
		{"override then WithLimits", []Option{WithRateLimitOverride(&three, &four), WithLimits(RateLimits{RPM: 5})}, "qwen-max", RateLimits{5, 4}},
		{"model beats every model, before", []Option{WithModelLimits("qwen3-max", RateLimits{RPM: 1}), WithLimits(RateLimits{RPM: 5, TPM: 50})}, "qwen3-max", RateLimits{1, 50}},
		{"model beats every model, after", []Option{WithLimits(RateLimits{RPM: 5, TPM: 50}), WithModelLimits("qwen3-max", RateLimits{RPM: 1})}, "qwen3-max", RateLimits{1, 50}},
		{"other model untouched", []Option{WithModelLimits("qwen3-max", RateLimits{RPM: 1})}, "qwen-max", RateLimits{1200, 1000000}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := limitOf(t, newTestHandler(t, tc.opts...), tc.model); got != tc.want {
				t.Errorf("%+v, want %+v", got, tc.want)
			}
		})
	}
	for _, bad := range []Option{WithLimits(RateLimits{}), WithModelLimits("qwen3-max", RateLimits{}), WithLimits(RateLimits{RPM: -2}), WithModelLimits("", RateLimits{RPM: 1}), WithTPMEstimate("guess")} {
		if _, err := New(bad); err == nil {
			t.Error("invalid option accepted")
		}
	}
	srv := newTestHandler(t, WithModelLimits("qwen3-max", RateLimits{RPM: 2}))
	if err := srv.SetLimits("qwen3-max", RateLimits{TPM: 9}); err != nil || limitOf(t, srv, "qwen3-max") != (RateLimits{2, 9}) {
		t.Fatalf("SetLimits merges: %v %+v", err, limitOf(t, srv, "qwen3-max"))
	}
	if err := srv.SetLimits("nope", RateLimits{TPM: 9}); err == nil {
		t.Fatal("SetLimits on an unknown model")
	}
}

// TestPatchConfigMergePatch walks PATCH /_mock/config through RFC 7396 semantics at every
// level, on a real server: absent keeps, null restores the start-up value.
func TestPatchConfigMergePatch(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithModelLimits("qwen-max", RateLimits{RPM: 3}), WithLimits(RateLimits{TPM: 500000}),
		WithLatency(10*time.Millisecond, time.Millisecond, 0.5), WithFaultRate(0.5), WithTPMEstimate(TPMEstimateMaxOutput))
	patch := func(body string) string {
		t.Helper()
		st, out := controlCall(t, ts, "PATCH", "/_mock/config", body)
		if st != 200 {
			t.Fatalf("PATCH %s: %d %s", body, st, out)
		}
		return out
	}
	check := func(step string, model string, want RateLimits) {
		t.Helper()
		if got := limitOf(t, ts.Server, model); got != want {
			t.Fatalf("%s: %s has %+v, want %+v", step, model, got, want)
		}
	}
	start := `{"rate_limits":{"rpm":null,"tpm":500000,"tpm_estimate":"max-output","models":{"qwen-max":{"rpm":3}}},"latency":{"first_token_ms":10,"per_token_ms":1,"jitter":0.5},"fault_rate":0.5,"fault_kinds":["internal","overloaded","timeout","rate_limit_requests"],"implicit_cache":true}`
	if st, out := controlCall(t, ts, "GET", "/_mock/config", ""); st != 200 || out != start {
		t.Fatalf("GET: %s\nwant %s", out, start)
	}
	patch(`{"rate_limits":{"models":{"qwen3-max":{"rpm":7}}}}`)
	check("rpm 7", "qwen3-max", RateLimits{7, 500000}) // the TPM is kept
	patch(`{"rate_limits":{"models":{"qwen3-max":{"tpm":9}}}}`)
	check("tpm 9", "qwen3-max", RateLimits{7, 9})
	patch(`{"rate_limits":{"models":{"qwen3-max":{"rpm":null}}}}`)
	check("rpm null", "qwen3-max", RateLimits{600, 9})
	patch(`{"rate_limits":{"models":{"qwen-max":{"rpm":4}}}}`)
	check("qwen-max 4", "qwen-max", RateLimits{4, 500000})
	patch(`{"rate_limits":{"models":{"qwen-max":null}}}`)
	check("qwen-max null", "qwen-max", RateLimits{3, 500000}) // back to the start-up value
	patch(`{"rate_limits":{"models":{"qwen-max":{"rpm":4}}}}`)
	patch(`{"rate_limits":{"models":null}}`)
	check("models null", "qwen-max", RateLimits{3, 500000})
	check("models null", "qwen3-max", RateLimits{600, 500000})
	patch(`{"rate_limits":{"rpm":2,"tpm":0}}`)
	check("run time, every model", "qwen-max", RateLimits{2, 0}) // run time beats a start-up model limit
	patch(`{"rate_limits":{"tpm":null}}`)
	check("tpm null", "qwen-max", RateLimits{2, 500000})
	patch(`{"rate_limits":{"models":{"qwen3-max":{"rpm":8}},"tpm_estimate":"declared"}}`)
	patch(`{"rate_limits":null}`)
	check("rate_limits null", "qwen-max", RateLimits{3, 500000})
	check("rate_limits null", "qwen3-max", RateLimits{600, 500000})
	if got := ts.Config().RateLimits.TPMEstimate; got != TPMEstimateMaxOutput {
		t.Fatalf("rate_limits null kept tpm_estimate %q", got)
	}

	out := patch(`{"latency":{"first_token_ms":5}}`)
	if !strings.Contains(out, `"latency":{"first_token_ms":5,"per_token_ms":1,"jitter":0.5}`) {
		t.Fatalf("latency merge: %s", out)
	}
	out = patch(`{"latency":{"first_token_ms":null,"jitter":0}}`)
	if !strings.Contains(out, `"latency":{"first_token_ms":10,"per_token_ms":1,"jitter":0}`) {
		t.Fatalf("latency null: %s", out)
	}
	out = patch(`{"latency":null,"fault_rate":0,"implicit_cache":false,"rate_limits":{"tpm_estimate":"declared"}}`)
	if !strings.Contains(out, `"latency":{"first_token_ms":10,"per_token_ms":1,"jitter":0.5},"fault_rate":0,"fault_kinds":["internal","overloaded","timeout","rate_limit_requests"],"implicit_cache":false`) ||
		!strings.Contains(out, `"tpm_estimate":"declared"`) {
		t.Fatalf("several: %s", out)
	}
	out = patch(`{"fault_rate":null,"implicit_cache":null,"rate_limits":{"tpm_estimate":null}}`)
	if !strings.Contains(out, `"fault_rate":0.5,"fault_kinds":["internal","overloaded","timeout","rate_limit_requests"],"implicit_cache":true`) || !strings.Contains(out, `"tpm_estimate":"max-output"`) {
		t.Fatalf("nulls: %s", out)
	}
	if out := patch(`{"fault_kinds":["empty_reply","unknown_tool"]}`); !strings.Contains(out, `"fault_kinds":["empty_reply","unknown_tool"]`) {
		t.Fatalf("fault_kinds: %s", out)
	}
	if out := patch(`{"fault_kinds":null}`); out != start {
		t.Fatalf("fault_kinds null: %s", out)
	}
	patch(`{"rate_limits":{"rpm":1,"models":{"qwen3-max":{"tpm":1}}},"latency":{"jitter":0},"fault_rate":0.1,"fault_kinds":["hang"]}`)
	if out := patch(`null`); out != start {
		t.Fatalf("null patch: %s\nwant %s", out, start)
	}
	if out := patch(`{}`); out != start {
		t.Fatalf("empty patch changed something: %s", out)
	}

	// Invalid patches change nothing, even their valid parts.
	for _, bad := range []string{
		`{"fault_rate":2}`, `{"latency":{"jitter":-1}}`, `{"rate_limits":{"rpm":-3}}`, `{"rate_limits":{"rpm":"x"}}`,
		`{"rate_limits":{"rpm":1.5}}`, `{"colour":"red"}`, `[]`, `3`, `{"rate_limits":[]}`, `{"rate_limits":{"models":{"gpt-4":{"rpm":1}}}}`,
		`{"rate_limits":{"models":{"qwen3-max":{"rpn":1}}}}`, `{"rate_limits":{"tpm_estimate":"guess"}}`, `{"implicit_cache":"yes"}`,
		`{"rate_limits":{"rpm":1},"fault_rate":-1}`, `{"latency":{"first_token_ms":1e400}}`, `{} {}`,
		`{"fault_kinds":[]}`, `{"fault_kinds":["gremlins"]}`, `{"fault_kinds":"internal"}`,
	} {
		if st, body := controlCall(t, ts, "PATCH", "/_mock/config", bad); st != 400 || !strings.Contains(body, `"code":"invalid_control_request"`) {
			t.Errorf("%s: %d %s", bad, st, body)
		}
	}
	if _, out := controlCall(t, ts, "GET", "/_mock/config", ""); out != start {
		t.Fatalf("a refused patch changed the config: %s", out)
	}
	if st, out := controlCall(t, ts, "PATCH", "/_mock/config", `{"rate_limits":{"rpm":1},"fault_rate":-1}`); st != 400 ||
		!strings.Contains(out, `"message":"fault_rate must be a number in [0, 1] or null, not -1."`) {
		t.Fatalf("message: %s", out)
	}
}

// TestDeclaredEstimateNoFalse429 is the case of 24 concurrent requests without max_tokens,
// each waiting 400 ms for its first token, at qwen3-max's default limits: none is refused
// under the declared estimate. Under max-output each reserves 9 + 65,536 tokens, so only 15
// fit in 1,000,000 TPM while all are in flight. The server's sleeper holds every admitted
// request at its first token until all 24 are admitted or refused, so the requests are truly
// in flight together, however slow the machine.
func TestDeclaredEstimateNoFalse429(t *testing.T) {
	t.Parallel()
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"stream":true}`
	run := func(t *testing.T, opts ...Option) (ok, refused int) {
		var waiting, answered atomic.Int64
		release := make(chan struct{})
		hold := func(c *config) error {
			c.sleep = func(ctx context.Context, d time.Duration) error {
				waiting.Add(1)
				select {
				case <-release:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}
		ts := NewTestServer(t, append(opts, WithLatency(400*time.Millisecond, 0, 0), hold)...)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, _ := post(t, ts, body)
				mu.Lock()
				defer mu.Unlock()
				switch st {
				case 200:
					ok++
				case 429:
					refused++
					answered.Add(1)
				default:
					t.Errorf("status %d", st)
				}
			}()
		}
		for waiting.Load()+answered.Load() < 24 {
			time.Sleep(time.Millisecond)
		}
		close(release)
		wg.Wait()
		return ok, refused
	}
	t.Run("declared", func(t *testing.T) {
		t.Parallel()
		if ok, refused := run(t); ok != 24 || refused != 0 {
			t.Fatalf("%d passed, %d refused; want 24, 0", ok, refused)
		}
	})
	t.Run("max-output", func(t *testing.T) {
		t.Parallel()
		if ok, refused := run(t, WithTPMEstimate(TPMEstimateMaxOutput)); ok != 15 || refused != 9 {
			t.Fatalf("%d passed, %d refused; want 15, 9", ok, refused)
		}
	})
}

// TestEstimateRule: the journal shows what each request reserved.
func TestEstimateRule(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}]}`)
	post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":100}`)
	post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":100}`, "X-Mock-Fault", "internal")
	rs := ts.Requests()
	if rs[0].EstimateTokens != 9 || rs[1].EstimateTokens != 109 || rs[2].EstimateTokens != 0 {
		t.Fatalf("estimates %d %d %d", rs[0].EstimateTokens, rs[1].EstimateTokens, rs[2].EstimateTokens)
	}
	if err := ts.PatchConfig([]byte(`{"rate_limits":{"tpm_estimate":"max-output"}}`)); err != nil {
		t.Fatal(err)
	}
	post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}]}`)
	if r := ts.ExpectLastRequest(t); r.EstimateTokens != 9+65536 {
		t.Fatalf("max-output estimate %d", r.EstimateTokens)
	}
}

// TestNeverAdmissible: a request whose estimate alone exceeds the TPM is refused with the
// TPM 429, marked in the journal, and gets no Retry-After even with rate-limit headers; a
// request that only has to wait gets one.
func TestNeverAdmissible(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithRequestIDs(sequentialIDs()), WithRateLimitHeaders(), WithModelLimits("qwen3-max", RateLimits{TPM: 100}))
	resp, out := send(t, http.MethodPost, ts.OpenAIBaseURL()+"/chat/completions",
		`{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":200}`, apiHeaders()...)
	if resp.StatusCode != 429 || string(out) != fmt.Sprintf(tpmBody, firstID) {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	if h := resp.Header; h.Get("Retry-After") != "" || h.Get("Retry-After-Ms") != "" || h.Get("X-Ratelimit-Limit-Tokens") != "100" {
		t.Fatalf("headers %v", h)
	}
	r := ts.ExpectLastRequest(t)
	if !r.NeverAdmissible || r.EstimateTokens != 209 || !strings.Contains(r.String(), "never-admissible") {
		t.Fatalf("record %+v", r)
	}
	// 60 tokens fit; the next 60 must wait for the first to leave the window.
	post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":51}`)
	resp, _ = send(t, http.MethodPost, ts.OpenAIBaseURL()+"/chat/completions",
		`{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":51}`, apiHeaders()...)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("waiting request: %d %v", resp.StatusCode, resp.Header)
	}
	if r := ts.ExpectLastRequest(t); r.NeverAdmissible {
		t.Fatalf("a request that can wait is marked never admissible: %+v", r)
	}
}
