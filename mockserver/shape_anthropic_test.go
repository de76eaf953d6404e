package mockserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/qwenmock/qwenmock/mockserver/tokenizer"
)

const anthropicPath = "/apps/anthropic/v1/messages"

// postAnthropic sends one Messages request with x-api-key to a running server.
func postAnthropic(t *testing.T, ts *TestServer, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	h := append([]string{"X-Api-Key", "sk-test", "Anthropic-Version", "2023-06-01", "Content-Type", "application/json"}, headers...)
	return send(t, http.MethodPost, ts.URL+anthropicPath+"?beta=true", body, h...)
}

// anthropicReply decodes a non-stream Messages body.
type anthropicReply struct {
	ID      string `json:"id"`
	Content []struct {
		Type      string          `json:"type"`
		Text      string          `json:"text"`
		Thinking  string          `json:"thinking"`
		Signature *string         `json:"signature"`
		ID        string          `json:"id"`
		Name      string          `json:"name"`
		Input     json.RawMessage `json:"input"`
	} `json:"content"`
	StopReason string `json:"stop_reason"`
	Usage      struct {
		InputTokens              int `json:"input_tokens"`
		OutputTokens             int `json:"output_tokens"`
		CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
		CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	} `json:"usage"`
}

func (r anthropicReply) text() string {
	var sb strings.Builder
	for _, b := range r.Content {
		sb.WriteString(b.Text)
	}
	return sb.String()
}

func (r anthropicReply) thinking() string {
	for _, b := range r.Content {
		if b.Type == "thinking" {
			return b.Thinking
		}
	}
	return ""
}

func decodeAnthropicReply(t *testing.T, resp *http.Response, out []byte) anthropicReply {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, out)
	}
	var r anthropicReply
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return r
}

// anthropicEvents splits a stream into (event, data) pairs, checking the framing: every event
// is "event:NAME\ndata:JSON\n\n".
func anthropicEvents(t *testing.T, body []byte) [][2]string {
	t.Helper()
	s := string(body)
	if !strings.HasSuffix(s, "\n\n") {
		t.Fatalf("stream does not end with a blank line: %q", s)
	}
	var out [][2]string
	for _, ev := range strings.Split(strings.TrimSuffix(s, "\n\n"), "\n\n") {
		name, rest, ok1 := strings.Cut(ev, "\n")
		name, ok2 := strings.CutPrefix(name, "event:")
		data, ok3 := strings.CutPrefix(rest, "data:")
		if !ok1 || !ok2 || !ok3 || strings.Contains(data, "\n") {
			t.Fatalf("event is not an event: line and a data: line: %q", ev)
		}
		out = append(out, [2]string{name, data})
	}
	return out
}

const anthropicWho = `"system":"You are a helpful assistant.","messages":[{"role":"user","content":"你是谁？"}]`

const anthropicWeatherTool = `{"name":"get_weather","description":"Current weather of a city","input_schema":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":7}},"required":["city","unit"]}}`

// TestAnthropicGolden pins the exact bodies and streams of the Anthropic endpoint
// (spec/shapes.md §A.5–A.8).
func TestAnthropicGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, path, body string
		opts             []Option
		headers          []string
		status           int
		ct               string
	}{
		{"anthropic_message.json", anthropicPath, `{"model":"qwen3-max","max_tokens":1024,` + anthropicWho + `}`, nil, nil, 200, "application/json"},
		{"anthropic_stream.sse", anthropicPath, `{"model":"qwen3-max","max_tokens":12,"stream":true,` + anthropicWho + `}`, nil, nil, 200, sseContentType},
		{"anthropic_thinking.json", anthropicPath, `{"model":"qwen3-max","max_tokens":5,"thinking":{"type":"enabled","budget_tokens":20},"messages":[{"role":"user","content":"hello"}]}`, nil, nil, 200, "application/json"},
		{"anthropic_thinking_stream.sse", anthropicPath, `{"model":"qwen3-max","max_tokens":5,"stream":true,"thinking":{"type":"enabled","budget_tokens":12},"messages":[{"role":"user","content":"hello"}]}`, nil, nil, 200, sseContentType},
		{"anthropic_tool_use.json", anthropicPath, `{"model":"qwen3-max","max_tokens":1024,"tools":[` + anthropicWeatherTool + `],"tool_choice":{"type":"any"},"messages":[{"role":"user","content":"Weather in Hangzhou?"}]}`, nil, nil, 200, "application/json"},
		{"anthropic_tool_use_stream.sse", anthropicPath, `{"model":"qwen3-max","max_tokens":1024,"stream":true,"tools":[` + anthropicWeatherTool + `],"tool_choice":{"type":"tool","name":"get_weather"},"messages":[{"role":"user","content":"Weather in Hangzhou?"}]}`, nil, nil, 200, sseContentType},
		{"anthropic_context_length.sse", anthropicPath, `{"model":"qwen3-max","max_tokens":10,"messages":[{"role":"user","content":"` + strings.Repeat("word ", 50) + `"}]}`, []Option{WithMaxInputTokens(20)}, nil, 400, sseContentType},
		{"anthropic_context_length_anthropic.json", anthropicPath, `{"model":"qwen3-max","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"` + strings.Repeat("word ", 50) + `"}]}`, []Option{WithMaxInputTokens(20), WithAnthropicErrors(AnthropicErrorsAnthropic)}, nil, 400, "application/json"},
		{"anthropic_no_max_tokens.json", anthropicPath, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}]}`, nil, nil, 400, "application/json"},
		{"anthropic_no_key.json", anthropicPath, `{"model":"qwen3-max","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, nil, []string{"X-Api-Key", ""}, 401, "application/json"},
		{"anthropic_rate_limit.json", anthropicPath, `{"model":"qwen3-max","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, nil, []string{"X-Mock-Fault", "rate_limit_requests"}, 429, "application/json"},
		{"anthropic_overloaded_anthropic.json", anthropicPath, `{"model":"qwen3-max","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, []Option{WithAnthropicErrors(AnthropicErrorsAnthropic)}, []string{"X-Mock-Fault", "overloaded"}, 529, "application/json"},
		{"anthropic_stream_fault.sse", anthropicPath, `{"model":"qwen3-max","max_tokens":20,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil, []string{"X-Mock-Fault", "internal; after_chunks=4"}, 200, sseContentType},
		{"anthropic_count_tokens.json", anthropicPath + "/count_tokens", `{"model":"qwen3-max",` + anthropicWho + `}`, nil, nil, 200, "application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := NewTestServer(t, append([]Option{WithClock(FixedClock(testTime)), WithRequestIDs(sequentialIDs())}, tc.opts...)...)
			h := append([]string{"X-Api-Key", "sk-test", "Content-Type", "application/json"}, tc.headers...)
			resp, out := send(t, http.MethodPost, ts.URL+tc.path+"?beta=true", tc.body, h...)
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != tc.ct {
				t.Errorf("status %d, Content-Type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), out)
			}
			if resp.Header.Get("Retry-After") != "" {
				t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
			}
			// The journal keeps the status the client got, Anthropic's own included (529).
			if recs := ts.Server.Requests(); tc.path == anthropicPath && (len(recs) != 1 || recs[0].Status != tc.status) {
				t.Errorf("journal: %+v, want one record with status %d", recs, tc.status)
			}
			golden(t, tc.name, out)
		})
	}
}

// TestAnthropicStreamShape checks the DashScope stream rules on a stream with thinking:
// message_start without stop keys and two usage fields, a ping, signature_delta "", the
// four usage fields in message_delta, and that the stream adds up to the non-stream answer.
func TestAnthropicStreamShape(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	body := `"max_tokens":40,"thinking":{"type":"enabled","budget_tokens":30},"messages":[{"role":"user","content":"Why is the sky blue?"}]}`
	want := anthropicOK(t, ts, `{"model":"qwen3-max",`+body)
	resp, out := postAnthropic(t, ts, `{"model":"qwen3-max","stream":true,`+body)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	events := anthropicEvents(t, out)
	var names []string
	var thinking, text strings.Builder
	for _, ev := range events {
		names = append(names, ev[0])
		var d struct {
			Type  string `json:"type"`
			Delta struct {
				Type, Thinking, Text string
			} `json:"delta"`
		}
		if err := json.Unmarshal([]byte(ev[1]), &d); err != nil || d.Type != ev[0] {
			t.Fatalf("event %s data %s", ev[0], ev[1])
		}
		thinking.WriteString(d.Delta.Thinking)
		text.WriteString(d.Delta.Text)
	}
	if names[0] != "message_start" || names[1] != "content_block_start" || names[2] != "ping" ||
		names[len(names)-2] != "message_delta" || names[len(names)-1] != "message_stop" {
		t.Errorf("events %v", names)
	}
	if strings.Contains(events[0][1], "stop_reason") || !strings.HasSuffix(events[0][1], `"usage":{"input_tokens":14,"output_tokens":0}}}`) {
		t.Errorf("message_start %s", events[0][1])
	}
	if !slices.ContainsFunc(events, func(ev [2]string) bool {
		return strings.Contains(ev[1], `"delta":{"type":"signature_delta","signature":""}`)
	}) {
		t.Errorf("no empty signature_delta")
	}
	wantDelta := `{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"input_tokens":14,"output_tokens":`
	if d := events[len(events)-2][1]; !strings.HasPrefix(d, wantDelta) || !strings.HasSuffix(d, `,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}`) {
		t.Errorf("message_delta %s", d)
	}
	if thinking.String() != want.thinking() || text.String() != want.text() || want.StopReason != "max_tokens" {
		t.Errorf("stream thinking %q text %q; non-stream %q %q %s", thinking.String(), text.String(), want.thinking(), want.text(), want.StopReason)
	}
}

// anthropicOK sends a request that must succeed and decodes the reply.
func anthropicOK(t *testing.T, ts *TestServer, body string) anthropicReply {
	t.Helper()
	resp, out := postAnthropic(t, ts, body)
	return decodeAnthropicReply(t, resp, out)
}

// TestAnthropicMatchesCompatible sends the same conversations through both shapes: same text,
// same reasoning, same token counts, same tool calls.
func TestAnthropicMatchesCompatible(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	cases := []struct{ name, compat, anthropic string }{
		{"plain", `"messages":[{"role":"user","content":"Tell me about Hangzhou."}]`,
			`"max_tokens":2000,"messages":[{"role":"user","content":"Tell me about Hangzhou."}]`},
		{"system and max_tokens", `"max_tokens":7,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"你好"}]`,
			`"max_tokens":7,"system":[{"type":"text","text":"Be brief."}],"messages":[{"role":"user","content":[{"type":"text","text":"你好"}]}]`},
		{"thinking", `"enable_thinking":true,"thinking_budget":12,"messages":[{"role":"user","content":"Why?"}]`,
			`"max_tokens":2000,"thinking":{"type":"enabled","budget_tokens":12},"messages":[{"role":"user","content":"Why?"}]`},
		{"tools", `"tools":[` + weatherTool + `],"messages":[{"role":"user","content":"What's the weather?"}]`,
			`"max_tokens":2000,"tools":[` + anthropicWeatherTool + `],"messages":[{"role":"user","content":"What's the weather?"}]`},
		{"tool result", `"tools":[` + weatherTool + `],"messages":[{"role":"user","content":"Weather?"},` +
			`{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Hangzhou\", \"unit\": \"celsius\"}"}}]},` +
			`{"role":"tool","tool_call_id":"call_1","content":"sunny"}]`,
			`"max_tokens":2000,"tools":[` + anthropicWeatherTool + `],"messages":[{"role":"user","content":"Weather?"},` +
				`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Hangzhou","unit":"celsius"}}]},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"sunny"}]}]`},
		{"stop", `"stop":["two"],"messages":[{"role":"user","content":"one two three"}]`,
			`"max_tokens":2000,"stop_sequences":["two"],"messages":[{"role":"user","content":"one two three"}]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			compat := complete(t, ts, `{"model":"qwen3-max",`+tc.compat+`}`)
			a := anthropicOK(t, ts, `{"model":"qwen3-max",`+tc.anthropic+`}`)
			if a.Usage.InputTokens != compat.Usage.PromptTokens || a.Usage.OutputTokens != compat.Usage.CompletionTokens {
				t.Errorf("anthropic usage %d/%d, compatible %d/%d", a.Usage.InputTokens, a.Usage.OutputTokens,
					compat.Usage.PromptTokens, compat.Usage.CompletionTokens)
			}
			ch := compat.Choices[0]
			reasoning := ""
			if ch.Reasoning != nil {
				reasoning = *ch.Reasoning
			}
			if a.text() != ch.Content || a.thinking() != reasoning {
				t.Errorf("anthropic %q / %q, compatible %q / %q", a.text(), a.thinking(), ch.Content, reasoning)
			}
			var calls []string
			for _, b := range a.Content {
				if b.Type == "tool_use" {
					calls = append(calls, b.Name+" "+pythonJSON(b.Input))
				}
			}
			var want []string
			for _, c := range ch.ToolCalls {
				want = append(want, c.Name+" "+c.Arguments)
			}
			if !slices.Equal(calls, want) {
				t.Errorf("tool calls %q, compatible %q", calls, want)
			}
		})
	}
}

// TestAnthropicPipeline shows that the shared pipeline applies unchanged: fixtures, the
// journal, usage, rate limits, the context window and max_tokens.
func TestAnthropicPipeline(t *testing.T) {
	t.Parallel()
	content := "Fixed answer."
	one := 1
	ts := NewTestServer(t, WithFixtures(Fixture{Name: "fx", Match: FixtureMatch{Contains: "fixture please"},
		Reply: &FixtureReply{Content: &content}}), WithRateLimitOverride(&one, nil))

	a := anthropicOK(t, ts, `{"model":"qwen3-max","max_tokens":100,"messages":[{"role":"user","content":"A fixture please."}]}`)
	if a.text() != content || a.StopReason != "end_turn" {
		t.Errorf("fixture reply %+v", a)
	}
	resp, out := postAnthropic(t, ts, `{"model":"qwen3-max","max_tokens":100,"messages":[{"role":"user","content":"again"}]}`)
	if resp.StatusCode != http.StatusTooManyRequests || string(out) != `{"code":"Throttling.RateQuota","message":"Requests rate limit exceeded, please try again later.","request_id":"`+resp.Header.Get("X-Request-Id")+`"}` {
		t.Errorf("second request in the minute: %d %s", resp.StatusCode, out)
	}
	recs := ts.Requests()
	if len(recs) != 2 || recs[0].Shape != "anthropic" || recs[0].Fixture != "fx" || recs[0].Status != 200 ||
		recs[0].PromptTokens != a.Usage.InputTokens || recs[0].CompletionTokens != a.Usage.OutputTokens || recs[1].Status != 429 {
		t.Errorf("journal %v", recs)
	}
}

// TestAnthropicRequests covers request handling: Bearer auth, a wrong key, role "system" in
// messages and unknown fields (as Claude Code sends them), images, tool_choice none, and the
// 404 on other sub-paths.
func TestAnthropicRequests(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithAPIKeys("sk-test"))
	resp, out := send(t, http.MethodPost, ts.URL+anthropicPath, `{"model":"qwen3-max","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
		"Authorization", "Bearer sk-test")
	decodeAnthropicReply(t, resp, out)

	resp, out = send(t, http.MethodPost, ts.URL+anthropicPath, `{"model":"qwen3-max","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
		"X-Api-Key", "sk-wrong")
	if resp.StatusCode != 401 || !strings.HasPrefix(string(out), `{"code":"InvalidApiKey","message":"Invalid API-key provided.","request_id":"`) {
		t.Errorf("wrong key: %d %s", resp.StatusCode, out)
	}

	claudeCode := `{"model":"qwen3-max","max_tokens":32000,"stream":false,"metadata":{"user_id":"{\"device_id\":\"x\"}"},` +
		`"thinking":{"type":"adaptive","display":"omitted"},"context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},` +
		`"output_config":{"effort":"high"},"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.337;"},{"type":"text","text":"You are helpful.","cache_control":{"type":"ephemeral"}}],` +
		`"tools":[{"name":"Read","description":"Read a file","input_schema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"file_path":{"type":"string"}},"required":["file_path"]},"defer_loading":false}],` +
		`"messages":[{"role":"user","content":[{"type":"text","text":"<system-reminder>r</system-reminder>"},{"type":"text","text":"hello"}]},` +
		`{"role":"system","content":[{"type":"text","text":"env","cache_control":{"type":"ephemeral"}}]}]}`
	r := anthropicOK(t, ts, claudeCode)
	if r.thinking() != "" || len(r.Content) == 0 {
		t.Errorf("Claude Code's request: %+v", r)
	}

	resp, out = postAnthropic(t, ts, `{"model":"qwen3-max","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"http://x"}}]}]}`)
	if resp.StatusCode != 400 || !strings.Contains(string(out), `"message":"messages[0].content[0] has type 'image'; this model accepts text, tool_use and tool_result blocks."`) {
		t.Errorf("image: %d %s", resp.StatusCode, out)
	}

	r = anthropicOK(t, ts, `{"model":"qwen3-max","max_tokens":50,"tool_choice":{"type":"none"},"tools":[`+anthropicWeatherTool+`],"messages":[{"role":"user","content":"Weather?"}]}`)
	if r.StopReason == "tool_use" {
		t.Errorf("tool_choice none gave %+v", r)
	}

	resp, out = postAnthropic(t, ts, `{"model":"qwen3-max","max_tokens":5,"temperature":2,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 400 || !strings.Contains(string(out), `"message":"Temperature should be in [0.0, 2.0)"`) {
		t.Errorf("temperature 2: %d %s", resp.StatusCode, out)
	}

	resp, _ = send(t, http.MethodPost, ts.URL+"/apps/anthropic/v1/complete", `{}`, "X-Api-Key", "sk-test")
	if resp.StatusCode != 404 {
		t.Errorf("unknown sub-path: %d", resp.StatusCode)
	}
	if got := ts.AnthropicBaseURL(); got != ts.URL+"/apps/anthropic" {
		t.Errorf("AnthropicBaseURL %q", got)
	}
}

func TestWithAnthropicErrorsRejectsUnknownMode(t *testing.T) {
	t.Parallel()
	if _, err := New(WithAnthropicErrors("openai")); err == nil {
		t.Error("WithAnthropicErrors(\"openai\") was accepted")
	}
}

// TestAnthropicErrorTableComplete: every kind has a row in Anthropic's table.
func TestAnthropicErrorTableComplete(t *testing.T) {
	t.Parallel()
	for k := range errorKinds {
		if row := anthropicErrorOf(newError(k, "a", "b")); row.status == 0 || row.typ == "" {
			t.Errorf("%s is incomplete in the Anthropic table: %+v", k, row)
		}
	}
}

// TestAnthropicCache: cache_control on a system block feeds the explicit context cache, and
// the usage reports it as Anthropic does: input_tokens leaves out what was written to or read
// from the cache.
func TestAnthropicCache(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithClock(FixedClock(testTime)))
	system := longText(1500)
	n := tokenizer.Default().Count("<|im_start|>system\n" + system)
	body := func(stream bool) string {
		return fmt.Sprintf(`{"model":"qwen3-max","max_tokens":8,"stream":%t,"system":[{"type":"text","text":%q,"cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}]}`, stream, system)
	}
	first := anthropicOK(t, ts, body(false))
	if first.Usage.CacheCreationInputTokens != n || first.Usage.CacheReadInputTokens != 0 {
		t.Fatalf("creation: %+v", first.Usage)
	}
	second := anthropicOK(t, ts, body(false))
	if second.Usage.CacheReadInputTokens != n || second.Usage.CacheCreationInputTokens != 0 ||
		second.Usage.InputTokens != first.Usage.InputTokens {
		t.Fatalf("hit: %+v after %+v", second.Usage, first.Usage)
	}
	if rec := ts.Requests(); rec[1].PromptTokens != second.Usage.InputTokens+n {
		t.Fatalf("journal prompt tokens %d, want %d", rec[1].PromptTokens, second.Usage.InputTokens+n)
	}
	_, out := postAnthropic(t, ts, body(true))
	want := fmt.Sprintf(`"usage":{"input_tokens":%d,"output_tokens":8,"cache_creation_input_tokens":0,"cache_read_input_tokens":%d}`, second.Usage.InputTokens, n)
	if !strings.Contains(string(out), want) {
		t.Fatalf("stream usage: want %s in\n%s", want, out)
	}
}
