package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	goopenai "github.com/sashabaranov/go-openai"
	"github.com/tmc/langchaingo/llms"
	lcopenai "github.com/tmc/langchaingo/llms/openai"
)

// Rate limits as the clients meet them (clients.md, "How they retry"). DashScope's 429s carry
// no Retry-After: openai-go retries twice with its own backoff and then surfaces the 429;
// go-openai and langchaingo never retry. With --rate-limit-headers the mock adds
// Retry-After/retry-after-ms, and openai-go's own retry gets through once the window passes.
// The window is skipped with the control API's clock instead of sleeping: after the first
// request the clock moves 59 s forward, so the 429 asks the client to wait about one second.

const (
	rpmMessage = "You have exceeded your current request limit. For details, see: https://www.alibabacloud.com/help/en/model-studio/error-code#rate-limit"
	tpmMessage = "You exceeded your current quota, please check your plan and billing details. For details, see: https://www.alibabacloud.com/help/en/model-studio/error-code#token-limit"
	// tpmLimit admits one "hi" request cut at 5 tokens (9 prompt + 5 output = 14 tokens, the
	// estimate and the use) and refuses a second one in the same minute.
	tpmLimit = "20"
)

func advanceClock(t *testing.T, base string, seconds float64) {
	t.Helper()
	resp, body, err := postJSON(context.Background(), base+"/_mock/clock/advance", "", map[string]any{"seconds": seconds})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("advance the clock: %v %s", err, body)
	}
}

// prematureRetries reads how often clients came back before their Retry-After, from
// GET /_mock/limits.
func prematureRetries(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/_mock/limits")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Scopes []struct {
			PrematureRetries int `json:"premature_retries"`
		} `json:"scopes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range body.Scopes {
		n += s.PrematureRetries
	}
	return n
}

// chatAttempts returns the chat-completion requests a recorder saw.
func chatAttempts(rec *recorder) []*exchange {
	var out []*exchange
	for _, ex := range rec.all() {
		if strings.HasSuffix(strings.SplitN(ex.URL, "?", 2)[0], "/chat/completions") {
			out = append(out, ex)
		}
	}
	return out
}

// checkNoRateLimitHeaders checks that a 429 carries none of the headers DashScope never sends.
func checkNoRateLimitHeaders(t *testing.T, ex *exchange) {
	t.Helper()
	for name := range ex.Header {
		l := strings.ToLower(name)
		if l == "retry-after" || l == "retry-after-ms" || strings.HasPrefix(l, "x-ratelimit-") {
			t.Errorf("429 without --rate-limit-headers carries %s: %s", name, ex.Header.Get(name))
		}
	}
}

// checkStatuses checks the statuses of the attempts a client made for one call.
func checkStatuses(t *testing.T, attempts []*exchange, want ...int) {
	t.Helper()
	got := make([]int, len(attempts))
	for i, ex := range attempts {
		got[i] = ex.Status
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("HTTP attempts %v, want %v", got, want)
	}
}

func hiOpenAIGo() openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}, MaxTokens: openai.Int(5),
	}
}

func hiGoOpenAI() goopenai.ChatCompletionRequest {
	return goopenai.ChatCompletionRequest{
		Model: model, Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "hi"}}, MaxTokens: 5,
	}
}

// TestRateLimit429 checks the RPM and TPM 429s without headers, as DashScope sends them: each
// client and limit gets its own API key, hence its own (account, model) window.
func TestRateLimit429(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, flag, value, code, message string
	}{
		{"RPM", "--rpm", "1", "limit_requests", rpmMessage},
		{"TPM", "--tpm", tpmLimit, "insufficient_quota", tpmMessage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := startMock(t, tc.flag, tc.value)
			ctx := context.Background()

			t.Run("openai-go", func(t *testing.T) {
				t.Parallel()
				rec := &recorder{}
				// The client's default: two retries with 0.5 s·2ⁿ backoff.
				client := newOpenAIGo(base, "sk-openai-go", rec, option.WithMaxRetries(2))
				if _, err := client.Chat.Completions.New(ctx, hiOpenAIGo()); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				_, err := client.Chat.Completions.New(ctx, hiOpenAIGo())
				wantAPIError(t, err, 429, tc.code, tc.message)
				attempts := chatAttempts(rec)[1:]
				checkStatuses(t, attempts, 429, 429, 429)
				for _, ex := range attempts {
					checkNoRateLimitHeaders(t, ex)
				}
				// openai-go reads the body of the last attempt only.
				if len(attempts) > 0 {
					checkErrorEnvelope(t, attempts[len(attempts)-1], 429, tc.code, tc.message)
				}
				// Backoff without Retry-After: 0.5 s then 1 s, each less up to a quarter of jitter.
				if d := time.Since(start); d < 1100*time.Millisecond {
					t.Errorf("three attempts in %v: the client did not back off", d)
				}
			})

			t.Run("go-openai", func(t *testing.T) {
				t.Parallel()
				rec := &recorder{}
				client := newGoOpenAI(base, "sk-go-openai", rec)
				if _, err := client.CreateChatCompletion(ctx, hiGoOpenAI()); err != nil {
					t.Fatal(err)
				}
				_, err := client.CreateChatCompletion(ctx, hiGoOpenAI())
				wantGoOpenAIError(t, err, 429, tc.code, tc.message)
				checkStatuses(t, chatAttempts(rec)[1:], 429)
			})

			t.Run("langchaingo", func(t *testing.T) {
				t.Parallel()
				rec := &recorder{}
				llm := newLangchainGo(t, base, "sk-langchaingo", rec)
				if _, err := llm.GenerateContent(ctx, human("hi"), llms.WithMaxTokens(5)); err != nil {
					t.Fatal(err)
				}
				_, err := llm.GenerateContent(ctx, human("hi"), llms.WithMaxTokens(5))
				if err == nil || err.Error() != "API returned unexpected status code: 429: "+tc.message {
					t.Fatalf("error %v", err)
				}
				checkStatuses(t, chatAttempts(rec)[1:], 429)
				// The provider's mapper files both 429s (RPM and TPM) under rate limiting.
				var lerr *llms.Error
				if !errors.As(lcopenai.MapError(err), &lerr) || lerr.Code != llms.ErrCodeRateLimit {
					t.Errorf("MapError: %v", lcopenai.MapError(err))
				}
			})
		})
	}
}

// TestRateLimitHeaders: with --rate-limit-headers the 429 says when to come back; openai-go
// waits that long and its retry succeeds; go-openai and langchaingo still surface the 429.
func TestRateLimitHeaders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("openai-go", func(t *testing.T) {
		t.Parallel()
		base := startMock(t, "--rpm", "1", "--rate-limit-headers")
		rec := &recorder{}
		client := newOpenAIGo(base, testKey, rec, option.WithMaxRetries(2))
		if _, err := client.Chat.Completions.New(ctx, hiOpenAIGo()); err != nil {
			t.Fatal(err)
		}
		advanceClock(t, base, 59)
		start := time.Now()
		resp, err := client.Chat.Completions.New(ctx, hiOpenAIGo())
		if err != nil {
			t.Fatalf("the retry did not get through: %v", err)
		}
		if resp.Choices[0].FinishReason != "length" {
			t.Errorf("finish %q", resp.Choices[0].FinishReason)
		}
		attempts := chatAttempts(rec)[1:]
		checkStatuses(t, attempts, 429, 200)
		if len(attempts) == 0 {
			return
		}
		h := attempts[0].Header
		ms, err := strconv.Atoi(h.Get("Retry-After-Ms"))
		if err != nil || ms <= 0 || ms > 1000 || h.Get("Retry-After") != "1" {
			t.Errorf("429 headers Retry-After %q, retry-after-ms %q; want about one second", h.Get("Retry-After"), h.Get("Retry-After-Ms"))
		}
		if h.Get("X-Ratelimit-Limit-Requests") != "1" || h.Get("X-Ratelimit-Remaining-Requests") != "0" {
			t.Errorf("x-ratelimit headers %v", h)
		}
		if d := time.Since(start); d < time.Duration(ms)*time.Millisecond {
			t.Errorf("retried after %v, before the %d ms it was told", d, ms)
		}
		if n := prematureRetries(t, base); n > 0 {
			t.Errorf("the mock counted %d premature retries", n)
		}
	})

	t.Run("go-openai", func(t *testing.T) {
		t.Parallel()
		base := startMock(t, "--rpm", "1", "--rate-limit-headers")
		rec := &recorder{}
		client := newGoOpenAI(base, testKey, rec)
		if _, err := client.CreateChatCompletion(ctx, hiGoOpenAI()); err != nil {
			t.Fatal(err)
		}
		advanceClock(t, base, 59)
		_, err := client.CreateChatCompletion(ctx, hiGoOpenAI())
		wantGoOpenAIError(t, err, 429, "limit_requests", rpmMessage)
		attempts := chatAttempts(rec)[1:]
		checkStatuses(t, attempts, 429)
		if len(attempts) == 1 && attempts[0].Header.Get("Retry-After") == "" {
			t.Errorf("no Retry-After with --rate-limit-headers")
		}
	})

	t.Run("langchaingo", func(t *testing.T) {
		t.Parallel()
		base := startMock(t, "--rpm", "1", "--rate-limit-headers")
		rec := &recorder{}
		llm := newLangchainGo(t, base, testKey, rec)
		if _, err := llm.GenerateContent(ctx, human("hi"), llms.WithMaxTokens(5)); err != nil {
			t.Fatal(err)
		}
		advanceClock(t, base, 59)
		_, err := llm.GenerateContent(ctx, human("hi"), llms.WithMaxTokens(5))
		if err == nil || err.Error() != "API returned unexpected status code: 429: "+rpmMessage {
			t.Fatalf("error %v", err)
		}
		checkStatuses(t, chatAttempts(rec)[1:], 429)
	})
}
