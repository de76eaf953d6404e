package mockserver

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMetricsEndpointGates: /metrics needs the admin token when one is set, WithoutMetrics
// removes it, and pprof is served under /_mock/debug/pprof/ only with WithPprof.
func TestMetricsEndpointGates(t *testing.T) {
	h := newTestHandler(t, WithAdminToken("adm"))
	if rec := do(t, h, http.MethodGet, "/metrics", "", ""); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"invalid_admin_token"`) {
		t.Fatalf("without the token: %d %s", rec.Code, rec.Body)
	}
	rec := do(t, h, http.MethodGet, "/metrics", "adm", "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "# TYPE qwenmock_journal_entries gauge\nqwenmock_journal_entries 0\n") {
		t.Fatalf("with the token: %d %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "vllm:") || strings.Contains(rec.Body.String(), "go_goroutines") {
		t.Fatalf("only qwenmock's own registry is served:\n%s", rec.Body)
	}
	if rec := do(t, h, http.MethodGet, "/_mock/debug/pprof/", "adm", ""); rec.Code != http.StatusNotFound {
		t.Fatalf("pprof without WithPprof: %d", rec.Code)
	}

	off := newTestHandler(t, WithoutMetrics())
	if rec := do(t, off, http.MethodGet, "/metrics", "", ""); rec.Code != http.StatusNotFound {
		t.Fatalf("WithoutMetrics: %d %s", rec.Code, rec.Body)
	}

	prof := newTestHandler(t, WithPprof(), WithAdminToken("adm"))
	if rec := do(t, prof, http.MethodGet, "/_mock/debug/pprof/", "", ""); rec.Code != http.StatusUnauthorized {
		t.Fatalf("pprof without the token: %d", rec.Code)
	}
	rec = do(t, prof, http.MethodGet, "/_mock/debug/pprof/", "adm", "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "goroutine") {
		t.Fatalf("pprof index: %d %s", rec.Code, rec.Body)
	}
	rec = do(t, prof, http.MethodGet, "/_mock/debug/pprof/goroutine?debug=1", "adm", "")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "goroutine profile: total ") {
		t.Fatalf("pprof goroutine: %d %.200s", rec.Code, rec.Body)
	}
}

// TestDashboardPage: the page is served without the admin token, with no external resource.
func TestDashboardPage(t *testing.T) {
	h := newTestHandler(t, WithAdminToken("adm"))
	rec := do(t, h, http.MethodGet, "/_mock/", "", "")
	body := rec.Body.String()
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" || !strings.Contains(body, "<title>qwenmock</title>") {
		t.Fatalf("%d %q %.200s", rec.Code, rec.Header().Get("Content-Type"), body)
	}
	for _, ext := range []string{"http://", "https://", "<script src", "<link "} {
		if strings.Contains(body, ext) {
			t.Errorf("the page refers to an external resource: %q", ext)
		}
	}
}

// TestLimitsHistory: per-second counts over the last 60 s of the server's clock, settled
// tokens, refusals, and an empty history once the clock has moved past the window.
func TestLimitsHistory(t *testing.T) {
	h := newTestHandler(t, WithModelLimits("qwen3-max", RateLimits{RPM: 2}))
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"Say hello."}]}`
	r1 := decodeCompletion(t, chatAs(t, h, "sk-aaaaaaaa1111", body))
	h.Advance(10 * time.Second)
	r2 := decodeCompletion(t, chatAs(t, h, "sk-aaaaaaaa1111", body))
	if rec := chatAs(t, h, "sk-aaaaaaaa1111", body); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("third: %d", rec.Code)
	}

	var got LimitsHistory
	rec := do(t, h, http.MethodGet, "/_mock/limits/history", "", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	if got.WindowSeconds != 60 || got.JournalEntries != 3 || got.JournalLastSeq != 3 || len(got.Scopes) != 1 {
		t.Fatalf("%s", rec.Body)
	}
	sc := got.Scopes[0]
	if sc.Account != "key:"+keyLabel("sk-aaaaaaaa1111") || sc.Model != "qwen3-max" || sc.RPM != 2 || sc.Requests != 2 || sc.RemainingRequests != 0 || sc.ResetRequestsSecs != 60 {
		t.Fatalf("state: %+v", sc.LimitState)
	}
	want := func(last, tenAgo int64) []int64 {
		v := make([]int64, 60)
		v[59], v[49] = last, tenAgo
		return v
	}
	if !slices.Equal(sc.RequestsPerSecond, want(1, 1)) || !slices.Equal(sc.RejectedPerSecond, want(1, 0)) ||
		!slices.Equal(sc.TokensPerSecond, want(int64(r2.Usage.TotalTokens), int64(r1.Usage.TotalTokens))) {
		t.Fatalf("history: requests %v rejected %v tokens %v", sc.RequestsPerSecond, sc.RejectedPerSecond, sc.TokensPerSecond)
	}

	h.Advance(55 * time.Second) // the first request left the window, the second has not
	json.Unmarshal(do(t, h, http.MethodGet, "/_mock/limits/history", "", "").Body.Bytes(), &got)
	if len(got.Scopes) != 1 || got.Scopes[0].Requests != 1 || got.Scopes[0].RequestsPerSecond[4] != 1 || got.Scopes[0].RequestsPerSecond[54] != 0 {
		t.Fatalf("after 55 s: %+v", got.Scopes)
	}
	h.Advance(5 * time.Second)
	json.Unmarshal(do(t, h, http.MethodGet, "/_mock/limits/history", "", "").Body.Bytes(), &got)
	if len(got.Scopes) != 0 {
		t.Fatalf("after 60 s: %+v", got.Scopes)
	}

	do(t, h, http.MethodPost, "/_mock/reset", "", "{}")
	json.Unmarshal(do(t, h, http.MethodGet, "/_mock/limits/history", "", "").Body.Bytes(), &got)
	if got.JournalEntries != 0 || got.JournalClears != 1 || got.JournalLastSeq != 3 {
		t.Fatalf("after reset: %+v", got)
	}
}

// TestJournalKeepsResponse: the journal holds the answer's body, capped like the request's.
func TestJournalKeepsResponse(t *testing.T) {
	h := newTestHandler(t, WithJournal(10, 40))
	rec := chat(t, h, `{"model":"qwen3-max","messages":[{"role":"user","content":"Say hello."}]}`)
	r, _ := h.LastRequest()
	if !r.ResponseTruncated || r.Response != rec.Body.String()[:40] {
		t.Fatalf("response %q (truncated %v) of %q", r.Response, r.ResponseTruncated, rec.Body)
	}
	h = newTestHandler(t)
	rec = chat(t, h, `{"model":"qwen3-max","messages":[{"role":"user","content":"Say hello."}]}`)
	if r, _ := h.LastRequest(); r.ResponseTruncated || r.Response != rec.Body.String() {
		t.Fatalf("response %q, sent %q", r.Response, rec.Body)
	}
}
