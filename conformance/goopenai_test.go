package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"
)

// go-openai, github.com/sashabaranov/go-openai. It has no way to add a vendor field such as
// enable_thinking to a chat request, so the thinking test adds it in the HTTP transport, as
// users of the library do with DashScope.

func newGoOpenAI(base, key string, rec *recorder) *goopenai.Client {
	cfg := goopenai.DefaultConfig(key)
	cfg.BaseURL = compatBase(base)
	cfg.HTTPClient = rec.client()
	return goopenai.NewClientWithConfig(cfg)
}

var goOpenAIWeatherTool = []goopenai.Tool{{
	Type: goopenai.ToolTypeFunction,
	Function: &goopenai.FunctionDefinition{
		Name:        "get_weather",
		Description: weatherToolDesc,
		Parameters:  weatherSchema,
	},
}}

// goOpenAIStream is what a go-openai stream adds up to.
type goOpenAIStream struct {
	content, reasoning string
	finish             goopenai.FinishReason
	usage              *goopenai.Usage
	toolCalls          []goopenai.ToolCall // merged by index
	deltas             []goopenai.ToolCall // as received
	ids                []string
	chunks             int
}

func streamGoOpenAI(t *testing.T, client *goopenai.Client, req goopenai.ChatCompletionRequest) goOpenAIStream {
	t.Helper()
	stream, err := client.CreateChatCompletionStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var out goOpenAIStream
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out.chunks++
		out.ids = append(out.ids, resp.ID)
		if resp.Usage != nil {
			if out.usage != nil {
				t.Errorf("usage on more than one chunk")
			}
			out.usage = resp.Usage
		}
		for _, c := range resp.Choices {
			out.content += c.Delta.Content
			out.reasoning += c.Delta.ReasoningContent
			if c.FinishReason != "" {
				out.finish = c.FinishReason
			}
			for _, d := range c.Delta.ToolCalls {
				out.deltas = append(out.deltas, d)
				i := 0
				if d.Index != nil {
					i = *d.Index
				}
				for len(out.toolCalls) <= i {
					out.toolCalls = append(out.toolCalls, goopenai.ToolCall{})
				}
				tc := &out.toolCalls[i]
				if d.ID != "" {
					tc.ID = d.ID
				}
				if d.Type != "" {
					tc.Type = d.Type
				}
				if d.Function.Name != "" {
					tc.Function.Name = d.Function.Name
				}
				tc.Function.Arguments += d.Function.Arguments
			}
		}
	}
	return out
}

func wantGoOpenAIError(t *testing.T, err error, status int, code, message string) {
	t.Helper()
	var apiErr *goopenai.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("want *openai.APIError, got %T %v", err, err)
	}
	gotCode, isString := apiErr.Code.(string)
	if !isString {
		t.Errorf("error code %#v is not a string", apiErr.Code)
	}
	if apiErr.HTTPStatusCode != status || gotCode != code || apiErr.Message != message {
		t.Errorf("error %d %q %q, want %d %q %q", apiErr.HTTPStatusCode, gotCode, apiErr.Message, status, code, message)
	}
}

func TestGoOpenAI(t *testing.T) {
	t.Parallel()
	base := startMock(t, "--fixtures", fixtureFile(t))
	ctx := context.Background()
	user := func(s string) []goopenai.ChatCompletionMessage {
		return []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: s}}
	}

	t.Run("NonStream", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		resp, err := newGoOpenAI(base, testKey, rec).CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{
			Model: model,
			Messages: []goopenai.ChatCompletionMessage{
				{Role: goopenai.ChatMessageRoleSystem, Content: "You are a helpful assistant."},
				{Role: goopenai.ChatMessageRoleUser, Content: "你是谁？"},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		checkJSONHeaders(t, rec.last(t))
		if resp.Usage.PromptTokens != 22 || resp.Usage.TotalTokens != resp.Usage.PromptTokens+resp.Usage.CompletionTokens {
			t.Errorf("usage %+v", resp.Usage)
		}
		if resp.Usage.PromptTokensDetails == nil {
			t.Errorf("usage has no prompt_tokens_details")
		}
		if c := resp.Choices[0]; c.FinishReason != goopenai.FinishReasonStop || c.Message.Content == "" || !strings.HasPrefix(resp.ID, "chatcmpl-") {
			t.Errorf("response %+v", resp)
		}
		// go-openai exposes the response headers, x-request-id among them.
		if resp.Header().Get("X-Request-Id") == "" || resp.ID != "chatcmpl-"+resp.Header().Get("X-Request-Id") {
			t.Errorf("id %q, x-request-id %q", resp.ID, resp.Header().Get("X-Request-Id"))
		}
	})

	t.Run("Models", func(t *testing.T) {
		t.Parallel()
		list, err := newGoOpenAI(base, testKey, &recorder{}).ListModels(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range list.Models {
			found = found || m.ID == model
		}
		if !found {
			t.Errorf("%s not in the model list %+v", model, list.Models)
		}
	})

	t.Run("StreamWithUsage", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newGoOpenAI(base, testKey, rec)
		req := goopenai.ChatCompletionRequest{Model: model, Messages: user("Tell me a short story.")}
		want, err := client.CreateChatCompletion(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		req.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}
		got := streamGoOpenAI(t, client, req)
		ex := rec.last(t)
		checkStreamHeaders(t, ex)
		checkChunks(t, ex.RespBody, true)
		if got.content != want.Choices[0].Message.Content || got.finish != goopenai.FinishReasonStop {
			t.Errorf("streamed %q (%s), non-stream %q", got.content, got.finish, want.Choices[0].Message.Content)
		}
		if got.usage == nil || got.usage.PromptTokens != want.Usage.PromptTokens ||
			got.usage.CompletionTokens != want.Usage.CompletionTokens || got.usage.TotalTokens != want.Usage.TotalTokens {
			t.Errorf("stream usage %+v, non-stream %+v", got.usage, want.Usage)
		}
		for i, id := range got.ids {
			if id != got.ids[0] {
				t.Errorf("chunk %d id %q, first %q", i, id, got.ids[0])
			}
		}
	})

	t.Run("ToolCall", func(t *testing.T) {
		t.Parallel()
		client := newGoOpenAI(base, testKey, &recorder{})
		req := goopenai.ChatCompletionRequest{Model: model, Messages: user(weatherQuestion), Tools: goOpenAIWeatherTool}
		resp, err := client.CreateChatCompletion(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		c := resp.Choices[0]
		if c.FinishReason != goopenai.FinishReasonToolCalls || len(c.Message.ToolCalls) != 1 {
			t.Fatalf("choice %+v", c)
		}
		call := c.Message.ToolCalls[0]
		if !toolCallID.MatchString(call.ID) || call.Type != goopenai.ToolTypeFunction || call.Function.Name != "get_weather" ||
			call.Function.Arguments != weatherArgs {
			t.Errorf("tool call %+v", call)
		}
		req.Messages = append(req.Messages, c.Message, goopenai.ChatCompletionMessage{
			Role: goopenai.ChatMessageRoleTool, ToolCallID: call.ID, Content: weatherResult,
		})
		resp, err = client.CreateChatCompletion(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if c := resp.Choices[0]; c.FinishReason != goopenai.FinishReasonStop || c.Message.Content != weatherAnswer {
			t.Errorf("after the tool result: %+v", c)
		}
	})

	t.Run("ToolCallStream", func(t *testing.T) {
		t.Parallel()
		client := newGoOpenAI(base, testKey, &recorder{})
		req := goopenai.ChatCompletionRequest{
			Model: model, Messages: user(weatherQuestion), Tools: goOpenAIWeatherTool,
			StreamOptions: &goopenai.StreamOptions{IncludeUsage: true},
		}
		got := streamGoOpenAI(t, client, req)
		if got.finish != goopenai.FinishReasonToolCalls || len(got.toolCalls) != 1 {
			t.Fatalf("finish %q, tool calls %+v", got.finish, got.toolCalls)
		}
		call := got.toolCalls[0]
		if !toolCallID.MatchString(call.ID) || call.Function.Name != "get_weather" || call.Function.Arguments != weatherArgs {
			t.Errorf("merged tool call %+v", call)
		}
		// The deltas as DashScope sends them: the first with id and name, the later ones with
		// "id":"" and "type":"function" repeated, carrying argument fragments.
		if len(got.deltas) < 2 || got.deltas[0].ID != call.ID || got.deltas[0].Function.Name != "get_weather" {
			t.Fatalf("deltas %+v", got.deltas)
		}
		for i, d := range got.deltas[1:] {
			if d.ID != "" || d.Type != goopenai.ToolTypeFunction || d.Function.Name != "" || d.Function.Arguments == "" {
				t.Errorf("delta %d: %+v", i+1, d)
			}
		}
		req.Messages = append(req.Messages, goopenai.ChatCompletionMessage{
			Role: goopenai.ChatMessageRoleAssistant, ToolCalls: got.toolCalls,
		}, goopenai.ChatCompletionMessage{Role: goopenai.ChatMessageRoleTool, ToolCallID: call.ID, Content: weatherResult})
		got = streamGoOpenAI(t, client, req)
		if got.finish != goopenai.FinishReasonStop || got.content != weatherAnswer {
			t.Errorf("after the tool result: %q (%s)", got.content, got.finish)
		}
	})

	t.Run("JSONMode", func(t *testing.T) {
		t.Parallel()
		client := newGoOpenAI(base, testKey, &recorder{})
		req := goopenai.ChatCompletionRequest{
			Model: model, Messages: user(jsonQuestion),
			ResponseFormat: &goopenai.ChatCompletionResponseFormat{Type: goopenai.ChatCompletionResponseFormatTypeJSONObject},
		}
		resp, err := client.CreateChatCompletion(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(resp.Choices[0].Message.Content), &obj); err != nil {
			t.Errorf("content %q is not a JSON object: %v", resp.Choices[0].Message.Content, err)
		}
		req.Messages = user("List three colours.")
		_, err = client.CreateChatCompletion(ctx, req)
		wantGoOpenAIError(t, err, 400, "invalid_parameter_error",
			"'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.")
	})

	t.Run("Thinking", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{addFields: map[string]any{"enable_thinking": true}}
		client := newGoOpenAI(base, testKey, rec)
		req := goopenai.ChatCompletionRequest{Model: model, Messages: user(primeQuestion)}
		resp, err := client.CreateChatCompletion(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		msg := resp.Choices[0].Message
		if msg.ReasoningContent != primeReasoning || msg.Content != primeAnswer {
			t.Errorf("reasoning %q, content %q", msg.ReasoningContent, msg.Content)
		}
		if d := resp.Usage.CompletionTokensDetails; d == nil || d.ReasoningTokens == 0 || d.ReasoningTokens >= resp.Usage.CompletionTokens {
			t.Errorf("usage %+v, details %+v", resp.Usage, d)
		}
		got := streamGoOpenAI(t, client, req)
		if got.reasoning != primeReasoning || got.content != primeAnswer {
			t.Errorf("streamed reasoning %q, content %q", got.reasoning, got.content)
		}
	})

	t.Run("ContentParts", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newGoOpenAI(base, testKey, rec)
		text := "Summarise the plot of Hamlet."
		asString, err := client.CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{Model: model, Messages: user(text)})
		if err != nil {
			t.Fatal(err)
		}
		asParts, err := client.CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{
			Model: model,
			Messages: []goopenai.ChatCompletionMessage{{
				Role:         goopenai.ChatMessageRoleUser,
				MultiContent: []goopenai.ChatMessagePart{{Type: goopenai.ChatMessagePartTypeText, Text: text}},
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(rec.last(t).ReqBody), `"content":[{"type":"text","text":"Summarise`) {
			t.Errorf("the client did not send an array of parts: %s", rec.last(t).ReqBody)
		}
		if asParts.Usage.PromptTokens != asString.Usage.PromptTokens || asParts.Choices[0].Message.Content != asString.Choices[0].Message.Content {
			t.Errorf("parts and string answers differ: %+v / %+v", asParts.Usage, asString.Usage)
		}
	})

	t.Run("MaxTokens", func(t *testing.T) {
		t.Parallel()
		client := newGoOpenAI(base, testKey, &recorder{})
		req := goopenai.ChatCompletionRequest{Model: model, Messages: user("Who are you?"), MaxTokens: 5}
		resp, err := client.CreateChatCompletion(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Choices[0].FinishReason != goopenai.FinishReasonLength || resp.Usage.CompletionTokens != 5 {
			t.Errorf("finish %q, %d completion tokens", resp.Choices[0].FinishReason, resp.Usage.CompletionTokens)
		}
		req.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}
		got := streamGoOpenAI(t, client, req)
		if got.finish != goopenai.FinishReasonLength || got.usage == nil || got.usage.CompletionTokens != 5 ||
			got.content != resp.Choices[0].Message.Content {
			t.Errorf("stream: finish %q, usage %+v, %q", got.finish, got.usage, got.content)
		}
	})
}

func TestGoOpenAIContextWindow(t *testing.T) {
	t.Parallel()
	base := startMock(t, "--max-input-tokens", "100")
	rec := &recorder{}
	client := newGoOpenAI(base, testKey, rec)
	req := goopenai.ChatCompletionRequest{
		Model:    model,
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: longPrompt}},
	}
	_, err := client.CreateChatCompletion(context.Background(), req)
	wantGoOpenAIError(t, err, 400, "invalid_parameter_error", contextMessage)
	checkErrorEnvelope(t, rec.last(t), 400, "invalid_parameter_error", contextMessage)

	// A rejected stream gets the error status and the envelope as one "data: " SSE line, as
	// DashScope sends it. go-openai decodes error bodies as plain JSON, so it reports a
	// RequestError holding the status and the raw body rather than an APIError: real behaviour.
	_, err = client.CreateChatCompletionStream(context.Background(), req)
	var reqErr *goopenai.RequestError
	if !errors.As(err, &reqErr) {
		t.Fatalf("stream: want *openai.RequestError, got %T %v", err, err)
	}
	if reqErr.HTTPStatusCode != 400 || !strings.Contains(string(reqErr.Body), contextMessage) {
		t.Errorf("stream error %d %q", reqErr.HTTPStatusCode, reqErr.Body)
	}
	checkErrorEnvelope(t, rec.last(t), 400, "invalid_parameter_error", contextMessage)
}

func TestGoOpenAIWrongKey(t *testing.T) {
	t.Parallel()
	base := startMock(t, "--api-key", "sk-good")
	req := goopenai.ChatCompletionRequest{
		Model:    model,
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "hi"}},
	}
	_, err := newGoOpenAI(base, "sk-wrong", &recorder{}).CreateChatCompletion(context.Background(), req)
	wantGoOpenAIError(t, err, 401, "invalid_api_key", wrongKeyMessage)
	if _, err := newGoOpenAI(base, "sk-good", &recorder{}).CreateChatCompletion(context.Background(), req); err != nil {
		t.Errorf("the right key: %v", err)
	}
}
