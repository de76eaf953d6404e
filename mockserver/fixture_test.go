package mockserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qwenmock/qwenmock/mockserver/tokenizer"
)

const exampleFixtures = `
fixtures:
  - name: weather
    match:
      model: qwen3-*
      contains: Weather
      tools: true
    replies:
      - tool_calls:
          - name: get_weather
            arguments: {city: Hangzhou, unit: celsius}
      - content: "It is sunny in Hangzhou, 24 °C."
  - name: greeting
    match:
      regex: "(?i)^(hi|hello)\\b"
    reply:
      content: "Hello! How can I help you today?"
      reasoning: "The user greets me."
  - name: throttled
    match:
      contains: "please throttle"
    error: rate_limit_requests
  - name: json-args
    match:
      contains: "json args"
    reply:
      tool_calls:
        - name: web_search
          arguments: '{"query":"qwen","filters":{"lang":"zh","year":2025}}'
`

func TestFixtureFileErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, src, want string }{
		{"unknown field", "fixtures:\n  - name: a\n    match:\n      contians: x\n    reply: {content: hi}\n", `x.yaml: [4:7] unknown field "contians"`},
		{"bad regex", "fixtures:\n  - name: a\n    reply: {content: hi}\n  - name: b\n    match:\n      regex: \"(\"\n    reply: {content: hi}\n", `x.yaml:6: fixture "b": bad regex: error parsing regexp: missing closing ): ` + "`(`"},
		{"unknown error", "fixtures:\n  - name: a\n    error: nope\n", `x.yaml:3: fixture "a": unknown error kind "nope"`},
		{"two answers", "fixtures:\n  - name: a\n    error: internal\n    reply: {content: hi}\n", `x.yaml:2: fixture "a": give exactly one of reply, replies or error`},
		{"no name", "fixtures:\n  - reply: {content: hi}\n", `x.yaml:2: fixture "": name is required`},
		{"bad arguments", "fixtures:\n  - name: a\n    reply:\n      tool_calls:\n        - name: f\n          arguments: '{nope'\n", `x.yaml:6: fixture "a": arguments string is not valid JSON`},
		{"wrong type", "fixtures:\n  - name: a\n    match: {tools: maybe}\n    reply: {content: hi}\n", `x.yaml: [3:20] cannot unmarshal string into Go struct field`},
		{"bad glob", "fixtures:\n  - name: a\n    match: {model: \"qwen[\"}\n    reply: {content: hi}\n", `x.yaml:3: fixture "a": bad model glob`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseFixtures("x.yaml", []byte(tc.src))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant prefix %s", err, tc.want)
			}
		})
	}
	// Duplicate names across files stop New with both places.
	p := writeFixtures(t, "fixtures:\n  - name: a\n    reply: {content: hi}\n")
	_, err := New(WithFixtureFiles(p, p))
	if err == nil || !strings.Contains(err.Error(), `fixture name "a" is already used at `+p+`:2`) {
		t.Fatalf("duplicate: %v", err)
	}
}

func TestFixtureDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "b.json"), []byte(`{"fixtures":[{"name":"b","match":{"contains":"x"},"reply":{"content":"from b"}}]}`), 0o644))
	must(os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("fixtures:\n  - name: a\n    match: {contains: x}\n    reply: {content: from a}\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "sub", "c.yml"), []byte("fixtures:\n  - name: c\n    reply: {content: from c}\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a fixture"), 0o644))
	fs, err := LoadFixtures(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fs {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Fatalf("order %v", names)
	}
	ts := NewTestServer(t, WithFixtureFiles(dir))
	r := bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"x"}]}`)
	if r.Choices[0].Content != "from a" {
		t.Fatalf("first match should win: %q", r.Choices[0].Content)
	}
	r = bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"y"}]}`)
	if r.Choices[0].Content != "from c" {
		t.Fatalf("empty match should match all: %q", r.Choices[0].Content)
	}
}

func TestFixtureMatching(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithFixtureFiles(writeFixtures(t, exampleFixtures)))
	tools := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]`

	// Model glob + case-insensitive contains + tools.
	r := bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"What is the WEATHER like?"}],`+tools+`}`)
	if c := r.Choices[0]; c.Finish != "tool_calls" || len(c.ToolCalls) != 1 || c.ToolCalls[0].Name != "get_weather" ||
		c.ToolCalls[0].Arguments != `{"city": "Hangzhou", "unit": "celsius"}` || c.Content != "" {
		t.Fatalf("weather turn 0: %+v", c)
	}
	want := tokenizer.Default().Count("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Hangzhou\", \"unit\": \"celsius\"}}\n</tool_call>")
	if r.Usage.CompletionTokens != want {
		t.Errorf("tool call completion_tokens %d, want %d", r.Usage.CompletionTokens, want)
	}
	// Turn 1: after the tool result, the final answer.
	turn1 := `{"model":"qwen3-max","messages":[{"role":"user","content":"What is the WEATHER like?"},` +
		`{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Hangzhou\"}"}}]},` +
		`{"role":"tool","tool_call_id":"call_1","content":"sunny, 24"}],` + tools + `}`
	r = bothWays(t, ts, turn1)
	if c := r.Choices[0]; c.Content != "It is sunny in Hangzhou, 24 °C." || c.Finish != "stop" || len(c.ToolCalls) != 0 {
		t.Fatalf("weather turn 1: %+v", c)
	}
	// Without tools the weather fixture does not match: generated prose.
	r = bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"weather?"}]}`)
	if strings.Contains(r.Choices[0].Content, "Hangzhou") || len(r.Choices[0].ToolCalls) != 0 {
		t.Fatalf("tools: true should not match: %+v", r.Choices[0])
	}
	// Another model family misses the glob.
	r = bothWays(t, ts, `{"model":"qwen-plus","messages":[{"role":"user","content":"weather?"}],`+tools+`}`)
	if len(r.Choices[0].ToolCalls) == 1 && r.Choices[0].ToolCalls[0].Arguments == `{"city": "Hangzhou", "unit": "celsius"}` {
		t.Fatalf("model glob should not match qwen-plus")
	}
	// Regex, with reasoning shown only in thinking mode.
	r = bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"Hello there"}]}`)
	if r.Choices[0].Content != "Hello! How can I help you today?" || r.Choices[0].Reasoning != nil {
		t.Fatalf("greeting: %+v", r.Choices[0])
	}
	r = bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"enable_thinking":true}`)
	if r.Choices[0].Reasoning == nil || *r.Choices[0].Reasoning != "The user greets me." {
		t.Fatalf("greeting with thinking: %+v", r.Choices[0])
	}
	// A JSON-string arguments fixture keeps its key order, written as the model writes JSON.
	r = bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"json args please"}],"tools":[{"type":"function","function":{"name":"web_search"}}]}`)
	if got := r.Choices[0].ToolCalls[0].Arguments; got != `{"query": "qwen", "filters": {"lang": "zh", "year": 2025}}` {
		t.Fatalf("arguments %s", got)
	}
}

func TestFixtureErrorReply(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithFixtureFiles(writeFixtures(t, exampleFixtures)), WithRequestIDs(sequentialIDs()))
	status, body := post(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"please throttle me"}]}`)
	want := `{"error":{"message":"You have exceeded your current request limit. For details, see: https://www.alibabacloud.com/help/en/model-studio/error-code#rate-limit","type":"limit_requests","param":null,"code":"limit_requests"},"request_id":"` + firstID + `"}`
	if status != 429 || string(body) != want {
		t.Fatalf("%d %s", status, body)
	}
	r := bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"please throttle me"}]}`)
	if r.Error.Code != "limit_requests" {
		t.Fatalf("stream error %+v", r.Error)
	}
}

func TestFixtureHeader(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithFixtureFiles(writeFixtures(t, exampleFixtures)))
	r := bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"anything"}]}`, "X-Mock-Fixture", "greeting")
	if r.Choices[0].Content != "Hello! How can I help you today?" {
		t.Fatalf("header fixture: %+v", r.Choices[0])
	}
	r = bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"anything"}]}`, "X-Mock-Fixture", "nope")
	want := `X-Mock-Fixture names "nope", which is not a fixture. Fixtures: builtin-introduce-yourself, builtin-who-are-you, greeting, json-args, throttled, weather.`
	if r.Status != 400 || r.Error.Code != "fixture_not_found" || r.Error.Message != want {
		t.Fatalf("unknown header fixture: %d %s", r.Status, r.Raw)
	}
}

func TestFallbacks(t *testing.T) {
	t.Parallel()
	p := writeFixtures(t, exampleFixtures)
	echo := NewTestServer(t, WithFallback(FallbackEcho))
	r := bothWays(t, echo, `{"model":"qwen3-max","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Repeat after me: 你好 🦙"}]}`)
	if r.Choices[0].Content != "Repeat after me: 你好 🦙" {
		t.Fatalf("echo: %q", r.Choices[0].Content)
	}
	if r.Usage.CompletionTokens != tokenizer.Default().Count("Repeat after me: 你好 🦙") {
		t.Fatalf("echo tokens %d", r.Usage.CompletionTokens)
	}

	strict := NewTestServer(t, WithFallback(FallbackStrict), WithFixtureFiles(p), WithRequestIDs(sequentialIDs()))
	status, body := post(t, strict, `{"model":"qwen-plus","messages":[{"role":"user","content":"weather in Paris?"}]}`)
	want := `{"error":{"message":"No fixture matches this request (fallback: strict). Closest: \"weather\" (` + p + `:3): model \"qwen-plus\" does not match \"qwen3-*\", tools: true wanted, the request has false; \"greeting\" (` + p + `:13): the last user message does not match /(?i)^(hi|hello)\\b/; \"throttled\" (` + p + `:19): the last user message does not contain \"please throttle\".","type":"invalid_request_error","param":null,"code":"no_fixture_matched"},"request_id":"` + firstID + `"}`
	if status != 400 || string(body) != want {
		t.Fatalf("strict:\n got  %d %s\n want %s", status, body, want)
	}
	if r := bothWays(t, strict, `{"model":"qwen3-max","messages":[{"role":"user","content":"hello"}]}`); r.Choices[0].Content != "Hello! How can I help you today?" {
		t.Fatalf("strict with a match: %+v", r)
	}
	if _, err := New(WithFallback("random")); err == nil {
		t.Fatal("bad fallback accepted")
	}
}

// TestBuiltinFixtures reproduces DashScope's documented conversations, whose published
// usage is 22/36 and 42/59.
func TestBuiltinFixtures(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	cases := []struct {
		messages         string
		prompt, complete int
	}{
		{`[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"你是谁？"}]`, 22, 36},
		{`[{"role":"system","content":"你是一个乐于解答各种问题的助手，你的任务是为用户提供专业、准确、有见地的建议。"},{"role":"user","content":"你好，请介绍一下自己"}]`, 42, 59},
	}
	for _, tc := range cases {
		r := bothWays(t, ts, `{"model":"qwen3-max","messages":`+tc.messages+`}`)
		if r.Usage.PromptTokens != tc.prompt || r.Usage.CompletionTokens != tc.complete {
			t.Errorf("%s: usage %d/%d, want %d/%d", tc.messages, r.Usage.PromptTokens, r.Usage.CompletionTokens, tc.prompt, tc.complete)
		}
	}
	off := NewTestServer(t, WithoutBuiltinFixtures())
	r := complete(t, off, `{"model":"qwen3-max","messages":`+cases[0].messages+`}`)
	if strings.HasPrefix(r.Choices[0].Content, "我是通义千问") {
		t.Fatal("WithoutBuiltinFixtures kept the built-ins")
	}
}

// TestREADMEFixtures keeps the documentation's complete example fixture file
// (docs/fixtures.md) working: it must parse, and its weather fixture must run its two turns.
func TestREADMEFixtures(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../docs/fixtures.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```yaml\n# fixtures.yaml\nfixtures:")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no example fixture file in docs/fixtures.md")
	}
	fs, err := ParseFixtures("docs/fixtures.md", []byte("fixtures:"+example))
	if err != nil {
		t.Fatal(err)
	}
	ts := NewTestServer(t, WithFixtures(fs...))
	tools := `"tools":[{"type":"function","function":{"name":"get_weather"}}]`
	r := bothWays(t, ts, `{"model":"qwen3-max","messages":[{"role":"user","content":"Weather today?"}],`+tools+`}`)
	if len(r.Choices[0].ToolCalls) != 1 || r.Choices[0].ToolCalls[0].Arguments != `{"city": "Hangzhou", "unit": "celsius"}` {
		t.Fatalf("turn 0: %+v", r.Choices[0])
	}
	r = bothWays(t, ts, `{"model":"qwen3-max","enable_thinking":true,"messages":[{"role":"user","content":"Weather today?"},{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_1","content":"sunny"}],`+tools+`}`)
	if r.Choices[0].Content != "It is sunny in Hangzhou, 24 °C." || *r.Choices[0].Reasoning != "The tool says sunny, 24 degrees." {
		t.Fatalf("turn 1: %+v", r.Choices[0])
	}
}
