package mockserver_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/qwenmock/qwenmock/mockserver"
)

// These tests drive the server with the official OpenAI Go SDK, as a user's code would.

func newOpenAI(ts *mockserver.TestServer, opts ...option.RequestOption) openai.Client {
	base := []option.RequestOption{
		option.WithBaseURL(ts.OpenAIBaseURL() + "/"),
		option.WithAPIKey("sk-test"),
		option.WithMaxRetries(0),
	}
	return openai.NewClient(append(base, opts...)...)
}

func TestOpenAIGoNonStream(t *testing.T) {
	t.Parallel()
	ts := mockserver.NewTestServer(t)
	client := newOpenAI(ts)
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "qwen3-max",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("You are a helpful assistant."),
			openai.UserMessage("你是谁？"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage.PromptTokens != 22 || resp.Usage.CompletionTokens == 0 ||
		resp.Usage.TotalTokens != resp.Usage.PromptTokens+resp.Usage.CompletionTokens {
		t.Errorf("usage %+v", resp.Usage)
	}
	if !strings.HasPrefix(resp.ID, "chatcmpl-") || resp.Choices[0].FinishReason != "stop" || resp.Choices[0].Message.Content == "" {
		t.Errorf("response %+v", resp)
	}
}

func TestOpenAIGoStreamWithUsage(t *testing.T) {
	t.Parallel()
	ts := mockserver.NewTestServer(t)
	client := newOpenAI(ts)
	params := openai.ChatCompletionNewParams{
		Model:         "qwen3-max",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell me a story.")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	stream := client.Chat.Completions.NewStreaming(context.Background(), params)
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		if !acc.AddChunk(stream.Current()) {
			t.Fatalf("accumulator rejected chunk %d", chunks)
		}
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{}
	want, err := client.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if chunks < 4 || acc.Choices[0].Message.Content != want.Choices[0].Message.Content {
		t.Errorf("%d chunks; streamed %q, non-stream %q", chunks, acc.Choices[0].Message.Content, want.Choices[0].Message.Content)
	}
	if acc.Usage.PromptTokens != want.Usage.PromptTokens || acc.Usage.CompletionTokens != want.Usage.CompletionTokens {
		t.Errorf("stream usage %+v, non-stream %+v", acc.Usage, want.Usage)
	}
}

func TestOpenAIGoMaxTokensAndContext(t *testing.T) {
	t.Parallel()
	ts := mockserver.NewTestServer(t, mockserver.WithMaxInputTokens(100))
	client := newOpenAI(ts)
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:     "qwen3-max",
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		MaxTokens: openai.Int(5),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage.CompletionTokens != 5 || resp.Choices[0].FinishReason != "length" {
		t.Errorf("max_tokens 5: %d tokens, finish %q", resp.Usage.CompletionTokens, resp.Choices[0].FinishReason)
	}

	_, err = client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "qwen3-max",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(strings.Repeat("word ", 200))},
	})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want *openai.Error, got %v", err)
	}
	if apiErr.StatusCode != 400 || apiErr.Code != "invalid_parameter_error" ||
		apiErr.Message != "<400> InternalError.Algo.InvalidParameter: Range of input length should be [1, 100]" {
		t.Errorf("error %d %q %q", apiErr.StatusCode, apiErr.Code, apiErr.Message)
	}
}

// TestOpenAIGoToolLoop runs an agent loop: the model calls a tool, the client sends the
// result, the model answers.
func TestOpenAIGoToolLoop(t *testing.T) {
	t.Parallel()
	content := "It is sunny in Hangzhou."
	ts := mockserver.NewTestServer(t, mockserver.WithFixtures(mockserver.Fixture{
		Name:  "weather",
		Match: mockserver.FixtureMatch{Contains: "weather"},
		Replies: []mockserver.FixtureReply{
			{ToolCalls: []mockserver.FixtureToolCall{{Name: "get_weather", Arguments: `{"city":"Hangzhou"}`}}},
			{Content: &content},
		},
	}))
	client := newOpenAI(ts)
	params := openai.ChatCompletionNewParams{
		Model:    "qwen3-max",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What's the weather?")},
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
			Name:       "get_weather",
			Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
		})},
	}
	for turn := 0; turn < 4; turn++ {
		resp, err := client.Chat.Completions.New(context.Background(), params)
		if err != nil {
			t.Fatal(err)
		}
		msg := resp.Choices[0].Message
		if len(msg.ToolCalls) == 0 {
			if turn != 1 || msg.Content != content || resp.Choices[0].FinishReason != "stop" {
				t.Fatalf("turn %d: %+v", turn, resp.Choices[0])
			}
			return
		}
		if msg.ToolCalls[0].Function.Arguments != `{"city": "Hangzhou"}` || resp.Choices[0].FinishReason != "tool_calls" {
			t.Fatalf("tool call %+v", msg.ToolCalls[0])
		}
		params.Messages = append(params.Messages, msg.ToParam(), openai.ToolMessage("sunny", msg.ToolCalls[0].ID))
	}
	t.Fatal("the loop did not end")
}
