package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

// The official Anthropic Go SDK, github.com/anthropics/anthropic-sdk-go, against the
// Anthropic-compatible endpoint (POST /apps/anthropic/v1/messages) as DashScope serves it:
// msg_<uuid> ids, thinking blocks with empty signatures, message_start usage with two fields
// and the full four in message_delta, errors in DashScope's own body (SSE-framed for the
// context-window 400) unless --anthropic-errors anthropic asks for Anthropic's envelope.

var (
	anthropicMsgID  = regexp.MustCompile(`^msg_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	anthropicToolID = regexp.MustCompile(`^toolu_[0-9a-f]{24}$`)
)

const (
	rangeMessage   = "Range of input length should be [1, 100]"
	rateQuotaBody  = `"code":"Throttling.RateQuota","message":"Requests rate limit exceeded, please try again later."`
	anthropicMaxTk = 1024
)

// anthropicBase is the base URL the Anthropic SDKs take (they add /v1/messages).
func anthropicBase(base string) string { return base + "/apps/anthropic" }

func newAnthropicGo(base string, rec *recorder, opts ...option.RequestOption) *anthropic.Client {
	all := []option.RequestOption{
		option.WithBaseURL(anthropicBase(base) + "/"),
		option.WithAPIKey(testKey),
		option.WithMaxRetries(0),
		option.WithHTTPClient(rec.client()),
	}
	c := anthropic.NewClient(append(all, opts...)...)
	return &c
}

func anthropicUser(text string) []anthropic.MessageParam {
	return []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))}
}

func anthropicWeatherTool() []anthropic.ToolUnionParam {
	tool := anthropic.ToolUnionParamOfTool(anthropic.ToolInputSchemaParam{
		Properties: weatherSchema["properties"],
		Required:   []string{"city", "unit"},
	}, "get_weather")
	tool.OfTool.Description = anthropic.String(weatherToolDesc)
	return []anthropic.ToolUnionParam{tool}
}

// anthropicFrame is one event of an Anthropic stream.
type anthropicFrame struct {
	Event string
	Data  string
}

var eventLine = regexp.MustCompile(`^event: ?([a-z_]+)$`)

// anthropicFrames splits an Anthropic SSE body into events, checking what both SDKs need:
// every event has an event: line (frames without one are skipped by the SDKs) and a data:
// line whose "type" equals the event name; there is no [DONE].
func anthropicFrames(t testing.TB, body []byte) []anthropicFrame {
	t.Helper()
	s := string(body)
	if !strings.HasSuffix(s, "\n\n") {
		t.Errorf("stream does not end with a blank line: ...%q", tail(s, 80))
	}
	var out []anthropicFrame
	for _, ev := range strings.Split(strings.TrimSuffix(s, "\n\n"), "\n\n") {
		lines := strings.Split(ev, "\n")
		if len(lines) != 2 {
			t.Errorf("event is not an event: line and a data: line: %q", ev)
			continue
		}
		m := eventLine.FindStringSubmatch(lines[0])
		data, ok := strings.CutPrefix(lines[1], "data:")
		if m == nil || !ok {
			t.Errorf("event is not an event: line and a data: line: %q", ev)
			continue
		}
		data = strings.TrimPrefix(data, " ")
		var typ struct {
			Type string `json:"type"`
		}
		// DashScope's error event carries its native body, which has no "type".
		if err := json.Unmarshal([]byte(data), &typ); err != nil || (typ.Type != m[1] && !(m[1] == "error" && typ.Type == "")) {
			t.Errorf("event %q carries type %q (%v)", m[1], typ.Type, err)
		}
		out = append(out, anthropicFrame{Event: m[1], Data: data})
	}
	return out
}

// jsonKeys lists the keys of a JSON object, sorted.
func jsonKeys(t testing.TB, raw string) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var usageKeys = []string{"cache_creation_input_tokens", "cache_read_input_tokens", "input_tokens", "output_tokens"}

// checkAnthropicStream checks the DashScope stream shape (spec/shapes.md §A.6) and returns the
// frames without pings: message_start first (no stop_reason or stop_sequence, usage with only
// input_tokens and output_tokens), blocks opened in index order with signature_delta "" after
// thinking, message_delta with stop_sequence null and all four usage fields, message_stop last.
func checkAnthropicStream(t testing.TB, body []byte) []anthropicFrame {
	t.Helper()
	all := anthropicFrames(t, body)
	var frames []anthropicFrame
	pings := 0
	for _, f := range all {
		if f.Event == "ping" {
			pings++
			continue
		}
		frames = append(frames, f)
	}
	if pings == 0 {
		t.Errorf("no ping event")
	}
	if len(frames) < 4 || frames[0].Event != "message_start" || frames[len(frames)-1].Event != "message_stop" ||
		frames[len(frames)-2].Event != "message_delta" {
		t.Fatalf("event order: %v", frameNames(frames))
	}
	var start struct {
		Message map[string]json.RawMessage `json:"message"`
	}
	json.Unmarshal([]byte(frames[0].Data), &start)
	if _, has := start.Message["stop_reason"]; has {
		t.Errorf("message_start.message has stop_reason: %s", frames[0].Data)
	}
	if _, has := start.Message["stop_sequence"]; has {
		t.Errorf("message_start.message has stop_sequence: %s", frames[0].Data)
	}
	if k := jsonKeys(t, string(start.Message["usage"])); !slices.Equal(k, []string{"input_tokens", "output_tokens"}) {
		t.Errorf("message_start usage keys %v, want input_tokens and output_tokens only", k)
	}
	var delta struct {
		Delta map[string]json.RawMessage `json:"delta"`
		Usage json.RawMessage            `json:"usage"`
	}
	json.Unmarshal([]byte(frames[len(frames)-2].Data), &delta)
	if string(delta.Delta["stop_sequence"]) != "null" {
		t.Errorf("message_delta: %s, want stop_sequence null", frames[len(frames)-2].Data)
	}
	if k := jsonKeys(t, string(delta.Usage)); !slices.Equal(k, usageKeys) {
		t.Errorf("message_delta usage keys %v, want %v", k, usageKeys)
	}
	next := 0
	for i, f := range frames {
		if f.Event != "content_block_start" {
			continue
		}
		var cb struct {
			Index        int            `json:"index"`
			ContentBlock map[string]any `json:"content_block"`
		}
		json.Unmarshal([]byte(f.Data), &cb)
		if cb.Index != next {
			t.Errorf("content_block_start index %d, want %d", cb.Index, next)
		}
		next++
		if cb.ContentBlock["type"] == "thinking" {
			if cb.ContentBlock["signature"] != "" {
				t.Errorf("thinking block start %s, want an empty signature", f.Data)
			}
			sig := false
			for _, g := range frames[i:] {
				if g.Event == "content_block_delta" && strings.Contains(g.Data, `"type":"signature_delta","signature":""`) {
					sig = true
					break
				}
			}
			if !sig {
				t.Errorf("no signature_delta with an empty signature after the thinking block")
			}
		}
	}
	return frames
}

func frameNames(frames []anthropicFrame) []string {
	var names []string
	for _, f := range frames {
		names = append(names, f.Event)
	}
	return names
}

// compatTurn sends the same conversation to the compatible endpoint and returns its content
// and usage, for the cross-shape comparisons.
func compatTurn(t testing.TB, base string, body map[string]any) (content, reasoning string, prompt, completion, reasoningTokens int) {
	t.Helper()
	body["model"] = model
	resp, raw, err := postJSON(context.Background(), compatBase(base)+"/chat/completions", testKey, body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("compatible endpoint: %v %s", err, raw)
	}
	var out struct {
		Choices []struct {
			Message struct {
				Content          string `json:"content"`
				ReasoningContent string `json:"reasoning_content"`
			} `json:"message"`
		} `json:"choices"`
		Usage struct {
			PromptTokens            int `json:"prompt_tokens"`
			CompletionTokens        int `json:"completion_tokens"`
			CompletionTokensDetails struct {
				ReasoningTokens int `json:"reasoning_tokens"`
			} `json:"completion_tokens_details"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	m := out.Choices[0].Message
	return m.Content, m.ReasoningContent, out.Usage.PromptTokens, out.Usage.CompletionTokens, out.Usage.CompletionTokensDetails.ReasoningTokens
}

func TestAnthropicGo(t *testing.T) {
	t.Parallel()
	base := startMock(t, "--fixtures", fixtureFile(t))
	ctx := context.Background()

	t.Run("NonStream", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		msg, err := newAnthropicGo(base, rec).Messages.New(ctx, anthropic.MessageNewParams{
			Model:     model,
			MaxTokens: anthropicMaxTk,
			System:    []anthropic.TextBlockParam{{Text: "You are a helpful assistant."}},
			Messages:  anthropicUser("你是谁？"),
		})
		if err != nil {
			t.Fatal(err)
		}
		ex := rec.last(t)
		if ct := ex.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q", ct)
		}
		if !anthropicMsgID.MatchString(msg.ID) || msg.Type != "message" || msg.Role != "assistant" || msg.Model != model {
			t.Errorf("id %q type %q role %q model %q", msg.ID, msg.Type, msg.Role, msg.Model)
		}
		if msg.StopReason != anthropic.StopReasonEndTurn || !strings.Contains(string(ex.RespBody), `"stop_sequence":null`) {
			t.Errorf("stop_reason %q; body %s", msg.StopReason, ex.RespBody)
		}
		if len(msg.Content) != 1 || msg.Content[0].Type != "text" || msg.Content[0].Text == "" {
			t.Fatalf("content %+v", msg.Content)
		}
		var raw struct {
			Usage json.RawMessage `json:"usage"`
		}
		json.Unmarshal(ex.RespBody, &raw)
		if k := jsonKeys(t, string(raw.Usage)); !slices.Equal(k, usageKeys) {
			t.Errorf("usage keys %v, want %v", k, usageKeys)
		}
		// The same conversation through the compatible endpoint: same text, same tokens.
		text, _, prompt, completion, _ := compatTurn(t, base, map[string]any{"messages": []any{
			map[string]any{"role": "system", "content": "You are a helpful assistant."},
			map[string]any{"role": "user", "content": "你是谁？"},
		}})
		if msg.Usage.InputTokens != 22 || int(msg.Usage.InputTokens) != prompt || int(msg.Usage.OutputTokens) != completion ||
			msg.Content[0].Text != text {
			t.Errorf("usage %d/%d text %q; compatible endpoint %d/%d %q", msg.Usage.InputTokens, msg.Usage.OutputTokens,
				msg.Content[0].Text, prompt, completion, text)
		}
	})

	t.Run("BearerToken", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := anthropic.NewClient(option.WithBaseURL(anthropicBase(base)+"/"), option.WithAuthToken(testKey),
			option.WithMaxRetries(0), option.WithHTTPClient(rec.client()))
		_, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: model, MaxTokens: 16, Messages: anthropicUser("hi")})
		if err != nil {
			t.Fatal(err)
		}
		if ex := rec.last(t); ex.Status != http.StatusOK {
			t.Errorf("status %d", ex.Status)
		}
	})

	t.Run("StreamAccumulate", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newAnthropicGo(base, rec)
		params := anthropic.MessageNewParams{Model: model, MaxTokens: anthropicMaxTk, Messages: anthropicUser("Tell me a short story.")}
		want, err := client.Messages.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		stream := client.Messages.NewStreaming(ctx, params)
		var acc anthropic.Message
		events := 0
		for stream.Next() {
			if err := acc.Accumulate(stream.Current()); err != nil {
				t.Fatal(err)
			}
			events++
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		ex := rec.last(t)
		if ct := ex.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Errorf("stream Content-Type %q", ct)
		}
		frames := checkAnthropicStream(t, ex.RespBody)
		if events != len(frames) {
			t.Errorf("the SDK yielded %d events, the wire had %d besides pings", events, len(frames))
		}
		if !anthropicMsgID.MatchString(acc.ID) || acc.StopReason != anthropic.StopReasonEndTurn || len(acc.Content) != 1 ||
			acc.Content[0].Text != want.Content[0].Text {
			t.Errorf("accumulated %+v, want the non-stream text %q", acc, want.Content[0].Text)
		}
		if acc.Usage.InputTokens != want.Usage.InputTokens || acc.Usage.OutputTokens != want.Usage.OutputTokens {
			t.Errorf("accumulated usage %d/%d, non-stream %d/%d", acc.Usage.InputTokens, acc.Usage.OutputTokens,
				want.Usage.InputTokens, want.Usage.OutputTokens)
		}
	})

	t.Run("ToolUseRoundTrip", func(t *testing.T) {
		t.Parallel()
		client := newAnthropicGo(base, &recorder{})
		messages := anthropicUser(weatherQuestion)
		params := anthropic.MessageNewParams{Model: model, MaxTokens: anthropicMaxTk, Messages: messages, Tools: anthropicWeatherTool()}
		msg, err := client.Messages.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if msg.StopReason != anthropic.StopReasonToolUse || len(msg.Content) != 1 || msg.Content[0].Type != "tool_use" {
			t.Fatalf("stop_reason %q content %+v", msg.StopReason, msg.Content)
		}
		use := msg.Content[0]
		checkWeatherInput(t, use.ID, use.Name, use.Input)
		params.Messages = append(messages, msg.ToParam(),
			anthropic.NewUserMessage(anthropic.NewToolResultBlock(use.ID, weatherResult, false)))
		next, err := client.Messages.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if next.StopReason != anthropic.StopReasonEndTurn || len(next.Content) != 1 || next.Content[0].Text != weatherAnswer {
			t.Errorf("after the tool result: %q %+v", next.StopReason, next.Content)
		}
	})

	t.Run("StreamedToolUse", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newAnthropicGo(base, rec)
		messages := anthropicUser(weatherQuestion)
		params := anthropic.MessageNewParams{Model: model, MaxTokens: anthropicMaxTk, Messages: messages, Tools: anthropicWeatherTool()}
		stream := client.Messages.NewStreaming(ctx, params)
		var acc anthropic.Message
		for stream.Next() {
			if err := acc.Accumulate(stream.Current()); err != nil {
				t.Fatal(err)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		frames := checkAnthropicStream(t, rec.last(t).RespBody)
		fragments := 0
		for _, f := range frames {
			if strings.Contains(f.Data, `"type":"input_json_delta"`) {
				fragments++
			}
		}
		if fragments < 2 {
			t.Errorf("%d input_json_delta events, want the arguments in fragments", fragments)
		}
		if acc.StopReason != anthropic.StopReasonToolUse || len(acc.Content) != 1 {
			t.Fatalf("accumulated %q %+v", acc.StopReason, acc.Content)
		}
		use := acc.Content[0]
		checkWeatherInput(t, use.ID, use.Name, use.Input)
		params.Messages = append(messages, acc.ToParam(),
			anthropic.NewUserMessage(anthropic.NewToolResultBlock(use.ID, weatherResult, false)))
		next, err := client.Messages.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if next.Content[0].Text != weatherAnswer {
			t.Errorf("after the tool result: %+v", next.Content)
		}
	})

	t.Run("Thinking", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newAnthropicGo(base, rec)
		params := anthropic.MessageNewParams{Model: model, MaxTokens: anthropicMaxTk, Messages: anthropicUser(primeQuestion),
			Thinking: anthropic.ThinkingConfigParamOfEnabled(2048)}
		msg, err := client.Messages.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if len(msg.Content) != 2 || msg.Content[0].Type != "thinking" || msg.Content[0].Thinking != primeReasoning ||
			msg.Content[0].Signature != "" || msg.Content[1].Type != "text" || msg.Content[1].Text != primeAnswer {
			t.Fatalf("content %+v", msg.Content)
		}
		if !strings.Contains(string(rec.last(t).RespBody), `"signature":""`) {
			t.Errorf("no empty signature on the wire: %s", rec.last(t).RespBody)
		}
		_, reasoning, prompt, completion, _ := compatTurn(t, base, map[string]any{"enable_thinking": true,
			"messages": []any{map[string]any{"role": "user", "content": primeQuestion}}})
		if reasoning != primeReasoning || int(msg.Usage.InputTokens) != prompt || int(msg.Usage.OutputTokens) != completion {
			t.Errorf("usage %d/%d, compatible endpoint %d/%d", msg.Usage.InputTokens, msg.Usage.OutputTokens, prompt, completion)
		}

		stream := client.Messages.NewStreaming(ctx, params)
		var acc anthropic.Message
		for stream.Next() {
			if err := acc.Accumulate(stream.Current()); err != nil {
				t.Fatal(err)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		checkAnthropicStream(t, rec.last(t).RespBody)
		if len(acc.Content) != 2 || acc.Content[0].Thinking != primeReasoning || acc.Content[1].Text != primeAnswer ||
			acc.Usage.OutputTokens != msg.Usage.OutputTokens {
			t.Errorf("accumulated %+v", acc.Content)
		}
	})

	t.Run("MaxTokensBoundsTheAnswerOnly", func(t *testing.T) {
		t.Parallel()
		client := newAnthropicGo(base, &recorder{})
		msg, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: model, MaxTokens: 3,
			Messages: anthropicUser(primeQuestion), Thinking: anthropic.ThinkingConfigParamOfEnabled(2048)})
		if err != nil {
			t.Fatal(err)
		}
		_, _, _, _, reasoningTokens := compatTurn(t, base, map[string]any{"enable_thinking": true,
			"messages": []any{map[string]any{"role": "user", "content": primeQuestion}}})
		if msg.StopReason != anthropic.StopReasonMaxTokens || len(msg.Content) != 2 || msg.Content[0].Thinking != primeReasoning ||
			!strings.HasPrefix(primeAnswer, msg.Content[1].Text) || int(msg.Usage.OutputTokens) != reasoningTokens+3 {
			t.Errorf("stop_reason %q output_tokens %d (reasoning %d) content %+v", msg.StopReason, msg.Usage.OutputTokens,
				reasoningTokens, msg.Content)
		}

		plain, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: model, MaxTokens: 5, Messages: anthropicUser("Tell me a short story.")})
		if err != nil {
			t.Fatal(err)
		}
		if plain.StopReason != anthropic.StopReasonMaxTokens || plain.Usage.OutputTokens != 5 {
			t.Errorf("max_tokens 5: stop_reason %q output_tokens %d", plain.StopReason, plain.Usage.OutputTokens)
		}
	})

	t.Run("StopSequenceGivesEndTurn", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		msg, err := newAnthropicGo(base, rec).Messages.New(ctx, anthropic.MessageNewParams{Model: model, MaxTokens: anthropicMaxTk,
			Messages: anthropicUser(primeQuestion), StopSequences: []string{","}})
		if err != nil {
			t.Fatal(err)
		}
		if msg.StopReason != anthropic.StopReasonEndTurn || msg.Content[0].Text != "Yes" ||
			!strings.Contains(string(rec.last(t).RespBody), `"stop_sequence":null`) {
			t.Errorf("stop_reason %q text %q body %s", msg.StopReason, msg.Content[0].Text, rec.last(t).RespBody)
		}
	})

	t.Run("CountTokens", func(t *testing.T) {
		t.Parallel()
		client := newAnthropicGo(base, &recorder{})
		system := []anthropic.TextBlockParam{{Text: "You are a helpful assistant."}}
		n, err := client.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: model,
			System: anthropic.MessageCountTokensParamsSystemUnion{OfTextBlockArray: system}, Messages: anthropicUser("你是谁？")})
		if err != nil {
			t.Fatal(err)
		}
		if n.InputTokens != 22 {
			t.Errorf("count_tokens %d, want 22 (the usage of the same request)", n.InputTokens)
		}
	})
}

func checkWeatherInput(t testing.TB, id, name string, input json.RawMessage) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(input, &got); err != nil {
		t.Fatalf("input %s: %v", input, err)
	}
	if !anthropicToolID.MatchString(id) || name != "get_weather" || got["city"] != "Hangzhou" || got["unit"] != "celsius" || len(got) != 2 {
		t.Errorf("tool_use id %q name %q input %s", id, name, input)
	}
}

// TestAnthropicGoErrors covers the error bodies: the SSE-framed context-window 400 (not
// retried), the native 429 (retried twice), the same with Anthropic's envelope, and 401.
func TestAnthropicGoErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ContextOverflowNotRetried", func(t *testing.T) {
		t.Parallel()
		base := startMock(t, "--max-input-tokens", "100")
		rec := &recorder{}
		client := newAnthropicGo(base, rec, option.WithMaxRetries(2))
		params := anthropic.MessageNewParams{Model: model, MaxTokens: 16, Messages: anthropicUser(longPrompt)}
		_, err := client.Messages.New(ctx, params)
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || apiErr.Type() != "" {
			t.Fatalf("error %T %v", err, err)
		}
		ex := rec.last(t)
		want := "event:error\ndata:{\"code\":\"InvalidParameter\",\"message\":\"" + rangeMessage + "\",\"request_id\":\""
		if !strings.HasPrefix(string(ex.RespBody), want) || apiErr.RawJSON() != string(ex.RespBody) {
			t.Errorf("body %q, RawJSON %q; want it to start with %q", ex.RespBody, apiErr.RawJSON(), want)
		}
		if !strings.Contains(err.Error(), rangeMessage) {
			t.Errorf("error text %q", err)
		}
		if n := len(rec.all()); n != 1 {
			t.Errorf("%d requests, want 1: a 400 is not retried", n)
		}

		stream := client.Messages.NewStreaming(ctx, params)
		for stream.Next() {
			t.Errorf("event %+v before the error", stream.Current())
		}
		if !errors.As(stream.Err(), &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
			t.Errorf("stream error %T %v", stream.Err(), stream.Err())
		}
	})

	t.Run("ContextOverflowAnthropicEnvelope", func(t *testing.T) {
		t.Parallel()
		base := startMock(t, "--max-input-tokens", "100", "--anthropic-errors", "anthropic")
		rec := &recorder{}
		_, err := newAnthropicGo(base, rec, option.WithMaxRetries(2)).Messages.New(ctx,
			anthropic.MessageNewParams{Model: model, MaxTokens: 16, Messages: anthropicUser(longPrompt)})
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || apiErr.Type() != "invalid_request_error" {
			t.Fatalf("error %T %v", err, err)
		}
		var body struct {
			Type  string `json:"type"`
			Error struct {
				Type, Message string
			} `json:"error"`
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(rec.last(t).RespBody, &body); err != nil || body.Type != "error" || body.Error.Message != rangeMessage || body.RequestID == "" {
			t.Errorf("body %s", rec.last(t).RespBody)
		}
		if n := len(rec.all()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})

	t.Run("WrongKey", func(t *testing.T) {
		t.Parallel()
		base := startMock(t, "--api-key", "sk-good")
		rec := &recorder{}
		_, err := newAnthropicGo(base, rec).Messages.New(ctx, anthropic.MessageNewParams{Model: model, MaxTokens: 16, Messages: anthropicUser("hi")})
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
			t.Fatalf("error %T %v", err, err)
		}
		if !strings.Contains(string(rec.last(t).RespBody), `"code":"InvalidApiKey","message":"Invalid API-key provided."`) {
			t.Errorf("body %s", rec.last(t).RespBody)
		}
	})

	for _, mode := range []string{"dashscope", "anthropic"} {
		t.Run("RateLimitRetried/"+mode, func(t *testing.T) {
			t.Parallel()
			base := startMock(t, "--rpm", "1", "--anthropic-errors", mode)
			rec := &recorder{}
			client := newAnthropicGo(base, rec, option.WithMaxRetries(2))
			params := anthropic.MessageNewParams{Model: model, MaxTokens: 5, Messages: anthropicUser("hi")}
			if _, err := client.Messages.New(ctx, params); err != nil {
				t.Fatal(err)
			}
			_, err := client.Messages.New(ctx, params)
			var apiErr *anthropic.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("error %T %v", err, err)
			}
			all := rec.all()
			if len(all) != 4 {
				t.Fatalf("%d requests, want 1 + 3 (the 429 retried twice)", len(all))
			}
			body := string(all[3].RespBody)
			switch mode {
			case "dashscope":
				if !strings.Contains(body, rateQuotaBody) || apiErr.Type() != "" {
					t.Errorf("body %s type %q", body, apiErr.Type())
				}
			case "anthropic":
				if apiErr.Type() != "rate_limit_error" || !strings.Contains(body, `"type":"error"`) {
					t.Errorf("body %s type %q", body, apiErr.Type())
				}
			}
			if all[3].Header.Get("Retry-After") != "" {
				t.Errorf("Retry-After %q: DashScope sends none", all[3].Header.Get("Retry-After"))
			}
		})
	}

	t.Run("RateLimitRetryAfterGetsThrough", func(t *testing.T) {
		t.Parallel()
		base := startMock(t, "--rpm", "1", "--rate-limit-headers")
		rec := &recorder{}
		client := newAnthropicGo(base, rec, option.WithMaxRetries(2))
		params := anthropic.MessageNewParams{Model: model, MaxTokens: 5, Messages: anthropicUser("hi")}
		if _, err := client.Messages.New(ctx, params); err != nil {
			t.Fatal(err)
		}
		advanceClock(t, base, 59)
		if _, err := client.Messages.New(ctx, params); err != nil {
			t.Fatalf("the retry after retry-after-ms did not get through: %v", err)
		}
		all := rec.all()
		if len(all) != 3 || all[1].Status != http.StatusTooManyRequests || all[2].Status != http.StatusOK {
			t.Errorf("statuses %v, want 200 429 200", statuses(all))
		}
	})

	t.Run("MidStreamError", func(t *testing.T) {
		t.Parallel()
		base := startMock(t)
		rec := &recorder{}
		stream := newAnthropicGo(base, rec).Messages.NewStreaming(ctx,
			anthropic.MessageNewParams{Model: model, MaxTokens: anthropicMaxTk, Messages: anthropicUser("Tell me a short story.")},
			option.WithHeader("X-Mock-Fault", "internal; after_chunks=3"))
		events := 0
		for stream.Next() {
			events++
		}
		var apiErr *anthropic.Error
		if !errors.As(stream.Err(), &apiErr) || apiErr.StatusCode != http.StatusOK || apiErr.Type() != "" {
			t.Fatalf("after %d events: error %T %v", events, stream.Err(), stream.Err())
		}
		if events == 0 || !strings.Contains(string(rec.last(t).RespBody), "event:error\ndata:{\"code\":\"InternalError\"") {
			t.Errorf("%d events; body %s", events, rec.last(t).RespBody)
		}
	})
}

func statuses(all []*exchange) []int {
	var out []int
	for _, ex := range all {
		out = append(out, ex.Status)
	}
	return out
}
