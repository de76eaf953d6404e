package mockserver

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Keys that a redaction would show alike stay apart, and a label never shows the secret
// part of a short key.
func TestKeyLabels(t *testing.T) {
	for key, want := range map[string]string{
		"sk-teamA-0000000001234": "sk-…1234#",
		"sk-teamB-0000000001234": "sk-…1234#",
		"sk-abcdef":              "sk-…#",
		"test":                   "…#",
		"0123456789abcdefghij":   "…ghij#",
	} {
		got := keyLabel(key)
		if !strings.HasPrefix(got, want) || len(got) != len(want)+12 {
			t.Errorf("keyLabel(%q) = %q, want %s<12 hex digits>", key, got, want)
		}
	}
	if keyLabel("sk-teamA-0000000001234") == keyLabel("sk-teamB-0000000001234") {
		t.Error("two keys with the same ending share a label")
	}

	srv := newTestHandler(t)
	for _, key := range []string{"sk-teamA-0000000001234", "sk-teamB-0000000001234", "sk-teamA-0000000001234"} {
		if rec := do(t, srv, http.MethodPost, compatChat, key, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":1}`); rec.Code != 200 {
			t.Fatal(rec.Code, rec.Body)
		}
	}
	u := srv.Usage()
	if len(u) != 2 || u[0].Requests+u[1].Requests != 3 || u[0].Key == u[1].Key {
		t.Errorf("usage %+v: want two rows, one per key", u)
	}
	if l := srv.Limits(); len(l) != 2 || l[0].Account == l[1].Account || !strings.HasPrefix(l[0].Account, "key:sk-…1234#") {
		t.Errorf("limits %+v: want one scope per key", l)
	}
	for _, r := range srv.Requests() {
		if r.Key != keyLabel("sk-teamA-0000000001234") && r.Key != keyLabel("sk-teamB-0000000001234") {
			t.Errorf("journal key %q", r.Key)
		}
	}
}

// Usage rows are bounded; keys past the bound are counted together, totals stay exact.
func TestUsageBound(t *testing.T) {
	u := &usageBook{m: map[usageKey]*UsageRecord{}}
	m := &Model{ID: "qwen3-max"}
	for i := range MaxUsageRecords + 50 {
		u.add(fmt.Sprintf("key-%d", i), m, "qwen3-max", 1, 1, cacheUse{})
	}
	if len(u.m) > MaxUsageRecords+1 {
		t.Fatalf("%d usage rows", len(u.m))
	}
	total := 0
	for _, r := range u.m {
		total += r.Requests
	}
	other := u.m[usageKey{otherKeys, "qwen3-max"}]
	if total != MaxUsageRecords+50 || other == nil || other.Requests != 50 {
		t.Errorf("total %d, other %+v", total, other)
	}
}

// Conversations the real service may refuse are accepted as sent; docs/security.md says
// so. A capture of the real answer would turn each into an error case.
func TestLenientToolConversations(t *testing.T) {
	srv := newTestHandler(t)
	for _, msgs := range []string{
		`[{"role":"user","content":"hi"},{"role":"tool","content":"42"}]`,
		`[{"role":"user","content":"hi"},{"role":"assistant","content":"ok"},{"role":"tool","tool_call_id":"call_1","content":"42"}]`,
		`[{"role":"user","content":[]}]`,
	} {
		if rec := chat(t, srv, `{"model":"qwen3-max","max_tokens":2,"messages":`+msgs+`}`); rec.Code != 200 {
			t.Errorf("%s: %d %s", msgs, rec.Code, rec.Body)
		}
	}
}

// The key is checked before the body is read: a 401 costs no body, journals none, and an
// oversized body without a valid key gets 401, not 413.
func TestAuthenticateBeforeBody(t *testing.T) {
	ts := NewTestServer(t, WithAPIKeys("sk-good"), WithMaxBodyBytes(1<<16))
	junk := strings.Repeat("\x01", 64<<10)
	resp, out := send(t, http.MethodPost, ts.URL+compatChat, junk, "Authorization", "Bearer sk-bad", "Content-Type", "application/json")
	if resp.StatusCode != 401 || !strings.Contains(string(out), `"code":"invalid_api_key"`) {
		t.Errorf("bad key: %d %s", resp.StatusCode, out)
	}
	resp, out = send(t, http.MethodPost, ts.URL+compatChat, strings.Repeat("a", 1<<20), "Content-Type", "application/json")
	if resp.StatusCode != 401 || !strings.Contains(string(out), `"message":"No API-key provided."`) {
		t.Errorf("oversized body without a key: %d %s", resp.StatusCode, out)
	}
	resp, out = send(t, http.MethodPost, ts.URL+nativeGen, strings.Repeat("a", 1<<20), "Authorization", "Bearer sk-bad")
	if resp.StatusCode != 401 || !strings.Contains(string(out), `"code":"InvalidApiKey"`) {
		t.Errorf("native: %d %s", resp.StatusCode, out)
	}
	for _, r := range ts.Requests() {
		if r.Status != 401 || r.Body != "" {
			t.Errorf("journal: %s with %d bytes of body", r, len(r.Body))
		}
	}
	resp, _ = send(t, http.MethodPost, ts.URL+compatChat, strings.Repeat("a", 1<<17), "Authorization", "Bearer sk-good")
	if resp.StatusCode != 413 {
		t.Errorf("oversized body with a good key: %d", resp.StatusCode)
	}
}
