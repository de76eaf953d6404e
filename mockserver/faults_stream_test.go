package mockserver

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMalformedChunk: one stream event is not valid JSON, in both shapes; a non-stream body is
// cut inside its JSON.
func TestMalformedChunk(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":30,"stream":true}`
	_, out := post(t, ts, body, "X-Mock-Fault", "malformed_chunk; after_chunks=2")
	bad := 0
	var datas []string
	for _, line := range strings.Split(string(out), "\n") {
		if d, ok := strings.CutPrefix(line, "data: "); ok && d != "[DONE]" {
			datas = append(datas, d)
			if !json.Valid([]byte(d)) {
				bad++
			}
		}
	}
	if bad != 1 || json.Valid([]byte(datas[2])) || !strings.HasSuffix(string(out), "data: [DONE]\n\n") {
		t.Fatalf("compatible: %d malformed of %d\n%s", bad, len(datas), out)
	}
	_ = ts.QueueFault(Fault{Kind: FaultMalformedChunk, AfterChunks: 1})
	_, out = postNative(t, ts, `{"model":"qwen3-max","input":{"prompt":"hi"},"parameters":{"max_tokens":30,"incremental_output":true}}`, "X-DashScope-SSE", "enable")
	bad, datas = 0, nil
	for _, line := range strings.Split(string(out), "\n") {
		if d, ok := strings.CutPrefix(line, "data:"); ok {
			datas = append(datas, d)
			if !json.Valid([]byte(d)) {
				bad++
			}
		}
	}
	if bad != 1 || json.Valid([]byte(datas[1])) {
		t.Fatalf("native: %d malformed\n%s", bad, out)
	}
	st, out := post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":30}`, "X-Mock-Fault", "malformed_chunk")
	if st != 200 || json.Valid(out) || len(out) == 0 {
		t.Fatalf("non-stream: %d %s", st, out)
	}
}

// TestHangAfterChunks: the stream starts, sends its first events, then stalls until the
// client leaves; the journal marks it interrupted.
func TestHangAfterChunks(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.OpenAIBaseURL()+"/chat/completions",
		strings.NewReader(`{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":30,"stream":true}`))
	req.Header.Set("Authorization", "Bearer sk-test")
	req.Header.Set("X-Mock-Fault", "hang; after_chunks=2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rd := bufio.NewReader(resp.Body)
	for range 4 { // two events: a data line and a blank line each
		if _, err := rd.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	// The handler is still running: nothing is journaled until the client goes.
	if n := len(ts.Requests()); n != 0 {
		t.Fatalf("%d journal records while hanging", n)
	}
	cancel()
	var r RequestRecord
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if rs := ts.Requests(); len(rs) == 1 {
			r = rs[0]
			break
		}
	}
	if r.Fault != FaultHang || !r.Interrupted || r.Status != 200 {
		t.Fatalf("record %+v", r)
	}
}
