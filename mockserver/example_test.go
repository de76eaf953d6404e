package mockserver_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/qwenmock/qwenmock/mockserver"
)

// A 429 from the requests-per-minute limit, and the client's own retry: with
// WithRateLimitHeaders the 429 carries retry-after-ms, which openai-go waits before retrying.
// Moving the clock puts the end of the window 200 ms away, so the test takes 200 ms, not a
// minute.
func Example_rateLimitRetry() {
	srv, _ := mockserver.New(
		mockserver.WithModelLimits("qwen3-max", mockserver.RateLimits{RPM: 1}),
		mockserver.WithRateLimitHeaders(),
	)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	client := openai.NewClient(option.WithBaseURL(hs.URL+"/compatible-mode/v1/"), option.WithAPIKey("sk-test"))
	ask := func() error {
		_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model:     "qwen3-max",
			Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
			MaxTokens: openai.Int(10),
		})
		return err
	}

	fmt.Println("first:", ask())
	srv.Advance(59*time.Second + 800*time.Millisecond)
	fmt.Println("second:", ask()) // 429, then openai-go's retry passes
	for _, r := range srv.Requests() {
		fmt.Println(strings.TrimSpace(fmt.Sprint(r.Status, " ", r.ErrorCode)))
	}
	// Output:
	// first: <nil>
	// second: <nil>
	// 200
	// 429 limit_requests
	// 200
}

// A prompt over the model's max input gets the real 400; WithMaxInputTokens makes it easy
// to provoke.
func Example_contextWindow() {
	srv, _ := mockserver.New(mockserver.WithMaxInputTokens(100))
	hs := httptest.NewServer(srv)
	defer hs.Close()
	client := openai.NewClient(option.WithBaseURL(hs.URL+"/compatible-mode/v1/"), option.WithAPIKey("sk-test"))

	_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "qwen3-max",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(strings.Repeat("word ", 200))},
	})
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code)
		fmt.Println(apiErr.Message)
	}
	// Output:
	// 400 invalid_parameter_error
	// <400> InternalError.Algo.InvalidParameter: Range of input length should be [1, 100]
}

// An agent loop: a fixture answers the first turn with a tool call and, once the tool result
// is sent back, with the final answer.
func Example_toolCallLoop() {
	answer := "It is sunny in Hangzhou, 24 °C."
	srv, _ := mockserver.New(mockserver.WithFixtures(mockserver.Fixture{
		Name:  "weather",
		Match: mockserver.FixtureMatch{Contains: "weather"},
		Replies: []mockserver.FixtureReply{
			{ToolCalls: []mockserver.FixtureToolCall{{Name: "get_weather", Arguments: `{"city": "Hangzhou"}`}}},
			{Content: &answer},
		},
	}))
	hs := httptest.NewServer(srv)
	defer hs.Close()
	client := openai.NewClient(option.WithBaseURL(hs.URL+"/compatible-mode/v1/"), option.WithAPIKey("sk-test"))

	params := openai.ChatCompletionNewParams{
		Model:    "qwen3-max",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What's the weather in Hangzhou?")},
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
			Name:       "get_weather",
			Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
		})},
	}
	for {
		resp, err := client.Chat.Completions.New(context.Background(), params)
		if err != nil {
			fmt.Println(err)
			return
		}
		msg := resp.Choices[0].Message
		if len(msg.ToolCalls) == 0 {
			fmt.Println("answer:", msg.Content)
			return
		}
		call := msg.ToolCalls[0]
		fmt.Println("tool call:", call.Function.Name, call.Function.Arguments)
		params.Messages = append(params.Messages, msg.ToParam(), openai.ToolMessage(`{"sky": "sunny", "celsius": 24}`, call.ID))
	}
	// Output:
	// tool call: get_weather {"city": "Hangzhou"}
	// answer: It is sunny in Hangzhou, 24 °C.
}
