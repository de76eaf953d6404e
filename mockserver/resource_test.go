package mockserver

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// Bounded resource tests: each replays, at a scale a shared machine bears, an attack that
// once made the server hold memory without bound, and asserts a ceiling far below what the
// unbounded code used. They do not run in parallel, so the heap they measure is theirs.

// liveHeap is the heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// allocated is the total of every allocation so far.
func allocated() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.TotalAlloc)
}

const mib = 1 << 20

// Tool schemas padded with whitespace (which costs no prompt tokens) once filled a cache
// keyed by their raw bytes: 12 × 2 MiB stayed in memory, after /_mock/reset too.
func TestResourceSchemaCache(t *testing.T) {
	srv := newTestHandler(t)
	srv.Reset()
	before := liveHeap()
	pad := strings.Repeat(" ", 2*mib)
	for i := range 12 {
		params := `{"type":"object",` + pad[i:] + `"properties":{"city":{"type":"string"}},"required":["city"]}`
		body := `{"model":"qwen3-max","messages":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":` +
			params + `}}],"tool_choice":"required"}`
		rec := chat(t, srv, body)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"name":"get_weather"`) {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	srv.ClearRequests() // the journal holds 64 KiB of each body; that bound is tested elsewhere
	if grown := liveHeap() - before; grown > 8*mib {
		t.Errorf("the heap grew by %d MiB after 12 padded schemas; want under 8 MiB", grown/mib)
	}
	if entries, bytes := schemaCache.Stats(); entries != 1 || bytes > SchemaCacheBytes {
		t.Errorf("schema cache: %d entries, %d bytes; want 1 entry (whitespace does not make a schema new)", entries, bytes)
	}
	srv.Reset()
	if entries, _ := schemaCache.Stats(); entries != 0 {
		t.Errorf("reset left %d schemas in the cache", entries)
	}
}

// Distinct large schemas are bounded by the cache's byte budget.
func TestResourceSchemaCacheDistinct(t *testing.T) {
	srv := newTestHandler(t, WithLimits(RateLimits{RPM: Unlimited, TPM: Unlimited}))
	srv.Reset()
	filler := strings.Repeat("x", 200<<10)
	for i := range 24 {
		params := fmt.Sprintf(`{"type":"object","description":"%d%s","properties":{"city":{"type":"string"}},"required":["city"]}`, i, filler)
		body := `{"model":"qwen3-max","messages":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":` +
			params + `}}],"tool_choice":"required"}`
		if rec := chat(t, srv, body); rec.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	if entries, bytes := schemaCache.Stats(); bytes > SchemaCacheBytes || entries < 5 {
		t.Errorf("schema cache holds %d entries, %d bytes; want some, within its bound %d", entries, bytes, SchemaCacheBytes)
	}
	srv.Reset()
}

// A journal of bodies that JSON escapes sixfold once answered GET /_mock/requests with one
// body of every record (393 MB for 1,000 × 64 KiB) built in memory.
func TestResourceJournalRead(t *testing.T) {
	ts := NewTestServer(t, WithJournal(1000, 64<<10))
	junk := strings.Repeat("\x01", 64<<10)
	for i := range 1000 {
		rec := do(t, ts.Server, http.MethodPost, "/compatible-mode/v1/chat/completions", "sk-test", junk)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	if n := len(ts.Requests()); n >= 1000 || n < 100 {
		t.Errorf("the journal kept %d records of 64 KiB; want them bounded by DefaultJournalBytes (%d MiB)", n, DefaultJournalBytes/mib)
	}
	start := allocated()
	resp, err := http.Get(ts.URL + "/_mock/requests?limit=1000")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	used := allocated() - start
	if resp.StatusCode != 200 || n > JournalPageBytes+64<<10 {
		t.Errorf("GET /_mock/requests: %d, %d bytes; want 200 and at most about %d", resp.StatusCode, n, JournalPageBytes)
	}
	if used > 64*mib {
		t.Errorf("reading the journal allocated %d MiB; want under 64 MiB", used/mib)
	}
}

// Scopes and usage once kept every API key whole: 64 keys of 1 MiB each stayed in memory.
func TestResourceLongKeys(t *testing.T) {
	srv := newTestHandler(t)
	before := liveHeap()
	for i := range 64 {
		key := fmt.Sprintf("%04d", i) + strings.Repeat("k", mib)
		rec := do(t, srv, http.MethodPost, "/compatible-mode/v1/chat/completions", key, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":1}`)
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "longer than 256 bytes") {
			t.Fatalf("key %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	if grown := liveHeap() - before; grown > 8*mib {
		t.Errorf("the heap grew by %d MiB after 64 keys of 1 MiB; want under 8 MiB", grown/mib)
	}
}

// Every distinct key used to add a scope and a usage row for good; scopes are now bounded,
// least recently used out.
func TestResourceScopes(t *testing.T) {
	srv := newTestHandler(t, WithLimits(RateLimits{RPM: 1}))
	srv.rates.lru.max = 50
	key := func(i int) string { return fmt.Sprintf("sk-%0250d", i) }
	before := liveHeap()
	for i := range 400 {
		if rec := do(t, srv, http.MethodPost, "/compatible-mode/v1/chat/completions", key(i), `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":1}`); rec.Code != 200 {
			t.Fatalf("key %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	if n := len(srv.Limits()); n != 50 {
		t.Errorf("%d scopes kept; want 50, the bound", n)
	}
	// The dropped scope of key 0 starts a new window; key 399's scope still refuses.
	if rec := do(t, srv, http.MethodPost, "/compatible-mode/v1/chat/completions", key(0), `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":1}`); rec.Code != 200 {
		t.Errorf("dropped scope: %d", rec.Code)
	}
	if rec := do(t, srv, http.MethodPost, "/compatible-mode/v1/chat/completions", key(399), `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":1}`); rec.Code != 429 {
		t.Errorf("kept scope: %d", rec.Code)
	}
	if grown := liveHeap() - before; grown > 8*mib {
		t.Errorf("the heap grew by %d MiB; want under 8 MiB", grown/mib)
	}
}

// A schema that asks for 256 × 256 strings of 4,096 characters once cost seconds of CPU and
// was answered with "{}", which it does not accept.
func TestResourceToolSchemaBudget(t *testing.T) {
	srv := newTestHandler(t)
	schema := `{"type":"object","properties":{"a":{"type":"array","minItems":256,"items":{"type":"array","minItems":256,"items":{"type":"string","minLength":4096}}}},"required":["a"]}`
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"go"}],"tools":[{"type":"function","function":{"name":"fill","parameters":` + schema + `}}],"tool_choice":"required"}`
	start := allocated()
	rec := chat(t, srv, body)
	used := allocated() - start
	want := `{"error":{"message":"qwenmock cannot generate arguments for tool 'fill' that validate against its parameters schema: schema too complex: generation budget exhausted.","type":"invalid_request_error","param":null,"code":"tool_schema_unsupported"},"request_id":"` + firstID + `"}`
	if rec.Code != http.StatusBadRequest || rec.Body.String() != want {
		t.Errorf("got %d %s\nwant 400 %s", rec.Code, rec.Body, want)
	}
	if used > 64*mib {
		t.Errorf("the request allocated %d MiB; want under 64 MiB", used/mib)
	}
	// A schema whose generation fails but that accepts {} gets {}.
	opt := `{"type":"object","properties":{"a":{"type":"array","minItems":256,"items":{"type":"array","minItems":256,"items":{"type":"string","minLength":4096}}}}}`
	rec = chat(t, srv, strings.Replace(body, schema, opt, 1))
	if rec.Code != 200 {
		t.Fatalf("optional property: %d %s", rec.Code, rec.Body)
	}
}

// newRequestTo is an in-process request with a given Host header.
func newRequestTo(method, target, host, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Host = host
	return r
}
