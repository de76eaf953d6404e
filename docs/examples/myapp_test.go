package myapp_test

import (
	"context"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/qwenmock/qwenmock/mockserver"
)

func TestMyCode(t *testing.T) {
	// A server on a free loopback port, closed when the test ends.
	ts := mockserver.NewTestServer(t)
	client := openai.NewClient(option.WithBaseURL(ts.OpenAIBaseURL()+"/"), option.WithAPIKey("sk-test"))

	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:     "qwen3-max",
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		MaxTokens: openai.Int(5),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage.CompletionTokens != 5 || resp.Choices[0].FinishReason != "length" {
		t.Errorf("got %d tokens, finish %q; want 5, length", resp.Usage.CompletionTokens, resp.Choices[0].FinishReason)
	}
	ts.ExpectRequests(t, 1, mockserver.ModelIs("qwen3-max"))
}
