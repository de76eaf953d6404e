package mockserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// newRedisReplicas returns n servers sharing the Redis m, each with its own request ids
// (prefixed by the replica's letter, so bodies tell which replica answered).
func newRedisReplicas(t *testing.T, m *miniredis.Miniredis, n int, opts ...Option) []*Server {
	t.Helper()
	out := make([]*Server, n)
	for i := range out {
		var seq int
		letter := string(rune('a' + i))
		base := []Option{
			WithRedis("redis://" + m.Addr()),
			WithRequestIDs(func() string { seq++; return fmt.Sprintf("%s-%d", letter, seq) }),
		}
		srv, err := New(append(base, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		out[i] = srv
	}
	return out
}

func limitsOf(t *testing.T, h http.Handler) (int, []LimitState) {
	t.Helper()
	rec := do(t, h, http.MethodGet, "/_mock/limits", "", "")
	var body struct{ Scopes []LimitState }
	if rec.Code == 200 {
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
	}
	return rec.Code, body.Scopes
}

// TestRedisSharedQuota: three servers on one Redis admit RPM requests between them, not
// each; the 429 is the real one; advancing the clock, listing and resetting on any server
// act on all.
func TestRedisSharedQuota(t *testing.T) {
	m := miniredis.RunT(t)
	m.SetTime(testTime)
	r := newRedisReplicas(t, m, 3, WithModelLimits("qwen3-max", RateLimits{RPM: 3}))
	for i, h := range []*Server{r[0], r[1], r[2]} {
		if rec := chat(t, h, hiBody); rec.Code != 200 {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	for i, h := range r {
		rec := chat(t, h, hiBody)
		want := fmt.Sprintf(rpmBody, fmt.Sprintf("%c-2", 'a'+i))
		if rec.Code != 429 || rec.Body.String() != want {
			t.Fatalf("replica %d over the limit: %d %s", i, rec.Code, rec.Body)
		}
	}
	code, scopes := limitsOf(t, r[1])
	if code != 200 || len(scopes) != 1 || scopes[0].Requests != 3 || scopes[0].RemainingRequests != 0 || scopes[0].ResetRequestsSecs != 60 {
		t.Fatalf("limits on b: %d %+v", code, scopes)
	}
	// The clock moves for everyone: 60 s later on a, c admits again.
	rec := do(t, r[0], http.MethodPost, "/_mock/clock/advance", "", `{"seconds": 60}`)
	if rec.Code != 200 {
		t.Fatalf("advance: %d %s", rec.Code, rec.Body)
	}
	if rec := chat(t, r[2], hiBody); rec.Code != 200 {
		t.Fatalf("after advancing a: %d %s", rec.Code, rec.Body)
	}
	// Each server's clock is its own plus the shared offset, which c has now seen.
	if ahead := r[2].Now().Sub(time.Now()); ahead < 59*time.Second || ahead > 61*time.Second {
		t.Fatalf("c's clock is %v ahead, want 60s", ahead)
	}
	// Reset on b clears the shared windows.
	chat(t, r[0], hiBody)
	chat(t, r[1], hiBody)
	if rec := chat(t, r[2], hiBody); rec.Code != 429 {
		t.Fatalf("window full again: %d", rec.Code)
	}
	if rec := do(t, r[1], http.MethodPost, "/_mock/reset", "", ""); rec.Code != 200 {
		t.Fatalf("reset: %d %s", rec.Code, rec.Body)
	}
	if _, scopes := limitsOf(t, r[0]); len(scopes) != 0 {
		t.Fatalf("limits after reset: %+v", scopes)
	}
	if rec := chat(t, r[2], hiBody); rec.Code != 200 {
		t.Fatalf("after reset: %d %s", rec.Code, rec.Body)
	}
}

// TestRedisSharedTokens: tokens reserved on one server and settled count on the others.
func TestRedisSharedTokens(t *testing.T) {
	m := miniredis.RunT(t)
	m.SetTime(testTime)
	r := newRedisReplicas(t, m, 2, WithModelLimits("qwen3-max", RateLimits{TPM: 100}), WithRateLimitHeaders())
	// hiBody reserves prompt + 10 tokens and settles what was used.
	rec := chat(t, r[0], hiBody)
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	used := decodeCompletion(t, rec).Usage.TotalTokens
	_, scopes := limitsOf(t, r[1])
	if len(scopes) != 1 || scopes[0].Tokens != used {
		t.Fatalf("tokens seen on b: %+v, want %d", scopes, used)
	}
	rec = chat(t, r[1], hiBody)
	if got, want := rec.Header().Get("X-Ratelimit-Remaining-Tokens"), fmt.Sprint(100-2*used-(10-decodeCompletion(t, rec).Usage.CompletionTokens)); rec.Code != 200 || got != want {
		t.Fatalf("second: %d remaining %s, want %s", rec.Code, got, want)
	}
}

// TestRedisUnreachable: with Redis gone, requests get a 503 in their own shape (closed by
// default) and the control API says so; when Redis returns, service resumes by itself.
func TestRedisUnreachable(t *testing.T) {
	m := miniredis.RunT(t)
	r := newRedisReplicas(t, m, 1)
	srv := r[0]
	if rec := chat(t, srv, hiBody); rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	m.Close()
	compat := `{"error":{"message":"` + storeUnavailableMessage + `","type":"invalid_request_error","param":null,"code":"rate_limit_store_unavailable"},"request_id":"a-2"}`
	if rec := chat(t, srv, hiBody); rec.Code != 503 || rec.Body.String() != compat {
		t.Fatalf("compatible: %d %s", rec.Code, rec.Body)
	}
	native := `{"code":"Mock.rate_limit_store_unavailable","message":"` + storeUnavailableMessage + `","request_id":"a-3"}`
	rec := do(t, srv, http.MethodPost, nativePath, "sk-test", `{"model":"qwen3-max","input":{"messages":[{"role":"user","content":"hi"}]}}`)
	if rec.Code != 503 || rec.Body.String() != native {
		t.Fatalf("native: %d %s", rec.Code, rec.Body)
	}
	rec = chat(t, srv, strings.TrimSuffix(hiBody, `}`)+`,"stream":true}`)
	if rec.Code != 503 || !strings.HasPrefix(rec.Body.String(), `data: {"error":{"message":"qwenmock: the rate-limit store (Redis) cannot be reached`) {
		t.Fatalf("stream: %d %s", rec.Code, rec.Body)
	}
	for _, c := range []struct{ method, path, body string }{
		{http.MethodGet, "/_mock/limits", ""},
		{http.MethodPost, "/_mock/clock/advance", `{"seconds": 1}`},
		{http.MethodPost, "/_mock/reset", ""},
	} {
		if rec := do(t, srv, c.method, c.path, "", c.body); rec.Code != 503 || !strings.Contains(rec.Body.String(), `"code":"rate_limit_store_unavailable"`) {
			t.Fatalf("%s %s: %d %s", c.method, c.path, rec.Code, rec.Body)
		}
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	var code int
	for range 20 { // pooled connections to the old server fail once each
		if code = chat(t, srv, hiBody).Code; code == 200 {
			break
		}
	}
	if code != 200 {
		t.Fatalf("after Redis returned: %d", code)
	}
}

func TestRedisFailOpenServer(t *testing.T) {
	m := miniredis.RunT(t)
	r := newRedisReplicas(t, m, 1, WithRedisFailOpen(), WithModelLimits("qwen3-max", RateLimits{RPM: 1}))
	m.Close()
	for i := range 3 {
		if rec := chat(t, r[0], hiBody); rec.Code != 200 {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
	}
}

func TestRedisBadURLFailsNew(t *testing.T) {
	if _, err := New(WithRedis("http://localhost")); err == nil {
		t.Fatal("New accepted an http URL for Redis")
	}
}
