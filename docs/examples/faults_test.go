package myapp_test

import (
	"context"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/qwenmock/qwenmock/mockserver"
)

func TestClientSeesADroppedStream(t *testing.T) {
	ts := mockserver.NewTestServer(t)
	// The next request's stream is cut after three events: no error frame, no [DONE].
	if err := ts.QueueFault(mockserver.Fault{Kind: mockserver.FaultStreamDrop, AfterChunks: 3}); err != nil {
		t.Fatal(err)
	}
	client := openai.NewClient(option.WithBaseURL(ts.OpenAIBaseURL()+"/"), option.WithAPIKey("sk-test"))

	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:    "qwen3-max",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell me a story.")},
	})
	chunks := 0
	for stream.Next() {
		chunks++
	}
	if stream.Err() == nil {
		t.Errorf("the stream ended after %d chunks with no error: a cut would pass for a short answer", chunks)
	}
	ts.ExpectRequests(t, 1, func(r mockserver.RequestRecord) bool { return r.Fault == mockserver.FaultStreamDrop })
}
