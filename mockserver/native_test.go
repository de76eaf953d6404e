package mockserver

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/qwenmock/qwenmock/mockserver/tokenizer"
)

const nativePath = "/api/v1/services/aigc/text-generation/generation"

// TestNativeGolden pins the exact native bodies and frames.
func TestNativeGolden(t *testing.T) {
	t.Parallel()
	who := `"input":{"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"你是谁？"}]}`
	cases := []struct {
		name, body string
		headers    []string
		status     int
		ct         string
	}{
		{"native_message.json", `{"model":"qwen3-max",` + who + `}`, nil, 200, "application/json"},
		{"native_text.json", `{"model":"qwen3-max",` + who + `,"parameters":{"result_format":"text"}}`, nil, 200, "application/json"},
		{"native_thinking.json", `{"model":"qwen3-max","input":{"prompt":"hello"},"parameters":{"enable_thinking":true,"max_tokens":30}}`, nil, 200, "application/json"},
		{"native_stream_incremental.sse", `{"model":"qwen3-max",` + who + `,"parameters":{"incremental_output":true}}`, []string{"X-DashScope-SSE", "enable"}, 200, sseContentType},
		{"native_stream_full_text.sse", `{"model":"qwen3-max","input":{"prompt":"hello"},"parameters":{"result_format":"text","max_tokens":10}}`, []string{"Accept", "text/event-stream"}, 200, sseContentType},
		{"native_stream_error.sse", `{"model":"qwen3-max","input":{}}`, []string{"X-DashScope-SSE", "enable"}, 400, sseContentType},
		{"native_no_key.json", `{"model":"qwen3-max","input":{"prompt":"x"}}`, []string{"Authorization", ""}, 401, "application/json"},
		{"native_unknown_model.json", `{"model":"qwen9","input":{"prompt":"x"}}`, nil, 404, "application/json"},
		{"native_range.json", `{"model":"qwen3-max","input":{"prompt":"x"},"parameters":{"top_p":0}}`, nil, 400, "application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := NewTestServer(t, WithClock(FixedClock(testTime)), WithRequestIDs(sequentialIDs()))
			resp, out := postNative(t, ts, tc.body, tc.headers...)
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != tc.ct {
				t.Errorf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if resp.Header.Get("X-Request-Id") != firstID {
				t.Errorf("x-request-id %q", resp.Header.Get("X-Request-Id"))
			}
			golden(t, tc.name, out)
		})
	}
}

// nativeReply decodes a non-stream native message body.
type nativeReply struct {
	Output struct {
		Text    *string `json:"text"`
		Choices []struct {
			FinishReason string `json:"finish_reason"`
			Message      struct {
				Content          string  `json:"content"`
				ReasoningContent *string `json:"reasoning_content"`
				ToolCalls        []struct {
					ID       string `json:"id"`
					Function struct {
						Name      string `json:"name"`
						Arguments string `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
		} `json:"choices"`
	} `json:"output"`
	Usage struct {
		InputTokens         int `json:"input_tokens"`
		OutputTokens        int `json:"output_tokens"`
		TotalTokens         int `json:"total_tokens"`
		OutputTokensDetails *struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		} `json:"output_tokens_details"`
	} `json:"usage"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// TestNativeMatchesCompatible sends the same conversations to both shapes: same text, same
// token counts, same tool calls.
func TestNativeMatchesCompatible(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	cases := []struct{ messages, params string }{
		{`[{"role":"user","content":"Tell me about Hangzhou."}]`, `"max_tokens":500`},
		{`[{"role":"system","content":"Be brief."},{"role":"user","content":"你好"}]`, `"max_tokens":7`},
		{`[{"role":"user","content":"Why?"}]`, `"enable_thinking":true,"thinking_budget":12`},
		{`[{"role":"user","content":"What's the weather?"}]`, `"tools":[` + weatherTool + `]`},
		{`[{"role":"user","content":"one two three"}]`, `"stop":["two"]`},
	}
	for _, tc := range cases {
		compat := complete(t, ts, `{"model":"qwen3-max","messages":`+tc.messages+`,`+tc.params+`}`)
		_, out := postNative(t, ts, `{"model":"qwen3-max","input":{"messages":`+tc.messages+`},"parameters":{`+tc.params+`}}`)
		var nat nativeReply
		if err := jsonUnmarshal(out, &nat); err != nil {
			t.Fatal(err)
		}
		nc, cc := nat.Output.Choices[0], compat.Choices[0]
		if nc.Message.Content != cc.Content || nc.FinishReason != cc.Finish ||
			nat.Usage.InputTokens != compat.Usage.PromptTokens || nat.Usage.OutputTokens != compat.Usage.CompletionTokens {
			t.Errorf("%s %s: native %s\ncompat %s", tc.messages, tc.params, out, compat.Raw)
		}
		if (nc.Message.ReasoningContent == nil) != (cc.Reasoning == nil) || (cc.Reasoning != nil && *nc.Message.ReasoningContent != *cc.Reasoning) {
			t.Errorf("reasoning differs: %s vs %s", out, compat.Raw)
		}
		if len(nc.Message.ToolCalls) != len(cc.ToolCalls) {
			t.Errorf("tool calls differ: %s vs %s", out, compat.Raw)
		}
		for i := range cc.ToolCalls {
			if nc.Message.ToolCalls[i].ID != cc.ToolCalls[i].ID || nc.Message.ToolCalls[i].Function.Arguments != cc.ToolCalls[i].Arguments {
				t.Errorf("tool call %d differs: %s vs %s", i, out, compat.Raw)
			}
		}
	}
}

// TestNativeStreamIncremental checks that both incremental modes add up to the non-stream
// text, with usage on every event and "null" finish reasons until the end.
func TestNativeStreamIncremental(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithStreamChunkTokens(2))
	body := `{"model":"qwen3-max","input":{"prompt":"Tell me a story 🦙"},"parameters":{"max_tokens":60%s}}`
	_, out := postNative(t, ts, fmt.Sprintf(body, ""))
	var full nativeReply
	if err := jsonUnmarshal(out, &full); err != nil {
		t.Fatal(err)
	}
	want := full.Output.Choices[0].Message.Content
	for _, incremental := range []bool{true, false} {
		resp, out := postNative(t, ts, fmt.Sprintf(body, fmt.Sprintf(`,"incremental_output":%v`, incremental)), "X-DashScope-SSE", "enable")
		if resp.Header.Get("X-Dashscope-Finished") != "false" {
			t.Errorf("x-dashscope-finished %q", resp.Header.Get("X-Dashscope-Finished"))
		}
		frames := strings.Split(strings.TrimSuffix(string(out), "\n\n"), "\n\n")
		var text string
		for i, f := range frames {
			lines := strings.Split(f, "\n")
			if len(lines) != 4 || lines[0] != fmt.Sprintf("id:%d", i+1) || lines[1] != "event:result" || lines[2] != ":HTTP_STATUS/200" || !strings.HasPrefix(lines[3], "data:{") {
				t.Fatalf("frame %d: %q", i, f)
			}
			var ev nativeReply
			if err := jsonUnmarshal([]byte(strings.TrimPrefix(lines[3], "data:")), &ev); err != nil {
				t.Fatal(err)
			}
			c := ev.Output.Choices[0]
			last := i == len(frames)-1
			if last != (c.FinishReason != "null") {
				t.Fatalf("frame %d finish_reason %q", i, c.FinishReason)
			}
			if ev.Usage.InputTokens != full.Usage.InputTokens || ev.Usage.TotalTokens != ev.Usage.InputTokens+ev.Usage.OutputTokens {
				t.Fatalf("frame %d usage %+v", i, ev.Usage)
			}
			if last && ev.Usage.OutputTokens != full.Usage.OutputTokens {
				t.Fatalf("last usage %+v, want %+v", ev.Usage, full.Usage)
			}
			if incremental {
				text += c.Message.Content
			} else if c.Message.Content != "" || last {
				if !strings.HasPrefix(c.Message.Content, text) {
					t.Fatalf("non-incremental frame %d does not extend the text: %q", i, c.Message.Content)
				}
				text = c.Message.Content
			}
		}
		if text != want {
			t.Errorf("incremental=%v: streamed %q, want %q", incremental, text, want)
		}
	}
}

func TestNativeValidation(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithRequestIDs(sequentialIDs()), WithModelLimits("qwen-max", RateLimits{RPM: 1}))
	cases := []struct {
		body    string
		headers []string
		status  int
		code    string
		msg     string
	}{
		{`{"model":"qwen3-max"}`, nil, 400, "InvalidParameter", `Either "prompt" or "messages" must exist and cannot both be none`},
		{`{"model":"qwen3-max","input":{"prompt":"x"},"parameters":{"enable_thinking":true,"result_format":"text"}}`, nil, 400, "InvalidParameter", `The result_format parameter must be "message" when enable_thinking is true`},
		{`{"model":"qwen3-max","input":{"prompt":"x"},"parameters":{"enable_thinking":true}}`, []string{"X-DashScope-SSE", "enable"}, 400, "InvalidParameter", `<400> InternalError.Algo.InvalidParameter: The incremental_output parameter must be "true" when enable_thinking is true`},
		{`{"model":"qwen3-max","input":{"prompt":"x"},"parameters":{"max_tokens":70000}}`, nil, 400, "InvalidParameter", `Range of max_tokens should be [1, 65536]`},
		{`{"model":"qwen3-max","input":{"prompt":"x"},"parameters":{"temperature":"hot"}}`, nil, 400, "InvalidParameter", `Invalid type for 'parameters.temperature': expected a number, but got a string instead.`},
		{`{"model":"qwen3-max","input":{"prompt":"x"},"parameters":{"result_format":"xml"}}`, nil, 400, "InvalidParameter", `result_format must be 'text' or 'message', not 'xml'.`},
		{`{"model":"qwen-max","input":{"prompt":"x"},"parameters":{"max_tokens":5}}`, nil, 200, "", ""},
		{`{"model":"qwen-max","input":{"prompt":"x"},"parameters":{"max_tokens":5}}`, nil, 429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later."},
	}
	for _, tc := range cases {
		resp, out := postNative(t, ts, tc.body, tc.headers...)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d %s", tc.body, resp.StatusCode, out)
			continue
		}
		if tc.status == 200 {
			continue
		}
		data := out
		if len(tc.headers) > 0 {
			_, d, ok := bytes.Cut(out, []byte("\ndata:"))
			if !ok || !bytes.HasPrefix(out, []byte(fmt.Sprintf("id:1\nevent:error\n:HTTP_STATUS/%d\n", tc.status))) {
				t.Errorf("%s: frame %q", tc.body, out)
			}
			data = bytes.TrimSuffix(d, []byte("\n\n"))
		}
		var e nativeReply
		if err := jsonUnmarshal(data, &e); err != nil || e.Code != tc.code || e.Message != tc.msg {
			t.Errorf("%s: %s", tc.body, out)
		}
	}
}

func TestNativeThinkingUsage(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	_, out := postNative(t, ts, `{"model":"qwen3-max","input":{"prompt":"Why?"},"parameters":{"enable_thinking":true}}`)
	var r nativeReply
	if err := jsonUnmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	c := r.Output.Choices[0].Message
	rt := tokenizer.Default().Count(*c.ReasoningContent)
	if r.Usage.OutputTokensDetails == nil || r.Usage.OutputTokensDetails.ReasoningTokens != rt || r.Usage.OutputTokens != rt+tokenizer.Default().Count(c.Content) {
		t.Fatalf("usage %+v for %s", r.Usage, out)
	}
}

func TestProcessRoute(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithClock(FixedClock(testTime)), WithRequestIDs(sequentialIDs()), WithModelLimits("qwen3-max", RateLimits{RPM: 2}), WithMaxInputTokens(50))
	call := func(key, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/process", strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	st, body := call("sk-test", `{"input_text":"你是谁？"}`)
	want := `{"output_text":"我是通义千问，由阿里云开发的AI助手。我被设计用来回答各种问题、提供信息和与用户进行对话。有什么我可以帮助你的吗？","finish_reason":"stop","model":"qwen3-max","usage":{"input_tokens":11,"output_tokens":36,"total_tokens":47},"request_id":"` + firstID + `"}`
	if st != 200 || body != want {
		t.Fatalf("process:\n got  %d %s\n want %s", st, body, want)
	}
	if st, body := call("", `{"input_text":"hi"}`); st != 401 || !strings.HasPrefix(body, `{"code":"InvalidApiKey","message":"No API-key provided."`) {
		t.Fatalf("no key: %d %s", st, body)
	}
	if st, body := call("sk-test", `{"input_text":"`+strings.Repeat("word ", 60)+`"}`); st != 400 || !strings.Contains(body, `"message":"Range of input length should be [1, 50]"`) {
		t.Fatalf("context: %d %s", st, body)
	}
	if st, _ := call("sk-test", `{"input_text":"hi","max_tokens":3}`); st != 200 {
		t.Fatalf("second: %d", st)
	}
	if st, body := call("sk-test", `{"input_text":"hi"}`); st != 429 || !strings.HasPrefix(body, `{"code":"Throttling.RateQuota"`) {
		t.Fatalf("limit: %d %s", st, body)
	}
	if st, body := call("sk-test", `{"text":"hi"}`); st != 400 || !strings.Contains(body, "input_text") {
		t.Fatalf("bad body: %d %s", st, body)
	}
}
