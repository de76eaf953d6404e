package mockserver

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/qwenmock/qwenmock/mockserver/tokenizer"
)

// longText is prose of roughly n words, the same for the same n.
func longText(n int) string {
	words := strings.Fields("the quick brown fox jumps over the lazy dog while a patient heron watches the river bend")
	var sb strings.Builder
	for i := range n {
		sb.WriteString(words[i%len(words)])
		sb.WriteByte(' ')
	}
	return sb.String()
}

// usageDetails is a compatible reply's usage with the cache fields.
type usageDetails struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails struct {
		CachedTokens             int  `json:"cached_tokens"`
		CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
		CacheCreation            *struct {
			Ephemeral5m int `json:"ephemeral_5m_input_tokens"`
		} `json:"cache_creation"`
		CacheType string `json:"cache_type"`
	} `json:"prompt_tokens_details"`
}

func usageOfReply(t *testing.T, ts *TestServer, body string, headers ...string) usageDetails {
	t.Helper()
	st, out := post(t, ts, body, headers...)
	var r struct {
		Usage usageDetails `json:"usage"`
	}
	if st != 200 || json.Unmarshal(out, &r) != nil {
		t.Fatalf("%d %s", st, out)
	}
	return r.Usage
}

func systemAndUser(system, user string) string {
	b, _ := json.Marshal(map[string]any{"model": "qwen3-max", "max_tokens": 3,
		"messages": []map[string]any{{"role": "system", "content": system}, {"role": "user", "content": user}}})
	return string(b)
}

func TestImplicitCache(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithClock(FixedClock(testTime)))
	system := longText(700)
	sysTokens := tokenizer.Default().Count("<|im_start|>system\n" + system + "<|im_end|>\n<|im_start|>user\n")
	a, b := systemAndUser(system, "first question"), systemAndUser(system, "second question")

	u := usageOfReply(t, ts, a)
	if u.PromptTokens < 600 || u.PromptTokensDetails.CachedTokens != 0 || u.PromptTokensDetails.CacheType != "" || u.PromptTokensDetails.CacheCreationInputTokens != nil {
		t.Fatalf("first request: %+v", u)
	}
	if got := usageOfReply(t, ts, a).PromptTokensDetails.CachedTokens; got != u.PromptTokens/256*256 {
		t.Fatalf("same prompt again: cached %d of %d", got, u.PromptTokens)
	}
	if got := usageOfReply(t, ts, b).PromptTokensDetails.CachedTokens; got != sysTokens/256*256 || got == 0 {
		t.Fatalf("shared system prompt (%d tokens): cached %d", sysTokens, got)
	}
	// Another account has its own cache; a short prompt is never cached.
	if got := usageOfReply(t, ts, a, "Authorization", "Bearer sk-other").PromptTokensDetails.CachedTokens; got != 0 {
		t.Fatalf("other key: %d", got)
	}
	short := `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`
	usageOfReply(t, ts, short)
	if got := usageOfReply(t, ts, short).PromptTokensDetails.CachedTokens; got != 0 {
		t.Fatalf("short prompt: %d", got)
	}
	// Within five minutes of the last use it still hits; at five minutes it has expired.
	ts.Advance(5*time.Minute - time.Millisecond)
	if got := usageOfReply(t, ts, a).PromptTokensDetails.CachedTokens; got == 0 {
		t.Fatal("expired early")
	}
	ts.Advance(5 * time.Minute)
	if got := usageOfReply(t, ts, a).PromptTokensDetails.CachedTokens; got != 0 {
		t.Fatalf("after five minutes: %d", got)
	}
	// The journal and the usage report it; usage prices cached tokens at 20%.
	if r := ts.ExpectLastRequest(t); r.CachedTokens != 0 {
		t.Fatalf("journal %+v", r)
	}
	ts.Reset()
	usageOfReply(t, ts, a)
	u2 := usageOfReply(t, ts, a)
	cached := u2.PromptTokensDetails.CachedTokens
	rec := ts.Usage()[0]
	in := 2 * u2.PromptTokens
	want := (float64(in-cached)*1.2 + float64(cached)*1.2*0.2 + float64(rec.CompletionTokens)*6) / 1e6
	if rec.CachedTokens != cached || math.Abs(rec.CostUSD-want) > 1e-12 {
		t.Fatalf("usage %+v, want cost %v", rec, want)
	}
	// Switched off at run time.
	if err := ts.PatchConfig([]byte(`{"implicit_cache":false}`)); err != nil {
		t.Fatal(err)
	}
	if got := usageOfReply(t, ts, a).PromptTokensDetails.CachedTokens; got != 0 {
		t.Fatalf("implicit cache off: %d", got)
	}
}

func TestImplicitCacheNative(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithImplicitCache(true))
	body, _ := json.Marshal(map[string]any{"model": "qwen3-max", "input": map[string]any{"prompt": longText(600)},
		"parameters": map[string]any{"max_tokens": 3}})
	postNative(t, ts, string(body))
	resp, out := postNative(t, ts, string(body))
	var nb struct {
		Usage struct {
			InputTokens int `json:"input_tokens"`
			Details     struct {
				CachedTokens int `json:"cached_tokens"`
			} `json:"prompt_tokens_details"`
		} `json:"usage"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(out, &nb) != nil || nb.Usage.Details.CachedTokens != nb.Usage.InputTokens/256*256 || nb.Usage.Details.CachedTokens == 0 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	// Every stream event carries prompt_tokens_details.
	resp, out = postNative(t, ts, string(body), "X-DashScope-SSE", "enable")
	events := strings.Count(string(out), "\ndata:")
	if resp.StatusCode != 200 || events < 2 || strings.Count(string(out), fmt.Sprintf(`"prompt_tokens_details":{"cached_tokens":%d}`, nb.Usage.Details.CachedTokens)) != events {
		t.Fatalf("stream: %s", out)
	}
	off := NewTestServer(t, WithImplicitCache(false))
	postNative(t, off, string(body))
	if _, out := postNative(t, off, string(body)); !strings.Contains(string(out), `"prompt_tokens_details":{"cached_tokens":0}`) {
		t.Fatalf("off: %s", out)
	}
}

// explicitBody marks the system prompt with cache_control.
func explicitBody(system, user string) string {
	b, _ := json.Marshal(map[string]any{"model": "qwen3-max", "max_tokens": 3, "messages": []map[string]any{
		{"role": "system", "content": []map[string]any{{"type": "text", "text": system, "cache_control": map[string]string{"type": "ephemeral"}}}},
		{"role": "user", "content": user}}})
	return string(b)
}

func TestExplicitCache(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithClock(FixedClock(testTime)))
	system := longText(1500)
	n := tokenizer.Default().Count("<|im_start|>system\n" + system)
	if n < 1024 {
		t.Fatalf("system prompt of %d tokens is too short for the test", n)
	}
	first := usageOfReply(t, ts, explicitBody(system, "one"))
	d := first.PromptTokensDetails
	if d.CachedTokens != 0 || d.CacheCreationInputTokens == nil || *d.CacheCreationInputTokens != n || d.CacheCreation == nil ||
		d.CacheCreation.Ephemeral5m != n || d.CacheType != "ephemeral" {
		t.Fatalf("creation: %+v", first)
	}
	check := func(step string, wantHit, wantCreated int) {
		t.Helper()
		d := usageOfReply(t, ts, explicitBody(system, "another question")).PromptTokensDetails
		if d.CachedTokens != wantHit || d.CacheCreationInputTokens == nil || *d.CacheCreationInputTokens != wantCreated || d.CacheType != "ephemeral" {
			t.Fatalf("%s: %+v", step, d)
		}
	}
	check("hit", n, 0)
	ts.Advance(4 * time.Minute)
	check("hit at 4 min", n, 0)
	ts.Advance(4 * time.Minute) // 8 min after creation, 4 after the renewing hit
	check("renewed on hit", n, 0)
	ts.Advance(5 * time.Minute)
	check("expired", 0, n)
	// The exact wire shape of the details.
	_, out := post(t, ts, explicitBody(system, "x"))
	if !strings.Contains(string(out), fmt.Sprintf(`"prompt_tokens_details":{"cached_tokens":%d,"cache_creation_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0},"cache_type":"ephemeral"}`, n)) {
		t.Fatalf("wire: %s", out)
	}
	// Under 1,024 tokens nothing is created.
	small := usageOfReply(t, ts, explicitBody("short system prompt", "q")).PromptTokensDetails
	if small.CachedTokens != 0 || *small.CacheCreationInputTokens != 0 {
		t.Fatalf("short prefix: %+v", small)
	}
	// Usage: creation at 125%, hits at 10%.
	ts.Reset()
	a := usageOfReply(t, ts, explicitBody(system, "q"))
	b := usageOfReply(t, ts, explicitBody(system, "q"))
	rec := ts.Usage()[0]
	want := (float64(a.PromptTokens-n)*1.2 + float64(n)*1.2*1.25 + float64(b.PromptTokens-n)*1.2 + float64(n)*1.2*0.1 +
		float64(a.CompletionTokens+b.CompletionTokens)*6) / 1e6
	if rec.CacheCreationTokens != n || rec.ExplicitCachedTokens != n || rec.CachedTokens != n || math.Abs(rec.CostUSD-want) > 1e-12 {
		t.Fatalf("usage %+v, want cost %v", rec, want)
	}
}

// TestCacheBounds: a scope keeps at most cacheEntriesPerScope prompts, the cache at most
// cacheScopes scopes.
func TestCacheBounds(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t)
	for i := range cacheEntriesPerScope + 4 {
		chat(t, srv, systemAndUser(fmt.Sprint(i)+longText(300), "q"))
	}
	for i := range cacheScopes + 5 {
		chatAs(t, srv, fmt.Sprintf("sk-%d", i), systemAndUser(longText(300), "q"))
	}
	srv.cache.mu.Lock()
	defer srv.cache.mu.Unlock()
	if len(srv.cache.scopes) != cacheScopes {
		t.Fatalf("%d scopes", len(srv.cache.scopes))
	}
	for k, sc := range srv.cache.scopes {
		if len(sc.implicit) > cacheEntriesPerScope {
			t.Fatalf("%v holds %d prompts", k, len(sc.implicit))
		}
	}
}
