package myapp_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/qwenmock/qwenmock/mockserver"
)

func TestRateLimitWithoutWaiting(t *testing.T) {
	ts := mockserver.NewTestServer(t, mockserver.WithModelLimits("qwen3-max", mockserver.RateLimits{RPM: 1}))
	client := openai.NewClient(
		option.WithBaseURL(ts.OpenAIBaseURL()+"/"),
		option.WithAPIKey("sk-test"),
		option.WithMaxRetries(0), // see the 429 itself
	)
	ask := func() error {
		_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model:     "qwen3-max",
			Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
			MaxTokens: openai.Int(10),
		})
		return err
	}

	if err := ask(); err != nil {
		t.Fatal(err)
	}
	var apiErr *openai.Error
	if err := ask(); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests || apiErr.Code != "limit_requests" {
		t.Fatalf("second request: %v, want a 429 limit_requests", err)
	}
	ts.Advance(time.Minute) // the server's clock, not the test's: no sleeping
	if err := ask(); err != nil {
		t.Fatalf("after a minute: %v", err)
	}
	ts.ExpectRequests(t, 1, mockserver.StatusIs(http.StatusTooManyRequests))
}
