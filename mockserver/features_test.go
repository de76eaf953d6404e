package mockserver

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/qwenmock/qwenmock/mockserver/tokenizer"
)

const weatherTool = `{"type":"function","function":{"name":"get_weather","description":"Current weather of a city","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":7}},"required":["city","unit"]}}}`
const bookTool = `{"type":"function","function":{"name":"book_flight","parameters":{"type":"object","properties":{"from":{"type":"string","pattern":"^[A-Z]{3}$"},"to":{"type":"string","pattern":"^[A-Z]{3}$"},"date":{"type":"string","format":"date"},"passengers":{"type":"array","minItems":1,"items":{"type":"object","properties":{"name":{"type":"string"},"email":{"type":"string","format":"email"}},"required":["name","email"]}}},"required":["from","to","date","passengers"],"additionalProperties":false}}}`

func validateArgs(t *testing.T, tool, args string) {
	t.Helper()
	var def struct {
		Function struct {
			Parameters json.RawMessage `json:"parameters"`
		} `json:"function"`
	}
	if err := json.Unmarshal([]byte(tool), &def); err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(def.Function.Parameters)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(args))
	if err != nil {
		t.Fatalf("arguments %q are not JSON: %v", args, err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("arguments %s do not validate: %v", args, err)
	}
}

var callIDPattern = regexp.MustCompile(`^call_[0-9a-f]{24}$`)

func TestToolChoiceFunction(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	for i := range 20 {
		body := fmt.Sprintf(`{"model":"qwen3-max","messages":[{"role":"user","content":"trip %d"}],"tools":[%s,%s],"tool_choice":{"type":"function","function":{"name":"book_flight"}}}`, i, weatherTool, bookTool)
		r := bothWays(t, ts, body)
		c := r.Choices[0]
		if c.Finish != "tool_calls" || c.Content != "" || len(c.ToolCalls) != 1 || c.ToolCalls[0].Name != "book_flight" {
			t.Fatalf("reply %+v", c)
		}
		if !callIDPattern.MatchString(c.ToolCalls[0].ID) {
			t.Fatalf("call id %q", c.ToolCalls[0].ID)
		}
		validateArgs(t, bookTool, c.ToolCalls[0].Arguments)
		want := tokenizer.Default().Count("<tool_call>\n{\"name\": \"book_flight\", \"arguments\": " + c.ToolCalls[0].Arguments + "}\n</tool_call>")
		if r.Usage.CompletionTokens != want {
			t.Fatalf("completion_tokens %d, want %d", r.Usage.CompletionTokens, want)
		}
	}
}

func TestToolChoiceAutoAndNone(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	tools := `"tools":[` + weatherTool + `,` + bookTool + `]`
	// The tool named in the question is called.
	r := bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"What's the weather in Paris?"}],`+tools+`}`)
	if len(r.Choices[0].ToolCalls) != 1 || r.Choices[0].ToolCalls[0].Name != "get_weather" {
		t.Fatalf("auto: %+v", r.Choices[0])
	}
	validateArgs(t, weatherTool, r.Choices[0].ToolCalls[0].Arguments)
	// "none" never calls.
	r = bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"What's the weather in Paris?"}],`+tools+`,"tool_choice":"none"}`)
	if len(r.Choices[0].ToolCalls) != 0 || r.Choices[0].Finish != "stop" || r.Choices[0].Content == "" {
		t.Fatalf("none: %+v", r.Choices[0])
	}
	// After a tool result, auto answers in words, so agent loops end.
	r = bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"What's the weather in Paris?"},`+
		`{"role":"assistant","content":"","tool_calls":[{"id":"call_0123456789abcdef01234567","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\", \"unit\": \"celsius\"}"}}]},`+
		`{"role":"tool","tool_call_id":"call_0123456789abcdef01234567","content":"{\"temp\": 21}"}],`+tools+`}`)
	if len(r.Choices[0].ToolCalls) != 0 || r.Choices[0].Finish != "stop" {
		t.Fatalf("after tool result: %+v", r.Choices[0])
	}
	// Unrelated questions: the seeded decision calls in some cases and answers in others,
	// the same way every run.
	calls := 0
	for i := range 30 {
		body := fmt.Sprintf(`{"model":"qwen3-max","messages":[{"role":"user","content":"question %d"}],%s}`, i, tools)
		r := complete(t, ts, body)
		if len(r.Choices[0].ToolCalls) > 0 {
			calls++
		}
		if again := complete(t, ts, body); again.Raw[:strings.Index(again.Raw, `"created"`)] != r.Raw[:strings.Index(r.Raw, `"created"`)] {
			t.Fatalf("decision not deterministic")
		}
	}
	if calls == 0 || calls == 30 {
		t.Fatalf("%d of 30 unrelated questions called a tool", calls)
	}
	// "required" always calls.
	for i := range 10 {
		r := complete(t, ts, fmt.Sprintf(`{"model":"qwen3-max","messages":[{"role":"user","content":"q %d"}],%s,"tool_choice":"required"}`, i, tools))
		if len(r.Choices[0].ToolCalls) != 1 {
			t.Fatalf("required: %+v", r.Choices[0])
		}
	}
}

func TestParallelToolCalls(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"Check the weather, then book a flight."}],"tools":[` + weatherTool + `,` + bookTool + `],"parallel_tool_calls":%v}`
	r := bothWays(t, ts, fmt.Sprintf(body, true))
	if len(r.Choices[0].ToolCalls) != 2 || r.Choices[0].ToolCalls[0].Name != "get_weather" || r.Choices[0].ToolCalls[1].Name != "book_flight" {
		t.Fatalf("parallel: %+v", r.Choices[0])
	}
	validateArgs(t, weatherTool, r.Choices[0].ToolCalls[0].Arguments)
	validateArgs(t, bookTool, r.Choices[0].ToolCalls[1].Arguments)
	if r.Choices[0].ToolCalls[0].ID == r.Choices[0].ToolCalls[1].ID {
		t.Fatal("parallel calls share an id")
	}
	r = bothWays(t, ts, fmt.Sprintf(body, false))
	if len(r.Choices[0].ToolCalls) != 1 {
		t.Fatalf("not parallel: %+v", r.Choices[0])
	}
}

// TestToolCallStreamShape checks the exact deltas of a streamed tool call.
func TestToolCallStreamShape(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithClock(FixedClock(testTime)), WithRequestIDs(sequentialIDs()))
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"weather?"}],"tools":[` + weatherTool + `],"tool_choice":{"type":"function","function":{"name":"get_weather"}},"stream":true}`
	_, out := post(t, ts, body)
	events := sseEvents(t, strings.NewReader(string(out)))
	tail := `],"object":"chat.completion.chunk","usage":null,"created":1735120033,"system_fingerprint":null,"model":"qwen3-max","id":"chatcmpl-` + firstID + `"}`
	first := regexp.MustCompile(`^\{"choices":\[\{"delta":\{"content":null,"tool_calls":\[\{"index":0,"id":"call_[0-9a-f]{24}","type":"function","function":\{"name":"get_weather","arguments":""\}\}\]\},"finish_reason":null,"index":0,"logprobs":null\}` + regexp.QuoteMeta(tail) + `$`)
	if !first.MatchString(events[1]) {
		t.Fatalf("first tool delta: %s", events[1])
	}
	frag := regexp.MustCompile(`^\{"choices":\[\{"delta":\{"tool_calls":\[\{"index":0,"id":"","type":"function","function":\{"arguments":"(?:[^"\\]|\\.)+"\}\}\]\},"finish_reason":null,"index":0,"logprobs":null\}` + regexp.QuoteMeta(tail) + `$`)
	n := 0
	for _, ev := range events[2 : len(events)-2] {
		if !frag.MatchString(ev) {
			t.Fatalf("argument delta: %s", ev)
		}
		n++
	}
	if n < 2 {
		t.Fatalf("arguments in %d fragments", n)
	}
	if want := `{"choices":[{"finish_reason":"tool_calls","delta":{},"index":0,"logprobs":null}` + tail; events[len(events)-2] != want {
		t.Fatalf("finish chunk %s", events[len(events)-2])
	}
}

// TestPromptTokensWithTools checks the prompt rendering of tools, tool calls and tool results
// against Qwen's chat template written out by hand.
func TestPromptTokensWithTools(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	tool := `{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}`
	body := `{"model":"qwen3-max","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Weather in 杭州?"},` +
		`{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"杭州\"}"}}]},` +
		`{"role":"tool","tool_call_id":"call_1","content":"晴"},{"role":"tool","tool_call_id":"call_2","content":"24"}],"tools":[` + tool + `]}`
	rendered := "<|im_start|>system\nBe brief.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
		"You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n" +
		`{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}` +
		"\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n" +
		"<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" +
		"<|im_start|>user\nWeather in 杭州?<|im_end|>\n" +
		"<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"杭州\"}}\n</tool_call><|im_end|>\n" +
		"<|im_start|>user\n<tool_response>\n晴\n</tool_response>\n<tool_response>\n24\n</tool_response><|im_end|>\n" +
		"<|im_start|>assistant\n"
	r := complete(t, ts, body)
	if want := tokenizer.Default().Count(rendered); r.Usage.PromptTokens != want {
		t.Fatalf("prompt_tokens %d, want %d", r.Usage.PromptTokens, want)
	}
}

func TestJSONMode(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithRequestIDs(sequentialIDs()))
	for i := range 10 {
		r := bothWays(t, ts, fmt.Sprintf(`{"model":"qwen3-max","messages":[{"role":"user","content":"Answer in JSON: question %d"}],"response_format":{"type":"json_object"}}`, i))
		var obj map[string]any
		if err := json.Unmarshal([]byte(r.Choices[0].Content), &obj); err != nil || len(obj) == 0 {
			t.Fatalf("content is not a JSON object: %q", r.Choices[0].Content)
		}
		if r.Usage.CompletionTokens != tokenizer.Default().Count(r.Choices[0].Content) {
			t.Fatalf("tokens %d for %q", r.Usage.CompletionTokens, r.Choices[0].Content)
		}
	}
	r := bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}`)
	if r.Status != 400 || r.Error.Message != "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'." || r.Error.Code != "invalid_parameter_error" {
		t.Fatalf("without json: %d %s", r.Status, r.Raw)
	}
	r = bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"json please"}],"response_format":{"type":"json_object"},"enable_thinking":true}`)
	if r.Status != 400 || r.Error.Code != "invalid_parameter_error" {
		t.Fatalf("json with thinking: %d %s", r.Status, r.Raw)
	}
}

func TestThinking(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	tok := tokenizer.Default()
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"Why is the sky blue?"}],"enable_thinking":true%s}`
	r := bothWays(t, ts, fmt.Sprintf(body, ""))
	c := r.Choices[0]
	if c.Reasoning == nil || *c.Reasoning == "" || c.Content == "" || c.Finish != "stop" {
		t.Fatalf("thinking reply %+v", c)
	}
	rt, ct := tok.Count(*c.Reasoning), tok.Count(c.Content)
	if r.Usage.CompletionTokensDetails == nil || r.Usage.CompletionTokensDetails.ReasoningTokens != rt || r.Usage.CompletionTokens != rt+ct {
		t.Fatalf("usage %+v with %d reasoning + %d content tokens", r.Usage, rt, ct)
	}

	// A cap inside the reasoning: reasoning cut, content empty.
	r = bothWays(t, ts, fmt.Sprintf(body, `,"max_tokens":7`))
	if c := r.Choices[0]; c.Content != "" || c.Finish != "length" || r.Usage.CompletionTokens != 7 || tok.Count(*c.Reasoning) != 7 {
		t.Fatalf("cap in reasoning: %+v %+v", c, r.Usage)
	}
	// A cap after the reasoning cuts the content.
	r = bothWays(t, ts, fmt.Sprintf(body, fmt.Sprintf(`,"max_tokens":%d`, rt+3)))
	if c := r.Choices[0]; c.Finish != "length" || r.Usage.CompletionTokens != rt+3 || tok.Count(c.Content) != 3 {
		t.Fatalf("cap in content: %+v %+v", c, r.Usage)
	}
	// thinking_budget stops the reasoning early, then the answer follows.
	r = bothWays(t, ts, fmt.Sprintf(body, `,"thinking_budget":5`))
	if c := r.Choices[0]; tok.Count(*c.Reasoning) != 5 || c.Content == "" || c.Finish != "stop" || r.Usage.CompletionTokensDetails.ReasoningTokens != 5 {
		t.Fatalf("budget: %+v", c)
	}
	// The thinking max output is the model's thinking limit.
	r = bothWays(t, ts, fmt.Sprintf(body, `,"max_tokens":40000`))
	if r.Status != 400 || r.Error.Message != "<400> InternalError.Algo.InvalidParameter: Range of max_tokens should be [1, 32768]" {
		t.Fatalf("thinking max_tokens: %s", r.Raw)
	}
	r = bothWays(t, ts, fmt.Sprintf(body, `,"thinking_budget":81921`))
	if r.Status != 400 || r.Error.Message != "<400> InternalError.Algo.InvalidParameter: The thinking_budget parameter must be a positive integer and not greater than 81920" {
		t.Fatalf("thinking_budget range: %s", r.Raw)
	}
	// Without thinking there is no reasoning field at all; models without thinking ignore it.
	r = bothWays(t, ts, `{"model":"qwen3-max-2025-09-23","messages":[{"role":"user","content":"hi there"}],"enable_thinking":true}`)
	if r.Choices[0].Reasoning != nil || r.Usage.CompletionTokensDetails != nil || strings.Contains(r.Raw, "reasoning") {
		t.Fatalf("non-thinking model: %s", r.Raw)
	}
}

func TestThinkingStreamShape(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	_, out := post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi there"}],"enable_thinking":true,"stream":true}`)
	events := sseEvents(t, strings.NewReader(string(out)))
	phase := 0 // 0 reasoning, 1 content
	for _, ev := range events[1 : len(events)-2] {
		isReasoning := strings.HasPrefix(ev, `{"choices":[{"delta":{"content":null,"reasoning_content":"`)
		isContent := regexp.MustCompile(`^\{"choices":\[\{"delta":\{"content":"(?:[^"\\]|\\.)+","reasoning_content":null\},"finish_reason":null`).MatchString(ev)
		switch {
		case isReasoning && phase == 0:
		case isContent:
			phase = 1
		default:
			t.Fatalf("unexpected delta in phase %d: %s", phase, ev)
		}
	}
	if phase != 1 {
		t.Fatal("no content after the reasoning")
	}
}

func TestStopSequences(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithFallback(FallbackEcho))
	r := bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"one, two. three; four"}],"stop":[";", ". "]}`)
	if c := r.Choices[0]; c.Content != "one, two" || c.Finish != "stop" || r.Usage.CompletionTokens != tokenizer.Default().Count("one, two") {
		t.Fatalf("stop list: %+v", c)
	}
	r = bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"one, two. three; four"}],"stop":"three"}`)
	if r.Choices[0].Content != "one, two. " {
		t.Fatalf("stop string: %q", r.Choices[0].Content)
	}
	r = bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"one, two. three; four"}],"stop":["never"],"max_tokens":2}`)
	if r.Choices[0].Finish != "length" {
		t.Fatalf("length wins when the stop is not reached: %+v", r.Choices[0])
	}
}

func TestPartialContinuation(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	prefix := "Once upon a time"
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"Tell a story."},{"role":"assistant","content":"` + prefix + `","partial":true}]}`
	r := bothWays(t, ts, body)
	tok := tokenizer.Default()
	// The last message is rendered without <|im_end|> and without a generation prompt.
	want := tok.Count("<|im_start|>user\nTell a story.<|im_end|>\n<|im_start|>assistant\n" + prefix)
	if r.Usage.PromptTokens != want {
		t.Fatalf("prompt_tokens %d, want %d", r.Usage.PromptTokens, want)
	}
	if !strings.HasPrefix(r.Choices[0].Content, " ") {
		t.Fatalf("continuation should start after the prefix with a space: %q", r.Choices[0].Content)
	}
	r = bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"assistant","content":"x","partial":true},{"role":"user","content":"hi"}]}`)
	if r.Status != 400 || r.Error.Message != "messages[0]: only the last message, from the assistant, can be partial." {
		t.Fatalf("partial not last: %s", r.Raw)
	}
}

func TestToolValidation(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	cases := []struct{ body, msg string }{
		{`"tools":[{"type":"function"}]`, `tools[0] must be an object {"type": "function", "function": {"name": ..., "parameters": {...}}}.`},
		{`"tools":[{"type":"retrieval","function":{"name":"x"}}]`, `tools[0].type must be 'function', not 'retrieval'.`},
		{`"tools":[` + weatherTool + `,` + weatherTool + `]`, `tools[1]: the function name 'get_weather' is used twice.`},
		{`"tools":[` + weatherTool + `],"tool_choice":{"type":"function","function":{"name":"nope"}}`, `tool_choice names the function 'nope', which is not in tools.`},
		{`"tools":[` + weatherTool + `],"tool_choice":"sometimes"`, `tool_choice must be 'auto', 'none', 'required' or {"type": "function", "function": {"name": ...}}, not 'sometimes'.`},
		{`"tools":[` + weatherTool + `],"n":2`, `<400> InternalError.Algo.InvalidParameter: n should be 1 when tools are provided`},
		{`"response_format":{"type":"xml"}`, `response_format.type must be 'text' or 'json_object', not 'xml'.`},
	}
	for _, tc := range cases {
		r := bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],`+tc.body+`}`)
		if r.Status != 400 || r.Error.Message != tc.msg {
			t.Errorf("%s: %d %s", tc.body, r.Status, r.Raw)
		}
	}
}
