package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tmc/langchaingo/llms"
	lcopenai "github.com/tmc/langchaingo/llms/openai"
)

// langchaingo's OpenAI provider, github.com/tmc/langchaingo/llms/openai. It sends
// max_completion_tokens rather than max_tokens and always asks for include_usage when
// streaming; it cannot add enable_thinking to a request, so the thinking test adds it in the
// HTTP transport, as users of the library do with DashScope.

func newLangchainGo(t *testing.T, base, key string, rec *recorder) *lcopenai.LLM {
	t.Helper()
	llm, err := lcopenai.New(
		lcopenai.WithBaseURL(compatBase(base)),
		lcopenai.WithToken(key),
		lcopenai.WithModel(model),
		lcopenai.WithHTTPClient(rec.client()),
	)
	if err != nil {
		t.Fatal(err)
	}
	return llm
}

var langchainGoWeatherTool = []llms.Tool{{
	Type: "function",
	Function: &llms.FunctionDefinition{
		Name:        "get_weather",
		Description: weatherToolDesc,
		Parameters:  weatherSchema,
	},
}}

func human(s string) []llms.MessageContent {
	return []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, s)}
}

func genInt(t *testing.T, c *llms.ContentChoice, key string) int {
	t.Helper()
	v, ok := c.GenerationInfo[key].(int)
	if !ok {
		t.Fatalf("GenerationInfo[%q] = %#v", key, c.GenerationInfo[key])
	}
	return v
}

func TestLangchainGo(t *testing.T) {
	t.Parallel()
	base := startMock(t, "--fixtures", fixtureFile(t))
	ctx := context.Background()

	t.Run("NonStream", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		resp, err := newLangchainGo(t, base, testKey, rec).GenerateContent(ctx, []llms.MessageContent{
			llms.TextParts(llms.ChatMessageTypeSystem, "You are a helpful assistant."),
			llms.TextParts(llms.ChatMessageTypeHuman, "你是谁？"),
		})
		if err != nil {
			t.Fatal(err)
		}
		checkJSONHeaders(t, rec.last(t))
		c := resp.Choices[0]
		if c.Content == "" || c.StopReason != "stop" {
			t.Errorf("choice %+v", c)
		}
		if p, cpl, tot := genInt(t, c, "PromptTokens"), genInt(t, c, "CompletionTokens"), genInt(t, c, "TotalTokens"); p != 22 || tot != p+cpl {
			t.Errorf("usage %d + %d = %d", p, cpl, tot)
		}
	})

	t.Run("StreamWithUsage", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		llm := newLangchainGo(t, base, testKey, rec)
		msgs := human("Tell me a short story.")
		want, err := llm.GenerateContent(ctx, msgs)
		if err != nil {
			t.Fatal(err)
		}
		var streamed strings.Builder
		got, err := llm.GenerateContent(ctx, msgs, llms.WithStreamingFunc(func(_ context.Context, chunk []byte) error {
			streamed.Write(chunk)
			return nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		ex := rec.last(t)
		checkStreamHeaders(t, ex)
		checkChunks(t, ex.RespBody, true)
		if !strings.Contains(string(ex.ReqBody), `"include_usage":true`) {
			t.Errorf("langchaingo did not ask for include_usage: %s", ex.ReqBody)
		}
		w, g := want.Choices[0], got.Choices[0]
		if streamed.String() != w.Content || g.Content != w.Content || g.StopReason != "stop" {
			t.Errorf("streamed %q / %q (%s), non-stream %q", streamed.String(), g.Content, g.StopReason, w.Content)
		}
		for _, k := range []string{"PromptTokens", "CompletionTokens", "TotalTokens"} {
			if genInt(t, g, k) != genInt(t, w, k) {
				t.Errorf("%s: stream %d, non-stream %d", k, genInt(t, g, k), genInt(t, w, k))
			}
		}
	})

	t.Run("ToolCall", func(t *testing.T) {
		t.Parallel()
		llm := newLangchainGo(t, base, testKey, &recorder{})
		msgs := human(weatherQuestion)
		resp, err := llm.GenerateContent(ctx, msgs, llms.WithTools(langchainGoWeatherTool))
		if err != nil {
			t.Fatal(err)
		}
		c := resp.Choices[0]
		if c.StopReason != "tool_calls" || len(c.ToolCalls) != 1 {
			t.Fatalf("choice %+v", c)
		}
		call := c.ToolCalls[0]
		if !toolCallID.MatchString(call.ID) || call.FunctionCall.Name != "get_weather" || call.FunctionCall.Arguments != weatherArgs {
			t.Errorf("tool call %+v %+v", call, call.FunctionCall)
		}
		msgs = append(msgs,
			llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{call}},
			llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{llms.ToolCallResponse{
				ToolCallID: call.ID, Name: call.FunctionCall.Name, Content: weatherResult,
			}}},
		)
		resp, err = llm.GenerateContent(ctx, msgs, llms.WithTools(langchainGoWeatherTool))
		if err != nil {
			t.Fatal(err)
		}
		if c := resp.Choices[0]; c.StopReason != "stop" || c.Content != weatherAnswer || len(c.ToolCalls) != 0 {
			t.Errorf("after the tool result: %+v", c)
		}
	})

	// Quirk: DashScope repeats "type":"function" (with "id":"") on every argument delta of a
	// streamed tool call, and langchaingo appends a new tool call for every delta that has a
	// type. So one streamed call comes back as 1 + (number of argument fragments) tool calls:
	// the first with the id, the name and empty arguments, the others with no id and no name,
	// each holding one fragment. This is what the library really does against DashScope.
	t.Run("ToolCallStreamMiscount", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		llm := newLangchainGo(t, base, testKey, rec)
		msgs := human(weatherQuestion)
		resp, err := llm.GenerateContent(ctx, msgs, llms.WithTools(langchainGoWeatherTool),
			llms.WithStreamingFunc(func(context.Context, []byte) error { return nil }))
		if err != nil {
			t.Fatal(err)
		}
		// Count the tool-call deltas on the wire.
		var fragments []string
		for _, d := range checkChunks(t, rec.last(t).RespBody, true) {
			var choices []struct {
				Delta struct {
					ToolCalls []struct {
						ID       string `json:"id"`
						Type     string `json:"type"`
						Function struct {
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
			}
			json.Unmarshal(d.Choices, &choices)
			for _, c := range choices {
				for _, tc := range c.Delta.ToolCalls {
					fragments = append(fragments, tc.Function.Arguments)
				}
			}
		}
		if len(fragments) < 3 || fragments[0] != "" || strings.Join(fragments, "") != weatherArgs {
			t.Fatalf("tool-call deltas on the wire: %q", fragments)
		}
		c := resp.Choices[0]
		if c.StopReason != "tool_calls" {
			t.Errorf("stop reason %q", c.StopReason)
		}
		if len(c.ToolCalls) != len(fragments) {
			t.Fatalf("langchaingo reports %d tool calls for %d deltas of one call: %+v", len(c.ToolCalls), len(fragments), c.ToolCalls)
		}
		first := c.ToolCalls[0]
		if !toolCallID.MatchString(first.ID) || first.FunctionCall.Name != "get_weather" || first.FunctionCall.Arguments != "" {
			t.Errorf("first reported call %+v %+v", first, first.FunctionCall)
		}
		var args strings.Builder
		for i, tc := range c.ToolCalls[1:] {
			if tc.ID != "" || tc.Type != "function" || tc.FunctionCall.Name != "" || tc.FunctionCall.Arguments != fragments[i+1] {
				t.Errorf("reported call %d: %+v %+v, want the fragment %q", i+1, tc, tc.FunctionCall, fragments[i+1])
			}
			args.WriteString(tc.FunctionCall.Arguments)
		}
		// A caller that merges the fragments gets the real call back and can finish the loop.
		if args.String() != weatherArgs {
			t.Fatalf("merged arguments %q", args.String())
		}
		merged := llms.ToolCall{ID: first.ID, Type: "function", FunctionCall: &llms.FunctionCall{Name: "get_weather", Arguments: args.String()}}
		msgs = append(msgs,
			llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{merged}},
			llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{llms.ToolCallResponse{
				ToolCallID: first.ID, Name: "get_weather", Content: weatherResult,
			}}},
		)
		var streamed strings.Builder
		resp, err = llm.GenerateContent(ctx, msgs, llms.WithTools(langchainGoWeatherTool),
			llms.WithStreamingFunc(func(_ context.Context, chunk []byte) error { streamed.Write(chunk); return nil }))
		if err != nil {
			t.Fatal(err)
		}
		if c := resp.Choices[0]; c.StopReason != "stop" || c.Content != weatherAnswer || streamed.String() != weatherAnswer {
			t.Errorf("after the tool result: %+v, streamed %q", c, streamed.String())
		}
	})

	t.Run("JSONMode", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		llm := newLangchainGo(t, base, testKey, rec)
		resp, err := llm.GenerateContent(ctx, human(jsonQuestion), llms.WithJSONMode())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(rec.last(t).ReqBody), `"response_format":{"type":"json_object"}`) {
			t.Errorf("request %s", rec.last(t).ReqBody)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(resp.Choices[0].Content), &obj); err != nil {
			t.Errorf("content %q is not a JSON object: %v", resp.Choices[0].Content, err)
		}
		_, err = llm.GenerateContent(ctx, human("List three colours."), llms.WithJSONMode())
		if err == nil || !strings.Contains(err.Error(), "API returned unexpected status code: 400: 'messages' must contain the word 'json'") {
			t.Errorf("JSON mode without the word: %v", err)
		}
	})

	t.Run("Thinking", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{addFields: map[string]any{"enable_thinking": true}}
		llm := newLangchainGo(t, base, testKey, rec)
		resp, err := llm.GenerateContent(ctx, human(primeQuestion))
		if err != nil {
			t.Fatal(err)
		}
		c := resp.Choices[0]
		if c.ReasoningContent != primeReasoning || c.Content != primeAnswer {
			t.Errorf("reasoning %q, content %q", c.ReasoningContent, c.Content)
		}
		if r := genInt(t, c, "ReasoningTokens"); r == 0 || r >= genInt(t, c, "CompletionTokens") {
			t.Errorf("reasoning tokens %d of %d", r, genInt(t, c, "CompletionTokens"))
		}
		var reasoning, content strings.Builder
		resp, err = llm.GenerateContent(ctx, human(primeQuestion),
			llms.WithStreamingReasoningFunc(func(_ context.Context, r, chunk []byte) error {
				reasoning.Write(r)
				content.Write(chunk)
				return nil
			}))
		if err != nil {
			t.Fatal(err)
		}
		if reasoning.String() != primeReasoning || content.String() != primeAnswer ||
			resp.Choices[0].ReasoningContent != primeReasoning || resp.Choices[0].Content != primeAnswer {
			t.Errorf("streamed reasoning %q, content %q; returned %q, %q", reasoning.String(), content.String(),
				resp.Choices[0].ReasoningContent, resp.Choices[0].Content)
		}
	})

	t.Run("ContentParts", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		llm := newLangchainGo(t, base, testKey, rec)
		// One text part is sent as a string; two are sent as an array of parts.
		resp, err := llm.GenerateContent(ctx, []llms.MessageContent{
			llms.TextParts(llms.ChatMessageTypeHuman, "Summarise the plot of Hamlet.", " Two sentences."),
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(rec.last(t).ReqBody), `"content":[{"text":"Summarise the plot of Hamlet.","type":"text"},{"text":" Two sentences.","type":"text"}]`) {
			t.Errorf("the client did not send an array of parts: %s", rec.last(t).ReqBody)
		}
		if c := resp.Choices[0]; c.Content == "" || c.StopReason != "stop" || genInt(t, c, "PromptTokens") == 0 {
			t.Errorf("choice %+v", c)
		}
	})

	t.Run("MaxTokens", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		llm := newLangchainGo(t, base, testKey, rec)
		resp, err := llm.GenerateContent(ctx, human("Who are you?"), llms.WithMaxTokens(5))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(rec.last(t).ReqBody), `"max_completion_tokens":5`) {
			t.Errorf("request %s", rec.last(t).ReqBody)
		}
		c := resp.Choices[0]
		if c.StopReason != "length" || genInt(t, c, "CompletionTokens") != 5 {
			t.Errorf("stop %q, %d completion tokens", c.StopReason, genInt(t, c, "CompletionTokens"))
		}
		resp, err = llm.GenerateContent(ctx, human("Who are you?"), llms.WithMaxTokens(5),
			llms.WithStreamingFunc(func(context.Context, []byte) error { return nil }))
		if err != nil {
			t.Fatal(err)
		}
		if s := resp.Choices[0]; s.StopReason != "length" || genInt(t, s, "CompletionTokens") != 5 || s.Content != c.Content {
			t.Errorf("stream: stop %q, %d completion tokens, %q", s.StopReason, genInt(t, s, "CompletionTokens"), s.Content)
		}
	})
}

func TestLangchainGoContextWindow(t *testing.T) {
	t.Parallel()
	base := startMock(t, "--max-input-tokens", "100")
	rec := &recorder{}
	llm := newLangchainGo(t, base, testKey, rec)
	// langchaingo keeps only the status and error.message of an error body.
	want := "API returned unexpected status code: 400: " + contextMessage
	_, err := llm.GenerateContent(context.Background(), human(longPrompt))
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	checkErrorEnvelope(t, rec.last(t), 400, "invalid_parameter_error", contextMessage)
	// Streaming: the SSE-framed error body is not JSON, so only the status survives.
	_, err = llm.GenerateContent(context.Background(), human(longPrompt),
		llms.WithStreamingFunc(func(context.Context, []byte) error { return nil }))
	if err == nil || err.Error() != "API returned unexpected status code: 400" {
		t.Errorf("stream error %v", err)
	}
	checkErrorEnvelope(t, rec.last(t), 400, "invalid_parameter_error", contextMessage)
}

func TestLangchainGoWrongKey(t *testing.T) {
	t.Parallel()
	base := startMock(t, "--api-key", "sk-good")
	_, err := newLangchainGo(t, base, "sk-wrong", &recorder{}).GenerateContent(context.Background(), human("hi"))
	if err == nil || err.Error() != "API returned unexpected status code: 401: "+wrongKeyMessage {
		t.Fatalf("error %v", err)
	}
	// The provider's error mapper recognises DashScope's message as an authentication failure.
	var lerr *llms.Error
	if !errors.As(lcopenai.MapError(err), &lerr) || lerr.Code != llms.ErrCodeAuthentication {
		t.Errorf("MapError: %v", lcopenai.MapError(err))
	}
	if _, err := newLangchainGo(t, base, "sk-good", &recorder{}).GenerateContent(context.Background(), human("hi")); err != nil {
		t.Errorf("the right key: %v", err)
	}
}
