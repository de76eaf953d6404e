package mockserver

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestThinkingStreamDeltas: the deltas of a compatible thinking stream as captured (§4.1).
func TestThinkingStreamDeltas(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	_, out := post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"enable_thinking":true,"stream":true,"max_tokens":400}`)
	var deltas []string
	for _, line := range strings.Split(string(out), "\n") {
		d, ok := strings.CutPrefix(line, "data: ")
		if !ok || d == "[DONE]" {
			continue
		}
		var chunk struct {
			Choices []struct {
				Delta json.RawMessage `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(d), &chunk); err != nil {
			t.Fatal(err)
		}
		if len(chunk.Choices) > 0 {
			deltas = append(deltas, string(chunk.Choices[0].Delta))
		}
	}
	if len(deltas) < 4 || deltas[0] != `{"content":null,"role":"assistant","reasoning_content":""}` ||
		deltas[len(deltas)-1] != `{"content":"","reasoning_content":null}` {
		t.Fatalf("first/last deltas: %v", deltas)
	}
	phase := "reasoning"
	for _, d := range deltas[1 : len(deltas)-1] {
		switch {
		case strings.HasPrefix(d, `{"content":null,"reasoning_content":"`) && phase == "reasoning":
		case strings.HasPrefix(d, `{"content":"`) && strings.HasSuffix(d, `","reasoning_content":null}`):
			phase = "answer"
		default:
			t.Fatalf("delta %s in phase %s", d, phase)
		}
	}
	if phase != "answer" {
		t.Fatalf("no answer deltas: %v", deltas)
	}
}

// TestNativeToolArgumentFragments: a native stream sends a tool call's arguments in several
// fragments, as the compatible shape does; joined they are the whole arguments.
func TestNativeToolArgumentFragments(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithStreamChunkTokens(2))
	resp, out := postNative(t, ts, nativeToolsBody, "X-DashScope-SSE", "enable")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	fragments := 0
	for _, line := range strings.Split(string(out), "\n") {
		if d, ok := strings.CutPrefix(line, "data:"); ok && strings.Contains(d, `"arguments":"`) && !strings.Contains(d, `"arguments":""`) {
			fragments++
		}
	}
	ch := nativeChoiceOf(t, out, true)
	if fragments < 2 || len(ch.ToolCalls) != 1 || ch.ToolCalls[0].Name != "get_weather" || !json.Valid([]byte(ch.ToolCalls[0].Arguments)) || ch.Finish != "tool_calls" {
		t.Fatalf("%d fragments, %+v\n%s", fragments, ch, out)
	}
	// The same arguments as the compatible stream.
	c := stream(t, ts, toolsBody)
	if c.Choices[0].ToolCalls[0].Arguments != ch.ToolCalls[0].Arguments {
		t.Fatalf("native %q, compatible %q", ch.ToolCalls[0].Arguments, c.Choices[0].ToolCalls[0].Arguments)
	}
}
