package mockserver

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBodyBudget: requests in flight hold at most BodyBudgetFactor × --max-body-bytes of
// request bodies; one more gets a 503 in its shape's envelope, and the budget comes back when
// they end.
func TestBodyBudget(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithMaxBodyBytes(1000))
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"` + strings.Repeat("x", 850) + `"}]}`
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range BodyBudgetFactor {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.OpenAIBaseURL()+"/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer sk-test")
			req.Header.Set("X-Mock-Fault", "hang")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for ts.Server.bodies.held() != int64(BodyBudgetFactor*len(body)) {
		if time.Now().After(deadline) {
			t.Fatalf("held %d bytes, want %d", ts.Server.bodies.held(), BodyBudgetFactor*len(body))
		}
		time.Sleep(5 * time.Millisecond)
	}
	status, out := post(t, ts, body)
	if status != http.StatusServiceUnavailable || !strings.Contains(string(out), "Too many large requests at once: requests in flight may hold at most 4000 bytes of request bodies") {
		t.Errorf("past the budget: %d %s", status, out)
	}
	resp, out := postNative(t, ts, `{"model":"qwen3-max","input":{"prompt":"`+strings.Repeat("x", 850)+`"}}`)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(string(out), `{"code":"`) {
		t.Errorf("native past the budget: %d %s", resp.StatusCode, out)
	}
	// A small body still fits beside them.
	if status, out := post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":1}`); status != 200 {
		t.Errorf("small body: %d %s", status, out)
	}
	cancel()
	wg.Wait()
	for ts.Server.bodies.held() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("held %d bytes after the requests ended", ts.Server.bodies.held())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if status, out := post(t, ts, body); status != 200 {
		t.Errorf("after the budget came back: %d %s", status, out)
	}
}
