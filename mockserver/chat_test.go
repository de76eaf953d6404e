package mockserver

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/qwenmock/qwenmock/mockserver/tokenizer"
)

func TestCompletionShape(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t)
	rec := chat(t, srv, `{"model":"qwen3-max","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"你是谁？"}]}`)
	c := decodeCompletion(t, rec)
	content := c.Choices[0].Message.Content
	completionTokens := tokenizer.Default().Count(content)
	want := `{"choices":[{"message":{"role":"assistant","content":` + string(appendJSONString(nil, content)) +
		`},"finish_reason":"stop","index":0,"logprobs":null}],"object":"chat.completion","usage":{"prompt_tokens":22,"completion_tokens":` +
		fmt.Sprint(completionTokens) + `,"total_tokens":` + fmt.Sprint(22+completionTokens) +
		`,"prompt_tokens_details":{"cached_tokens":0}},"created":1735120033,"system_fingerprint":null,"model":"qwen3-max","id":"chatcmpl-` + firstID + `"}`
	if got := rec.Body.String(); got != want {
		t.Fatalf("body:\n got  %s\n want %s", got, want)
	}
	for h, v := range map[string]string{
		"Content-Type": "application/json", "X-Request-Id": firstID,
		"X-Dashscope-Call-Gateway": "true", "X-Dashscope-Finished": "true",
	} {
		if got := rec.Header().Get(h); got != v {
			t.Errorf("%s = %q, want %q", h, got, v)
		}
	}
	if rec.Header().Get("Req-Cost-Time") == "" {
		t.Errorf("no req-cost-time header")
	}
	if completionTokens < 20 || completionTokens > 400 {
		t.Errorf("reply of %d tokens; want tens to a few hundred", completionTokens)
	}
}

// TestPromptTokens reproduces DashScope's published prompt_tokens figures.
func TestPromptTokens(t *testing.T) {
	t.Parallel()
	cases := []struct {
		messages string
		want     int
	}{
		{`[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"你是谁？"}]`, 22},
		{`[{"role":"system","content":"你是一个乐于解答各种问题的助手，你的任务是为用户提供专业、准确、有见地的建议。"},{"role":"user","content":"你好，请介绍一下自己"}]`, 42},
		{`[{"role":"user","content":"假如你是李白，你想说什么？"}]`, 15},
		{`[{"role":"user","content":"hi"}]`, 9},
		{`[{"role":"user","content":[{"type":"text","text":"h"},{"type":"text","text":"i"}]}]`, 9},
	}
	srv := newTestHandler(t)
	for _, tc := range cases {
		c := decodeCompletion(t, chat(t, srv, `{"model":"qwen3-max","messages":`+tc.messages+`}`))
		if c.Usage.PromptTokens != tc.want {
			t.Errorf("%s: prompt_tokens = %d, want %d", tc.messages, c.Usage.PromptTokens, tc.want)
		}
		if c.Usage.TotalTokens != c.Usage.PromptTokens+c.Usage.CompletionTokens {
			t.Errorf("total_tokens %d != %d + %d", c.Usage.TotalTokens, c.Usage.PromptTokens, c.Usage.CompletionTokens)
		}
	}
}

func TestReplyDeterministic(t *testing.T) {
	t.Parallel()
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"Tell me about Hangzhou."}]}`
	first := decodeCompletion(t, chat(t, newTestHandler(t), body)).Choices[0].Message.Content

	// The same request on another server with the same seed, many times in parallel (without
	// rate limits, so that only determinism is under test).
	srv := newTestHandler(t, WithLimits(RateLimits{RPM: Unlimited, TPM: Unlimited}))
	var wg sync.WaitGroup
	errs := make(chan string, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := chat(t, srv, body)
			if got := decodeCompletion(t, rec).Choices[0].Message.Content; got != first {
				errs <- got
			}
		}()
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("reply differs under concurrency:\n%s\nvs\n%s", got, first)
	}

	other := func(opts []Option, body string) string {
		return decodeCompletion(t, chat(t, newTestHandler(t, opts...), body)).Choices[0].Message.Content
	}
	if other([]Option{WithSeed(2)}, body) == first {
		t.Errorf("another server seed gave the same reply")
	}
	if other(nil, strings.Replace(body, "Hangzhou", "Beijing", 1)) == first {
		t.Errorf("another request gave the same reply")
	}
	if other(nil, strings.Replace(body, `]}`, `],"seed":42}`, 1)) == first {
		t.Errorf("another request seed gave the same reply")
	}
	if other(nil, strings.Replace(body, `]}`, `],"temperature":0.1,"stream":false}`, 1)) != first {
		t.Errorf("sampling parameters changed the reply")
	}
}

func TestReplyLengthVaries(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t)
	lengths := map[int]bool{}
	minLen, maxLen := 1<<30, 0
	for i := range 40 {
		c := decodeCompletion(t, chat(t, srv, fmt.Sprintf(`{"model":"qwen3-max","messages":[{"role":"user","content":"question %d"}]}`, i)))
		n := c.Usage.CompletionTokens
		lengths[n] = true
		minLen, maxLen = min(minLen, n), max(maxLen, n)
	}
	if len(lengths) < 20 || minLen < 10 || maxLen > 600 || maxLen < 100 {
		t.Errorf("40 replies: %d distinct lengths in [%d, %d]", len(lengths), minLen, maxLen)
	}
}

func TestMaxTokensTruncates(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t)
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"Write a story."}]%s}`
	full := decodeCompletion(t, chat(t, srv, fmt.Sprintf(body, ""))).Choices[0].Message.Content
	tok := tokenizer.Default()
	fullIDs := tok.Encode(full)
	for _, n := range []int{1, 5, 17} {
		for _, field := range []string{"max_tokens", "max_completion_tokens"} {
			c := decodeCompletion(t, chat(t, srv, fmt.Sprintf(body, fmt.Sprintf(`,"%s":%d`, field, n))))
			ch := c.Choices[0]
			if ch.FinishReason != "length" || c.Usage.CompletionTokens != n {
				t.Errorf("%s %d: finish %q, completion_tokens %d", field, n, ch.FinishReason, c.Usage.CompletionTokens)
			}
			if want := tok.Decode(fullIDs[:n]); ch.Message.Content != want {
				t.Errorf("%s %d: content %q, want the first %d tokens %q", field, n, ch.Message.Content, n, want)
			}
		}
	}
	// A cap above the reply's length changes nothing.
	c := decodeCompletion(t, chat(t, srv, fmt.Sprintf(body, `,"max_tokens":65536`)))
	if c.Choices[0].FinishReason != "stop" || c.Choices[0].Message.Content != full {
		t.Errorf("max_tokens 65536 changed the reply")
	}
}

// TestCutInsideCharacter checks that a cut inside a multi-byte character counts the token but
// returns valid UTF-8.
func TestCutInsideCharacter(t *testing.T) {
	t.Parallel()
	tok := tokenizer.Default()
	// " 🦙" is three tokens (11162 99 247): the first ends inside the character.
	text := "this is 🦙.cpp"
	ids := tok.Encode(text)
	split := false
	for _, id := range ids {
		split = split || !utf8.Valid(tok.TokenBytes(id))
	}
	if !split {
		t.Fatalf("no token of %q ends inside a character: %v", text, ids)
	}
	srv := newTestHandler(t)
	for n := 1; n <= len(ids); n++ {
		ch := srv.truncate(&call{req: &chatRequest{}, maxOutput: n}, replyPlan{content: text})
		if !utf8.ValidString(ch.text) {
			t.Fatalf("cut at %d: invalid UTF-8 %q", n, ch.text)
		}
		if len(ch.ids) != n {
			t.Fatalf("cut at %d kept %d tokens", n, len(ch.ids))
		}
		if !strings.HasPrefix(text, ch.text) {
			t.Fatalf("cut at %d: %q is not a prefix", n, ch.text)
		}
	}
}

// promptOf builds a user message whose prompt is exactly want tokens.
func promptOf(t *testing.T, want int) string {
	t.Helper()
	tok := tokenizer.Default()
	var sb strings.Builder
	for i := 0; ; i++ {
		n := 6 + tok.Count("user\n"+sb.String())
		if n == want {
			return sb.String()
		}
		if n > want {
			t.Fatalf("overshot %d tokens", want)
		}
		sb.WriteString(" word")
	}
}

func TestContextWindow(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t, WithMaxInputTokens(100))
	at := promptOf(t, 100)
	c := decodeCompletion(t, chat(t, srv, `{"model":"qwen3-max","messages":[{"role":"user","content":"`+at+`"}]}`))
	if c.Usage.PromptTokens != 100 {
		t.Fatalf("prompt_tokens = %d", c.Usage.PromptTokens)
	}
	rec := chat(t, srv, `{"model":"qwen3-max","messages":[{"role":"user","content":"`+at+` word"}]}`)
	want := `{"error":{"message":"<400> InternalError.Algo.InvalidParameter: Range of input length should be [1, 100]","type":"invalid_request_error","param":null,"code":"invalid_parameter_error"},"id":"chatcmpl-00000000-0000-4000-8000-000000000002","request_id":"00000000-0000-4000-8000-000000000002"}`
	if rec.Code != 400 || rec.Body.String() != want {
		t.Fatalf("over the limit: %d %s", rec.Code, rec.Body)
	}

	// The default limit is the model's own: qwen-max accepts 30,720 tokens.
	def := newTestHandler(t)
	long := strings.Repeat(" word", 31000)
	rec = chat(t, def, `{"model":"qwen-max","messages":[{"role":"user","content":"`+long+`"}]}`)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "Range of input length should be [1, 30720]") {
		t.Fatalf("qwen-max: %d %s", rec.Code, rec.Body)
	}
}

// TestOutputBoundedByContext checks that output stops where the context window ends.
func TestOutputBoundedByContext(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t, WithContextWindow(110))
	prompt := promptOf(t, 100)
	c := decodeCompletion(t, chat(t, srv, `{"model":"qwen3-max","messages":[{"role":"user","content":"`+prompt+`"}]}`))
	if c.Usage.CompletionTokens != 10 || c.Choices[0].FinishReason != "length" {
		t.Fatalf("completion_tokens %d finish %q, want 10 length", c.Usage.CompletionTokens, c.Choices[0].FinishReason)
	}
}

func TestNChoices(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t)
	c := decodeCompletion(t, chat(t, srv, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"n":3}`))
	if len(c.Choices) != 3 {
		t.Fatalf("%d choices", len(c.Choices))
	}
	sum := 0
	for i, ch := range c.Choices {
		if ch.Index != i {
			t.Errorf("choice %d has index %d", i, ch.Index)
		}
		sum += tokenizer.Default().Count(ch.Message.Content)
	}
	if c.Choices[0].Message.Content == c.Choices[1].Message.Content {
		t.Errorf("choices are identical")
	}
	if c.Usage.CompletionTokens != sum {
		t.Errorf("completion_tokens %d, want the sum %d", c.Usage.CompletionTokens, sum)
	}
}

func TestModelsEndpoint(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t)
	for _, path := range []string{"/compatible-mode/v1/models", "/v1/models"} {
		rec := do(t, srv, http.MethodGet, path, "sk-test", "")
		if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), `{"object":"list","data":[{"id":"qwen-flash","object":"model","created":1753920000,"owned_by":"system"},`) {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
		for _, id := range []string{"qwen3-max", "qwen3-max-2026-01-23", "qwen3-max-2025-09-23", "qwen3-max-preview", "qwen-max", "qwen-plus", "qwen-turbo", "qwen3-coder-plus"} {
			if !strings.Contains(rec.Body.String(), `"id":"`+id+`"`) {
				t.Errorf("%s: %s missing", path, id)
			}
		}
	}
	if rec := do(t, srv, http.MethodGet, "/v1/models", "", ""); rec.Code != 401 {
		t.Errorf("models without key: %d", rec.Code)
	}
}

func TestV1Alias(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t)
	body := `{"model":"qwen3-max-2026-01-23","messages":[{"role":"user","content":"hi"}]}`
	a := decodeCompletion(t, do(t, srv, http.MethodPost, "/v1/chat/completions", "sk-test", body))
	b := decodeCompletion(t, chat(t, srv, body))
	if a.Choices[0].Message.Content != b.Choices[0].Message.Content || a.Model != "qwen3-max-2026-01-23" {
		t.Errorf("/v1 alias differs")
	}
}

// TestCompatGolden pins the exact compatible bodies and stream frames.
func TestCompatGolden(t *testing.T) {
	t.Parallel()
	who := `"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"你是谁？"}]`
	weather := `"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather of a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],"tool_choice":"required"`
	cases := []struct {
		name, body string
		headers    []string
		status     int
		ct         string
	}{
		{"compat_completion.json", `{"model":"qwen3-max",` + who + `}`, nil, 200, "application/json"},
		{"compat_n2.json", `{"model":"qwen3-max",` + who + `,"n":2,"max_tokens":12}`, nil, 200, "application/json"},
		{"compat_thinking.json", `{"model":"qwen3-max","messages":[{"role":"user","content":"hello"}],"enable_thinking":true,"max_tokens":30}`, nil, 200, "application/json"},
		{"compat_tools.json", `{"model":"qwen3-max","messages":[{"role":"user","content":"Weather in Paris?"}],` + weather + `}`, nil, 200, "application/json"},
		{"compat_stream.sse", `{"model":"qwen3-max",` + who + `,"stream":true,"stream_options":{"include_usage":true},"max_tokens":10}`, nil, 200, sseContentType},
		{"compat_stream_thinking.sse", `{"model":"qwen3-max","messages":[{"role":"user","content":"hello"}],"stream":true,"enable_thinking":true,"max_tokens":12}`, nil, 200, sseContentType},
		{"compat_stream_tools.sse", `{"model":"qwen3-max","messages":[{"role":"user","content":"Weather in Paris?"}],"stream":true,` + weather + `}`, nil, 200, sseContentType},
		{"compat_stream_fault.sse", `{"model":"qwen3-max",` + who + `,"stream":true}`, []string{"X-Mock-Fault", "internal; after_chunks=2"}, 200, sseContentType},
		{"compat_stream_error.sse", `{"model":"qwen3-max",` + who + `,"stream":true,"top_p":0}`, nil, 400, sseContentType},
		{"compat_no_key.json", `{"model":"qwen3-max",` + who + `}`, []string{"Authorization", ""}, 401, "application/json"},
		{"compat_unknown_model.json", `{"model":"qwen9",` + who + `}`, nil, 404, "application/json"},
		{"compat_range.json", `{"model":"qwen3-max",` + who + `,"top_p":0}`, nil, 400, "application/json"},
		{"compat_context_length.json", `{"model":"qwen3-max",` + who + `}`, []string{"X-Mock-Fault", "context_length"}, 400, "application/json"},
		{"compat_fixture_not_found.json", `{"model":"qwen3-max",` + who + `}`, []string{"X-Mock-Fixture", "nope"}, 400, "application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := NewTestServer(t, WithClock(FixedClock(testTime)), WithRequestIDs(sequentialIDs()))
			resp, out := send(t, http.MethodPost, ts.OpenAIBaseURL()+"/chat/completions", tc.body, append(apiHeaders(), tc.headers...)...)
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
