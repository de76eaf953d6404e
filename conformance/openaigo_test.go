package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// The official OpenAI Go SDK, github.com/openai/openai-go/v3.

var toolCallID = regexp.MustCompile(`^call_[0-9a-f]{24}$`)

func newOpenAIGo(base, key string, rec *recorder, opts ...option.RequestOption) openai.Client {
	all := []option.RequestOption{
		option.WithBaseURL(compatBase(base) + "/"),
		option.WithAPIKey(key),
		option.WithMaxRetries(0),
		option.WithHTTPClient(rec.client()),
	}
	return openai.NewClient(append(all, opts...)...)
}

func openAIGoWeatherTool() []openai.ChatCompletionToolUnionParam {
	return []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
		Name:        "get_weather",
		Description: openai.String(weatherToolDesc),
		Parameters:  openai.FunctionParameters(weatherSchema),
	})}
}

// rawString decodes a JSON string field kept raw by the SDK (vendor fields such as
// reasoning_content are only reachable this way).
func rawString(t testing.TB, raw string) string {
	t.Helper()
	if raw == "" || raw == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatalf("%s is not a JSON string: %v", raw, err)
	}
	return s
}

func TestOpenAIGo(t *testing.T) {
	t.Parallel()
	base := startMock(t, "--fixtures", fixtureFile(t))
	ctx := context.Background()

	t.Run("NonStream", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newOpenAIGo(base, testKey, rec)
		resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: model,
			Messages: []openai.ChatCompletionMessageParamUnion{
				openai.SystemMessage("You are a helpful assistant."),
				openai.UserMessage("你是谁？"),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		checkJSONHeaders(t, rec.last(t))
		if resp.Usage.PromptTokens != 22 || resp.Usage.CompletionTokens == 0 ||
			resp.Usage.TotalTokens != resp.Usage.PromptTokens+resp.Usage.CompletionTokens {
			t.Errorf("usage %+v, want 22 prompt tokens (DashScope's own figure) and a consistent total", resp.Usage)
		}
		if !strings.HasPrefix(resp.ID, "chatcmpl-") || resp.Model != model || resp.Object != "chat.completion" {
			t.Errorf("id %q model %q object %q", resp.ID, resp.Model, resp.Object)
		}
		if c := resp.Choices[0]; c.FinishReason != "stop" || c.Message.Content == "" || c.Message.Role != "assistant" {
			t.Errorf("choice %+v", c)
		}
	})

	t.Run("Models", func(t *testing.T) {
		t.Parallel()
		client := newOpenAIGo(base, testKey, &recorder{})
		page, err := client.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range page.Data {
			found = found || m.ID == model
			if m.Object != "model" || m.OwnedBy == "" || m.Created == 0 {
				t.Errorf("model %+v", m)
			}
		}
		if !found {
			t.Errorf("%s not in the model list %+v", model, page.Data)
		}
	})

	t.Run("StreamWithUsage", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newOpenAIGo(base, testKey, rec)
		params := openai.ChatCompletionNewParams{
			Model:    model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell me a short story.")},
		}
		want, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		stream := client.Chat.Completions.NewStreaming(ctx, params)
		var acc openai.ChatCompletionAccumulator
		var chunks []openai.ChatCompletionChunk
		for stream.Next() {
			chunk := stream.Current()
			// Quirk: the accumulator rejects a chunk whose id differs from the first one.
			if !acc.AddChunk(chunk) {
				t.Fatalf("accumulator rejected chunk %d (id %q, first id %q)", len(chunks), chunk.ID, acc.ID)
			}
			chunks = append(chunks, chunk)
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		ex := rec.last(t)
		checkStreamHeaders(t, ex)
		checkChunks(t, ex.RespBody, true)
		if len(chunks) < 4 {
			t.Fatalf("%d chunks", len(chunks))
		}
		for i, c := range chunks {
			if c.ID != acc.ID {
				t.Errorf("chunk %d id %q, accumulated id %q", i, c.ID, acc.ID)
			}
		}
		// Quirk: the usage chunk carries "choices":[] (an empty array, not null or absent).
		usageChunk := chunks[len(chunks)-1]
		if len(usageChunk.Choices) != 0 || usageChunk.JSON.Choices.Raw() != "[]" || usageChunk.Usage.TotalTokens == 0 {
			t.Errorf("usage chunk: choices %s, usage %+v", usageChunk.JSON.Choices.Raw(), usageChunk.Usage)
		}
		// Quirk: the accumulator adds usage up over all chunks, so only the usage chunk may
		// carry it; the sum must equal the non-stream usage.
		if acc.Usage.PromptTokens != want.Usage.PromptTokens || acc.Usage.CompletionTokens != want.Usage.CompletionTokens ||
			acc.Usage.TotalTokens != want.Usage.TotalTokens {
			t.Errorf("accumulated usage %+v, non-stream %+v", acc.Usage, want.Usage)
		}
		if got := acc.Choices[0].Message.Content; got != want.Choices[0].Message.Content {
			t.Errorf("streamed %q, non-stream %q", got, want.Choices[0].Message.Content)
		}
		if acc.Choices[0].FinishReason != "stop" {
			t.Errorf("finish_reason %q", acc.Choices[0].FinishReason)
		}
	})

	t.Run("ToolCall", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newOpenAIGo(base, testKey, rec)
		params := openai.ChatCompletionNewParams{
			Model:    model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(weatherQuestion)},
			Tools:    openAIGoWeatherTool(),
		}
		resp, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		c := resp.Choices[0]
		if c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 || c.Message.Content != "" {
			t.Fatalf("choice %+v", c)
		}
		call := c.Message.ToolCalls[0]
		if !toolCallID.MatchString(call.ID) || call.Type != "function" || call.Function.Name != "get_weather" ||
			call.Function.Arguments != weatherArgs {
			t.Errorf("tool call %+v", call)
		}
		params.Messages = append(params.Messages, c.Message.ToParam(), openai.ToolMessage(weatherResult, call.ID))
		resp, err = client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if c := resp.Choices[0]; c.FinishReason != "stop" || c.Message.Content != weatherAnswer || len(c.Message.ToolCalls) != 0 {
			t.Errorf("after the tool result: %+v", c)
		}
	})

	t.Run("ToolCallStream", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newOpenAIGo(base, testKey, rec)
		params := openai.ChatCompletionNewParams{
			Model:         model,
			Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage(weatherQuestion)},
			Tools:         openAIGoWeatherTool(),
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		}
		acc := streamOpenAIGo(t, client, params)
		checkChunks(t, rec.last(t).RespBody, true)
		c := acc.Choices[0]
		if c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 {
			t.Fatalf("accumulated choice %+v", c)
		}
		call := c.Message.ToolCalls[0]
		if !toolCallID.MatchString(call.ID) || call.Function.Name != "get_weather" || call.Function.Arguments != weatherArgs {
			t.Errorf("accumulated tool call %+v", call)
		}
		params.Messages = append(params.Messages, c.Message.ToParam(), openai.ToolMessage(weatherResult, call.ID))
		acc = streamOpenAIGo(t, client, params)
		if c := acc.Choices[0]; c.FinishReason != "stop" || c.Message.Content != weatherAnswer {
			t.Errorf("after the tool result: %+v", c)
		}
	})

	t.Run("JSONMode", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newOpenAIGo(base, testKey, rec)
		params := openai.ChatCompletionNewParams{
			Model:    model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(jsonQuestion)},
			ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{
				OfJSONObject: &openai.ResponseFormatJSONObjectParam{},
			},
		}
		resp, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(resp.Choices[0].Message.Content), &obj); err != nil {
			t.Errorf("content %q is not a JSON object: %v", resp.Choices[0].Message.Content, err)
		}
		params.Messages = []openai.ChatCompletionMessageParamUnion{openai.UserMessage("List three colours.")}
		_, err = client.Chat.Completions.New(ctx, params)
		wantAPIError(t, err, 400, "invalid_parameter_error",
			"'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.")
	})

	t.Run("Thinking", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newOpenAIGo(base, testKey, rec, option.WithJSONSet("enable_thinking", true))
		params := openai.ChatCompletionNewParams{
			Model:    model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(primeQuestion)},
		}
		resp, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		msg := resp.Choices[0].Message
		if got := rawString(t, msg.JSON.ExtraFields["reasoning_content"].Raw()); got != primeReasoning {
			t.Errorf("reasoning_content %q, want %q", got, primeReasoning)
		}
		if msg.Content != primeAnswer {
			t.Errorf("content %q", msg.Content)
		}
		u := resp.Usage
		if r := u.CompletionTokensDetails.ReasoningTokens; r == 0 || r >= u.CompletionTokens {
			t.Errorf("usage %+v: reasoning tokens must be counted in completion_tokens", u)
		}

		params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		stream := client.Chat.Completions.NewStreaming(ctx, params)
		var acc openai.ChatCompletionAccumulator
		var reasoning strings.Builder
		for stream.Next() {
			chunk := stream.Current()
			if !acc.AddChunk(chunk) {
				t.Fatal("accumulator rejected a chunk")
			}
			if len(chunk.Choices) > 0 {
				reasoning.WriteString(rawString(t, chunk.Choices[0].Delta.JSON.ExtraFields["reasoning_content"].Raw()))
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if reasoning.String() != primeReasoning || acc.Choices[0].Message.Content != primeAnswer {
			t.Errorf("streamed reasoning %q, content %q", reasoning.String(), acc.Choices[0].Message.Content)
		}
		if acc.Usage.CompletionTokensDetails.ReasoningTokens != u.CompletionTokensDetails.ReasoningTokens ||
			acc.Usage.CompletionTokens != u.CompletionTokens {
			t.Errorf("stream usage %+v, non-stream %+v", acc.Usage, u)
		}
	})

	t.Run("ContentParts", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newOpenAIGo(base, testKey, rec)
		text := "Summarise the plot of Hamlet."
		asString, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text)},
		})
		if err != nil {
			t.Fatal(err)
		}
		asParts, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: model,
			Messages: []openai.ChatCompletionMessageParamUnion{
				openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{openai.TextContentPart(text)}),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(rec.last(t).ReqBody), `"content":[{"text":"Summarise`) &&
			!strings.Contains(string(rec.last(t).ReqBody), `"content":[{"type":"text"`) {
			t.Errorf("the client did not send an array of parts: %s", rec.last(t).ReqBody)
		}
		if asParts.Usage.PromptTokens != asString.Usage.PromptTokens ||
			asParts.Choices[0].Message.Content != asString.Choices[0].Message.Content {
			t.Errorf("parts: %d prompt tokens %q; string: %d %q", asParts.Usage.PromptTokens,
				asParts.Choices[0].Message.Content, asString.Usage.PromptTokens, asString.Choices[0].Message.Content)
		}
	})

	t.Run("MaxTokens", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newOpenAIGo(base, testKey, rec)
		params := openai.ChatCompletionNewParams{
			Model:     model,
			Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Who are you?")},
			MaxTokens: openai.Int(5),
		}
		resp, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Choices[0].FinishReason != "length" || resp.Usage.CompletionTokens != 5 {
			t.Errorf("max_tokens 5: finish %q, %d completion tokens", resp.Choices[0].FinishReason, resp.Usage.CompletionTokens)
		}
		params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		acc := streamOpenAIGo(t, client, params)
		if acc.Choices[0].FinishReason != "length" || acc.Usage.CompletionTokens != 5 ||
			acc.Choices[0].Message.Content != resp.Choices[0].Message.Content {
			t.Errorf("stream, max_tokens 5: finish %q, %d completion tokens, %q", acc.Choices[0].FinishReason,
				acc.Usage.CompletionTokens, acc.Choices[0].Message.Content)
		}
	})
}

// streamOpenAIGo streams one request and returns the accumulated completion.
func streamOpenAIGo(t *testing.T, client openai.Client, params openai.ChatCompletionNewParams) openai.ChatCompletionAccumulator {
	t.Helper()
	stream := client.Chat.Completions.NewStreaming(context.Background(), params)
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		if !acc.AddChunk(stream.Current()) {
			t.Fatal("accumulator rejected a chunk")
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Choices) == 0 {
		t.Fatal("no choices accumulated")
	}
	return acc
}

func wantAPIError(t *testing.T, err error, status int, code, message string) {
	t.Helper()
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want *openai.Error, got %v", err)
	}
	if apiErr.StatusCode != status || apiErr.Code != code || apiErr.Message != message {
		t.Errorf("error %d %q %q, want %d %q %q", apiErr.StatusCode, apiErr.Code, apiErr.Message, status, code, message)
	}
}

func TestOpenAIGoContextWindow(t *testing.T) {
	t.Parallel()
	base := startMock(t, "--max-input-tokens", "100")
	rec := &recorder{}
	client := newOpenAIGo(base, testKey, rec)
	params := openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(longPrompt)},
	}
	_, err := client.Chat.Completions.New(context.Background(), params)
	wantAPIError(t, err, 400, "invalid_parameter_error", contextMessage)
	checkErrorEnvelope(t, rec.last(t), 400, "invalid_parameter_error", contextMessage)
	checkJSONHeaders(t, rec.last(t))

	// A rejected stream answers with the error status and the envelope as one SSE event, as
	// DashScope does; openai-go reads the envelope from it.
	stream := client.Chat.Completions.NewStreaming(context.Background(), params)
	for stream.Next() {
		t.Error("a chunk arrived from a rejected stream")
	}
	ex := rec.last(t)
	checkErrorEnvelope(t, ex, 400, "invalid_parameter_error", contextMessage)
	var apiErr *openai.Error
	if !errors.As(stream.Err(), &apiErr) || apiErr.StatusCode != 400 {
		t.Fatalf("stream error %v", stream.Err())
	}
	if apiErr.Code != "invalid_parameter_error" || apiErr.Message != contextMessage {
		t.Errorf("stream error: code %q, message %q, raw %q", apiErr.Code, apiErr.Message, apiErr.RawJSON())
	}
}

func TestOpenAIGoWrongKey(t *testing.T) {
	t.Parallel()
	base := startMock(t, "--api-key", "sk-good")
	rec := &recorder{}
	wrong := newOpenAIGo(base, "sk-wrong", rec)
	_, err := wrong.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	wantAPIError(t, err, 401, "invalid_api_key", wrongKeyMessage)
	checkErrorEnvelope(t, rec.last(t), 401, "invalid_api_key", wrongKeyMessage)
	checkJSONHeaders(t, rec.last(t))
	good := newOpenAIGo(base, "sk-good", rec)
	if _, err := good.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	}); err != nil {
		t.Errorf("the right key: %v", err)
	}
}
