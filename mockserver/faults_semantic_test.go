package mockserver

import (
	"encoding/json"
	"strings"
	"testing"
)

const toolsBody = `{"model":"qwen3-max","messages":[{"role":"user","content":"What is the weather in Hangzhou?"}],"max_tokens":200,
"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]}`

const nativeToolsBody = `{"model":"qwen3-max","input":{"messages":[{"role":"user","content":"What is the weather in Hangzhou?"}]},"parameters":{"max_tokens":200,"result_format":"message","incremental_output":true,
"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]}}`

// checkSemantic asserts what a client sees of a semantic fault in one reply choice.
func checkSemantic(t *testing.T, kind string, ch replyChoice) {
	t.Helper()
	switch kind {
	case FaultEmptyReply:
		if ch.Content != "" || len(ch.ToolCalls) != 0 || ch.Finish != "stop" {
			t.Errorf("%s: %+v", kind, ch)
		}
	case FaultInvalidToolArguments:
		if len(ch.ToolCalls) != 1 || ch.ToolCalls[0].Name != "get_weather" || json.Valid([]byte(ch.ToolCalls[0].Arguments)) || ch.Finish != "tool_calls" ||
			!strings.HasPrefix(ch.ToolCalls[0].ID, "call_") {
			t.Errorf("%s: %+v", kind, ch)
		}
	case FaultUnknownTool:
		if len(ch.ToolCalls) != 1 || ch.ToolCalls[0].Name != "undeclared_tool" || !json.Valid([]byte(ch.ToolCalls[0].Arguments)) || ch.Finish != "tool_calls" {
			t.Errorf("%s: %+v", kind, ch)
		}
	case FaultLengthMidToolCall:
		if len(ch.ToolCalls) != 1 || json.Valid([]byte(ch.ToolCalls[0].Arguments)) || ch.ToolCalls[0].Arguments == "" || ch.Finish != "length" {
			t.Errorf("%s: %+v", kind, ch)
		}
	}
}

// nativeChoiceOf reads a native non-stream reply, or reassembles a native incremental stream.
func nativeChoiceOf(t *testing.T, out []byte, stream bool) replyChoice {
	t.Helper()
	type msg struct {
		Output struct {
			Choices []struct {
				FinishReason string `json:"finish_reason"`
				Message      struct {
					Content   string `json:"content"`
					ToolCalls []struct {
						Function struct{ Name, Arguments string } `json:"function"`
						ID       string                           `json:"id"`
					} `json:"tool_calls"`
				} `json:"message"`
			} `json:"choices"`
		} `json:"output"`
	}
	var datas []string
	if stream {
		for _, line := range strings.Split(string(out), "\n") {
			if d, ok := strings.CutPrefix(line, "data:"); ok {
				datas = append(datas, d)
			}
		}
	} else {
		datas = []string{string(out)}
	}
	var ch replyChoice
	for _, d := range datas {
		var m msg
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			t.Fatalf("event %s: %v", d, err)
		}
		c := m.Output.Choices[0]
		ch.Content += c.Message.Content
		for _, tc := range c.Message.ToolCalls {
			if tc.ID != "" && (len(ch.ToolCalls) == 0 || ch.ToolCalls[len(ch.ToolCalls)-1].ID != tc.ID) {
				ch.ToolCalls = append(ch.ToolCalls, replyToolCall{ID: tc.ID, Name: tc.Function.Name})
			}
			ch.ToolCalls[len(ch.ToolCalls)-1].Arguments += tc.Function.Arguments
		}
		if c.FinishReason != "null" {
			ch.Finish = c.FinishReason
		}
	}
	return ch
}

// TestSemanticFaults: each semantic fault, on both shapes, through the header, the queue and
// the random rate.
func TestSemanticFaults(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{FaultInvalidToolArguments, FaultUnknownTool, FaultEmptyReply, FaultLengthMidToolCall} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			// Header, compatible, non-stream and stream.
			ts := NewTestServer(t)
			checkSemantic(t, kind, complete(t, ts, toolsBody, "X-Mock-Fault", kind).Choices[0])
			checkSemantic(t, kind, stream(t, ts, toolsBody, "X-Mock-Fault", kind).Choices[0])
			// Queue, native, non-stream and stream.
			if err := ts.QueueFault(Fault{Kind: kind, Count: 2}); err != nil {
				t.Fatal(err)
			}
			resp, out := postNative(t, ts, nativeToolsBody)
			if resp.StatusCode != 200 {
				t.Fatalf("native: %d %s", resp.StatusCode, out)
			}
			checkSemantic(t, kind, nativeChoiceOf(t, out, false))
			resp, out = postNative(t, ts, nativeToolsBody, "X-DashScope-SSE", "enable")
			if resp.StatusCode != 200 {
				t.Fatalf("native stream: %d %s", resp.StatusCode, out)
			}
			checkSemantic(t, kind, nativeChoiceOf(t, out, true))
			// Rate: every request draws the fault.
			rated := NewTestServer(t, WithFaultRate(1), WithFaultKinds(kind))
			checkSemantic(t, kind, complete(t, rated, toolsBody).Choices[0])
			if r := rated.ExpectLastRequest(t); r.Fault != kind || r.Status != 200 {
				t.Errorf("journal %+v", r)
			}
		})
	}
}
