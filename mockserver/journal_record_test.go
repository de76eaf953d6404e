package mockserver

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestJournalHeaders: the journal keeps the request headers with credentials redacted.
func TestJournalHeaders(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`,
		"Authorization", "Bearer sk-0123456789abcdef0123456789abcdef", "X-Api-Key", "sk-fedcba9876543210", "X-Trace", "abc",
		"Cookie", "session=secret-value")
	r := ts.ExpectLastRequest(t)
	h := r.Headers
	if !strings.HasPrefix(h["Authorization"], "Bearer sk-…cdef") || !strings.HasPrefix(h["X-Api-Key"], "sk-…") || h["X-Trace"] != "abc" ||
		h["Content-Type"] != "application/json" || strings.Contains(h["Cookie"], "secret") {
		t.Fatalf("headers %v", h)
	}
	st, body := controlCall(t, ts, "GET", "/_mock/requests", "")
	if st != 200 || strings.Contains(body, "0123456789abcdef0123456789abcdef") || strings.Contains(body, "fedcba9876543210") ||
		!strings.Contains(body, `"Authorization":"Bearer sk-…cdef`) {
		t.Fatalf("journal leaks a key: %s", body)
	}
	// A huge header is left out, and the record says so.
	post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`, "X-Big", strings.Repeat("x", 9000))
	if r := ts.ExpectLastRequest(t); !r.HeadersTruncated || r.Headers["X-Big"] != "" || r.Headers["Content-Type"] == "" {
		t.Fatalf("truncation %v %v", r.HeadersTruncated, len(r.Headers))
	}
}

// TestJournalInterrupted: a client that leaves mid-stream is marked interrupted, with the
// tokens actually sent.
func TestJournalInterrupted(t *testing.T) {
	t.Parallel()
	for _, native := range []bool{false, true} {
		ts := NewTestServer(t, WithLatency(0, 20*time.Millisecond, 0), WithStreamChunkTokens(1))
		ctx, cancel := context.WithCancel(context.Background())
		url, body := ts.OpenAIBaseURL()+"/chat/completions", `{"model":"qwen3-max","messages":[{"role":"user","content":"Tell me a long story."}],"max_tokens":200,"stream":true}`
		if native {
			url, body = ts.DashScopeBaseURL()+"/services/aigc/text-generation/generation", `{"model":"qwen3-max","input":{"prompt":"Tell me a long story."},"parameters":{"max_tokens":200,"incremental_output":true}}`
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-test")
		req.Header.Set("X-DashScope-SSE", "enable")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(resp.Body)
		for range 8 { // a few lines of the stream, then leave
			if _, err := rd.ReadString('\n'); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		resp.Body.Close()
		var r RequestRecord
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if rs := ts.Requests(); len(rs) == 1 {
				r = rs[0]
				break
			}
		}
		if !r.Interrupted || r.Status != 200 || r.CompletionTokens < 1 || r.CompletionTokens >= r.ReplyTokens ||
			!strings.Contains(r.String(), "interrupted(sent ") {
			t.Fatalf("native=%v: record %+v", native, r)
		}
	}
}
