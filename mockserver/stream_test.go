package mockserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestStreamFraming(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithClock(FixedClock(testTime)), WithRequestIDs(sequentialIDs()))
	msgs := `"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"你是谁？"}]`
	resp := postStream(t, ts.URL, `{"model":"qwen3-max",`+msgs+`,"stream":true,"stream_options":{"include_usage":true}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream;charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if got := resp.Header.Get("X-Request-Id"); got != firstID {
		t.Errorf("x-request-id %q", got)
	}
	events := sseEvents(t, resp.Body)
	tail := `,"created":1735120033,"system_fingerprint":null,"model":"qwen3-max","id":"chatcmpl-` + firstID + `"}`
	chunkTail := `],"object":"chat.completion.chunk","usage":null` + tail

	if want := `{"choices":[{"delta":{"content":"","role":"assistant"},"index":0,"logprobs":null,"finish_reason":null}` + chunkTail; events[0] != want {
		t.Errorf("first chunk\n got  %s\n want %s", events[0], want)
	}
	if events[len(events)-1] != "[DONE]" {
		t.Errorf("last event %q", events[len(events)-1])
	}
	finish := events[len(events)-3]
	if want := `{"choices":[{"finish_reason":"stop","delta":{"content":""},"index":0,"logprobs":null}` + chunkTail; finish != want {
		t.Errorf("finish chunk\n got  %s\n want %s", finish, want)
	}
	var text strings.Builder
	for _, ev := range events[1 : len(events)-3] {
		body, ok := strings.CutSuffix(ev, `},"finish_reason":null,"index":0,"logprobs":null}`+chunkTail)
		piece, ok2 := strings.CutPrefix(body, `{"choices":[{"delta":{"content":`)
		if !ok || !ok2 {
			t.Fatalf("content chunk has another shape: %s", ev)
		}
		var s string
		if err := json.Unmarshal([]byte(piece), &s); err != nil || s == "" {
			t.Fatalf("content chunk %s: %v", ev, err)
		}
		text.WriteString(s)
	}

	// The same request without stream gives the same text and usage.
	srv := newTestHandler(t)
	c := decodeCompletion(t, chat(t, srv, `{"model":"qwen3-max",`+msgs+`}`))
	if text.String() != c.Choices[0].Message.Content {
		t.Errorf("streamed text differs:\n%s\nvs\n%s", text.String(), c.Choices[0].Message.Content)
	}
	usage := fmt.Sprintf(`{"choices":[],"object":"chat.completion.chunk","usage":{"prompt_tokens":22,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":0}}`,
		c.Usage.CompletionTokens, c.Usage.TotalTokens) + tail
	if got := events[len(events)-2]; got != usage {
		t.Errorf("usage chunk\n got  %s\n want %s", got, usage)
	}
}

func TestStreamWithoutUsage(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	resp := postStream(t, ts.URL, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":5}`)
	events := sseEvents(t, resp.Body)
	if events[len(events)-1] != "[DONE]" || !strings.HasPrefix(events[len(events)-2], `{"choices":[{"finish_reason":"length","delta":{"content":""}`) {
		t.Fatalf("unexpected ending: %q", events[len(events)-2:])
	}
	for _, ev := range events[:len(events)-1] {
		if strings.Contains(ev, `"choices":[]`) || !strings.Contains(ev, `"usage":null`) {
			t.Errorf("usage chunk without include_usage: %s", ev)
		}
	}
}

// TestStreamChunkBoundaries streams with one token per chunk, so that multi-byte characters
// split across tokens, and checks the text still matches the non-stream reply.
func TestStreamChunkBoundaries(t *testing.T) {
	t.Parallel()
	for _, per := range []int{1, 2, 3, 7} {
		ts := NewTestServer(t, WithStreamChunkTokens(per))
		body := `{"model":"qwen3-max","messages":[{"role":"user","content":"🦙"}],"max_tokens":33%s}`
		resp := postStream(t, ts.URL, fmt.Sprintf(body, `,"stream":true`))
		var text strings.Builder
		for _, ev := range sseEvents(t, resp.Body) {
			var chunk struct {
				Choices []struct {
					Delta struct {
						Content string `json:"content"`
					} `json:"delta"`
				} `json:"choices"`
			}
			if ev == "[DONE]" {
				break
			}
			if err := json.Unmarshal([]byte(ev), &chunk); err != nil {
				t.Fatal(err)
			}
			text.WriteString(chunk.Choices[0].Delta.Content)
		}
		c := decodeCompletion(t, chat(t, ts.Server, fmt.Sprintf(body, "")))
		if text.String() != c.Choices[0].Message.Content {
			t.Errorf("%d tokens per chunk: streamed text differs", per)
		}
	}
}

func TestStreamErrorBeforeStart(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithRequestIDs(sequentialIDs()), WithMaxInputTokens(10))
	resp := postStream(t, ts.URL, `{"model":"qwen3-max","messages":[{"role":"user","content":"`+strings.Repeat("word ", 20)+`"}],"stream":true}`)
	body, _ := io.ReadAll(resp.Body)
	want := `data: {"error":{"message":"<400> InternalError.Algo.InvalidParameter: Range of input length should be [1, 10]","type":"invalid_request_error","param":null,"code":"invalid_parameter_error"},"id":"chatcmpl-` + firstID + `","request_id":"` + firstID + `"}` + "\n\n"
	if resp.StatusCode != 400 || string(body) != want {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream;charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}

	// Auth errors too, when the body asks for a stream.
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/compatible-mode/v1/chat/completions",
		strings.NewReader(`{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"stream":true}`))
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	body, _ = io.ReadAll(resp2.Body)
	if resp2.StatusCode != 401 || !strings.HasPrefix(string(body), `data: {"error":{"message":"No API-key provided."`) {
		t.Fatalf("401 stream: %d %q", resp2.StatusCode, body)
	}
}

// TestStreamClientGoesAway reads one chunk and hangs up; the server must neither panic nor
// block, and keep serving.
func TestStreamClientGoesAway(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithStreamChunkTokens(1))
	for range 5 {
		resp := postStream(t, ts.URL, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"stream":true}`)
		buf := make([]byte, 64)
		if _, err := resp.Body.Read(buf); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp := postStream(t, ts.URL, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"stream":true}`)
	if ev := sseEvents(t, resp.Body); ev[len(ev)-1] != "[DONE]" {
		t.Fatalf("server did not recover")
	}
}
