package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/qwenmock/qwenmock/mockserver/tokenizer"
)

// The stream writers append their events by hand. These tests build the same streams the
// reflective way, from structs (or, for Responses, maps) through marshalJSON, and compare the
// bytes, for many replies: thinking or not, tool calls, several choices, usage, cache
// details, every finish, replies cut inside a character, text that needs escaping ("<>&",
// U+2028, NUL, quotes) and text that is not valid UTF-8. The tokenizer turns invalid UTF-8 in a
// text into U+FFFD, so replies only carry it when tokens are cut (a length cut, a character
// cut across chunks); tokens of single stray bytes are mixed in to test the escaping anyway.

// streamTexts are the texts the replies are made of.
var streamTexts = []string{
	"",
	"Plain words, one after another.",
	"<b>bold</b> & \"quoted\" \\ back\nslash\ttab\r\u2028\u2029 \x00\x01\x1f\x7f end",
	"中文混合 English 🦜𠀀 é ñ ß — “quotes” ✓",
	"\xff\xfe not \xc3 UTF-8 \xe4\xb8 at all \xed\xa0\x80 \xf4\x90\x80\x80",
	`{"city":"<Paris> & \u2028","n":1,"tags":["a\"b"]}`,
	"\ufffd a real replacement character, and \\u2028 written out",
}

// streamPieces splits the text of ids as a stream sends it: chunkBy tokens at a time, a
// character cut across chunks held back until its last byte, the incomplete end dropped.
func streamPieces(s *Server, ids []int) []string {
	var pieces []string
	var pending []byte
	for i := 0; i < len(ids); i += s.chunkBy {
		for _, id := range ids[i:min(i+s.chunkBy, len(ids))] {
			pending = append(pending, s.tok.TokenBytes(id)...)
		}
		if k := completeUTF8Prefix(pending); k > 0 {
			pieces = append(pieces, string(pending[:k]))
			pending = pending[k:]
		}
	}
	return pieces
}

// strayByteIDs are the ids of tokens that are one byte which cannot stand alone in UTF-8.
var strayByteIDs = sync.OnceValue(func() []int {
	var ids []int
	tok := tokenizer.Default()
	for id := range tokenizer.VocabSize {
		if b := tok.TokenBytes(id); len(b) == 1 && slices.Contains([]byte{0x80, 0xbf, 0xc3, 0xe4, 0xed, 0xf4, 0xff}, b[0]) {
			ids = append(ids, id)
		}
	}
	return ids
})

// randomStream makes a call and its reply from seed.
func randomStream(s *Server, seed uint64, maxChoices int) (*call, *result) {
	rng := rand.New(rand.NewPCG(seed, 99))
	text := func() (string, []int) {
		t := streamTexts[rng.IntN(len(streamTexts))] + streamTexts[rng.IntN(len(streamTexts))]
		ids := s.tok.Encode(t)
		if len(ids) > 0 && rng.IntN(3) == 0 { // a stray byte
			ids = slices.Insert(ids, rng.IntN(len(ids)), strayByteIDs()[rng.IntN(len(strayByteIDs()))])
		}
		if len(ids) > 0 && rng.IntN(3) == 0 { // cut short, maybe inside a character
			ids = ids[:rng.IntN(len(ids))]
		}
		return strings.Join(streamPieces(s, ids), ""), ids
	}
	c := &call{id: fmt.Sprintf("id-%d", seed), created: 1700000000 + int64(seed), modelID: "qwen3-max",
		promptTokens: rng.IntN(5000), thinking: rng.IntN(2) == 0, ctx: context.Background(),
		req: &chatRequest{Stream: true}}
	if rng.IntN(4) == 0 {
		c.modelID = "qwen<&>\u2028\"alias\""
	}
	switch rng.IntN(3) {
	case 1:
		c.cache = cacheUse{implicit: rng.IntN(100)}
	case 2:
		c.cache = cacheUse{hit: rng.IntN(100), created: rng.IntN(3000), explicit: true}
	}
	res := &result{}
	for i := range 1 + rng.IntN(maxChoices) {
		ch := choiceResult{index: i, finish: []string{"stop", "length"}[rng.IntN(2)]}
		if c.thinking {
			ch.reasoning, ch.reasoningIDs = text()
		}
		if rng.IntN(3) > 0 {
			ch.text, ch.ids = text()
		}
		for j := range rng.IntN(3) {
			args, _ := text()
			tc := toolCallOut{ID: fmt.Sprintf("call_%024d", seed*10+uint64(j)), Name: []string{"get_weather", "lookup<&>"}[rng.IntN(2)], Arguments: args}
			ch.toolCalls = append(ch.toolCalls, tc)
			ch.toolTokens += len(s.tok.Encode(tc.Arguments))
			ch.finish = "tool_calls"
		}
		res.choices = append(res.choices, ch)
		res.completionTokens += ch.completionTokens()
		res.reasoningTokens += len(ch.reasoningIDs)
	}
	return c, res
}

// streamServers are servers that send 1, 2, 3 and 7 tokens per chunk.
func streamServers(t *testing.T) []*Server {
	var out []*Server
	for _, n := range []int{1, 2, 3, 7} {
		s, err := New(WithStreamChunkTokens(n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func checkStream(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		g, w := string(got), string(want)
		i := 0
		for i < len(g) && i < len(w) && g[i] == w[i] {
			i++
		}
		t.Fatalf("%s: differs at byte %d\n got  …%q\n want …%q", what, i, g[max(0, i-80):min(len(g), i+80)], w[max(0, i-80):min(len(w), i+80)])
	}
}

func TestCompatStreamEncoding(t *testing.T) {
	for _, s := range streamServers(t) {
		for seed := range uint64(150) {
			c, res := randomStream(s, seed, 3)
			usage := seed%2 == 0
			c.req.Shape = compatOptions{includeUsage: usage}
			rec := httptest.NewRecorder()
			sent, dropped := s.streamCompat(rec, nil, c, res)
			what := fmt.Sprintf("chunk %d seed %d", s.chunkBy, seed)
			checkStream(t, what, rec.Body.Bytes(), compatStreamReflect(s, c, res, usage))
			if sent != res.completionTokens || dropped {
				t.Fatalf("%s: sent %d of %d, dropped %v", what, sent, res.completionTokens, dropped)
			}
		}
	}
}

func TestNativeStreamEncoding(t *testing.T) {
	for _, s := range streamServers(t) {
		for seed := range uint64(150) {
			c, res := randomStream(s, seed, 1)
			opts := nativeOptions{resultFormat: []string{"message", "text"}[seed%2], incremental: seed%3 != 0}
			c.req.Shape = opts
			rec := httptest.NewRecorder()
			sent, dropped := s.streamNative(rec, nil, c, res)
			what := fmt.Sprintf("chunk %d seed %d %+v", s.chunkBy, seed, opts)
			checkStream(t, what, rec.Body.Bytes(), nativeStreamReflect(s, c, res, opts))
			if sent != res.completionTokens || dropped {
				t.Fatalf("%s: sent %d of %d, dropped %v", what, sent, res.completionTokens, dropped)
			}
		}
	}
}

func TestAnthropicStreamEncoding(t *testing.T) {
	for _, s := range streamServers(t) {
		for seed := range uint64(150) {
			c, res := randomStream(s, seed, 1)
			rec := httptest.NewRecorder()
			sent, dropped := anthropicShape{s}.stream(rec, c, res)
			what := fmt.Sprintf("chunk %d seed %d", s.chunkBy, seed)
			checkStream(t, what, rec.Body.Bytes(), anthropicStreamReflect(s, c, res))
			if sent != res.completionTokens || dropped {
				t.Fatalf("%s: sent %d of %d, dropped %v", what, sent, res.completionTokens, dropped)
			}
		}
	}
}

// TestResponsesStreamEncoding checks the delta events of Responses streams, the ones written
// by hand, against eventData; the other events are encoded by eventData itself.
func TestResponsesStreamEncoding(t *testing.T) {
	for _, s := range streamServers(t) {
		for seed := range uint64(150) {
			c, res := randomStream(s, seed, 1)
			c.req.Shape = &responsesOptions{}
			rec := httptest.NewRecorder()
			responsesShape{s: s}.stream(rec, c, res)
			what := fmt.Sprintf("chunk %d seed %d", s.chunkBy, seed)
			ch := res.choices[0]
			pieces := map[string][]string{
				"response.reasoning_summary_text.delta": nil,
				"response.output_text.delta":            streamPieces(s, ch.ids),
			}
			if c.thinking && ch.reasoning != "" {
				pieces["response.reasoning_summary_text.delta"] = streamPieces(s, ch.reasoningIDs)
			}
			if len(ch.toolCalls) > 0 && ch.text == "" {
				pieces["response.output_text.delta"] = nil
			}
			for _, tc := range ch.toolCalls {
				pieces["response.function_call_arguments.delta"] = append(pieces["response.function_call_arguments.delta"], streamPieces(s, s.tok.Encode(tc.Arguments))...)
			}
			frames := strings.SplitAfter(rec.Body.String(), "\n\n")
			if frames[len(frames)-1] != "" {
				t.Fatalf("%s: the stream does not end with a blank line", what)
			}
			for i, frame := range frames[:len(frames)-1] {
				head, data, _ := strings.Cut(frame, "\n:HTTP_STATUS/200\ndata:")
				idLine, typ, _ := strings.Cut(head, "\nevent:")
				seq, err := strconv.Atoi(strings.TrimPrefix(idLine, "id:"))
				if err != nil || seq != i+1 {
					t.Fatalf("%s: frame %d has id %q", what, i, idLine)
				}
				want, ok := pieces[typ]
				if !ok {
					continue
				}
				if len(want) == 0 {
					t.Fatalf("%s: one %s too many", what, typ)
				}
				pieces[typ] = want[1:]
				var ev struct {
					ItemID      string `json:"item_id"`
					OutputIndex int    `json:"output_index"`
				}
				if err := json.Unmarshal([]byte(data), &ev); err != nil {
					t.Fatalf("%s: %s: %v", what, frame, err)
				}
				fields := map[string]any{"delta": want[0], "item_id": ev.ItemID, "output_index": ev.OutputIndex}
				switch typ {
				case "response.reasoning_summary_text.delta":
					fields["summary_index"] = 0
				case "response.output_text.delta":
					fields["content_index"], fields["logprobs"] = 0, []struct{}{}
				}
				checkStream(t, what, []byte(frame), nativeFrame(nil, seq, typ, http.StatusOK, eventData(seq-1, typ, fields)))
			}
			for typ, left := range pieces {
				if len(left) > 0 {
					t.Fatalf("%s: %d %s events missing", what, len(left), typ)
				}
			}
		}
	}
}

// TestStreamLargeFrames streams events larger than a pooled buffer may be (a native stream
// without incremental_output repeats all the text so far), then small ones: the writer that
// held the large buffer gives it up, and every stream is still encoded right.
func TestStreamLargeFrames(t *testing.T) {
	s, err := New(WithStreamChunkTokens(50))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat(streamTexts[2]+streamTexts[3], 700)
	largest := 0
	for i := range 6 {
		c := &call{id: "big", created: 1, modelID: "qwen3-max", ctx: context.Background(), thinking: i%2 == 0,
			req: &chatRequest{Stream: true, Shape: nativeOptions{resultFormat: "message", incremental: i >= 3}}}
		text := long
		if i >= 3 {
			text = streamTexts[2]
		}
		ids := s.tok.Encode(text)
		res := &result{completionTokens: len(ids), choices: []choiceResult{{ids: ids, text: text, finish: "stop"}}}
		rec := httptest.NewRecorder()
		s.streamNative(rec, nil, c, res)
		checkStream(t, fmt.Sprint("stream ", i), rec.Body.Bytes(), nativeStreamReflect(s, c, res, nativeOptionsOf(c)))
		for _, frame := range strings.SplitAfter(rec.Body.String(), "\n\n") {
			largest = max(largest, len(frame))
		}
	}
	if largest <= maxPooledFrame {
		t.Fatalf("the largest frame has %d bytes: nothing tests a buffer too large to pool", largest)
	}
}

// The compatible chunks, in the key order of the captures: each kind of choice and delta
// has its own struct.

type compatChunkRef struct {
	Choices           []any        `json:"choices"`
	Object            string       `json:"object"`
	Usage             *compatUsage `json:"usage"`
	Created           int64        `json:"created"`
	SystemFingerprint *string      `json:"system_fingerprint"`
	Model             string       `json:"model"`
	ID                string       `json:"id"`
}

type compatFirstChoiceRef struct {
	Delta        any       `json:"delta"`
	Index        int       `json:"index"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

type compatDeltaChoiceRef struct {
	Delta        any       `json:"delta"`
	FinishReason *string   `json:"finish_reason"`
	Index        int       `json:"index"`
	Logprobs     *struct{} `json:"logprobs"`
}

type compatFinalChoiceRef struct {
	FinishReason string    `json:"finish_reason"`
	Delta        any       `json:"delta"`
	Index        int       `json:"index"`
	Logprobs     *struct{} `json:"logprobs"`
}

type (
	deltaFirstRef struct {
		Content string `json:"content"`
		Role    string `json:"role"`
	}
	deltaFirstThinkingRef struct {
		Content          *string `json:"content"`
		Role             string  `json:"role"`
		ReasoningContent string  `json:"reasoning_content"`
	}
	deltaReasoningRef struct {
		Content          *string `json:"content"`
		ReasoningContent string  `json:"reasoning_content"`
	}
	deltaContentRef struct {
		Content string `json:"content"`
	}
	deltaContentThinkingRef struct {
		Content          string  `json:"content"`
		ReasoningContent *string `json:"reasoning_content"`
	}
	deltaToolRef struct {
		Content   *string       `json:"content"`
		ToolCalls []toolNameRef `json:"tool_calls"`
	}
	toolNameRef struct {
		Index    int    `json:"index"`
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	}
	deltaToolArgsRef struct {
		ToolCalls []toolArgsRef `json:"tool_calls"`
	}
	toolArgsRef struct {
		Index    int    `json:"index"`
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Arguments string `json:"arguments"`
		} `json:"function"`
	}
)

// compatStreamReflect is the compatible stream of res, chunk by chunk through marshalJSON.
func compatStreamReflect(s *Server, c *call, res *result, includeUsage bool) []byte {
	var out []byte
	chunk := func(choices ...any) {
		out = compatDataFrame(out, marshalJSON(compatChunkRef{Choices: choices, Object: "chat.completion.chunk",
			Created: c.created, Model: c.modelID, ID: "chatcmpl-" + c.id}))
	}
	delta := func(idx int, d any) { chunk(compatDeltaChoiceRef{Delta: d, Index: idx}) }
	for _, ch := range res.choices {
		if c.thinking {
			chunk(compatFirstChoiceRef{Delta: deltaFirstThinkingRef{Role: "assistant"}, Index: ch.index})
		} else {
			chunk(compatFirstChoiceRef{Delta: deltaFirstRef{Role: "assistant"}, Index: ch.index})
		}
		for _, p := range streamPieces(s, ch.reasoningIDs) {
			delta(ch.index, deltaReasoningRef{ReasoningContent: p})
		}
		for _, p := range streamPieces(s, ch.ids) {
			if c.thinking {
				delta(ch.index, deltaContentThinkingRef{Content: p})
			} else {
				delta(ch.index, deltaContentRef{Content: p})
			}
		}
		for i, tc := range ch.toolCalls {
			first := toolNameRef{Index: i, ID: tc.ID, Type: "function"}
			first.Function.Name = tc.Name
			delta(ch.index, deltaToolRef{ToolCalls: []toolNameRef{first}})
			for _, p := range streamPieces(s, s.tok.Encode(tc.Arguments)) {
				frag := toolArgsRef{Index: i, Type: "function"}
				frag.Function.Arguments = p
				delta(ch.index, deltaToolArgsRef{ToolCalls: []toolArgsRef{frag}})
			}
		}
		var last any = deltaContentRef{}
		if len(ch.toolCalls) > 0 {
			last = struct{}{}
		} else if c.thinking {
			last = deltaContentThinkingRef{}
		}
		chunk(compatFinalChoiceRef{FinishReason: ch.finish, Delta: last, Index: ch.index})
	}
	if includeUsage {
		u := usageOf(c, res)
		out = compatDataFrame(out, marshalJSON(compatChunkRef{Choices: []any{}, Object: "chat.completion.chunk",
			Usage: &u, Created: c.created, Model: c.modelID, ID: "chatcmpl-" + c.id}))
	}
	return append(out, "data: [DONE]\n\n"...)
}

// The native stream event, content first, as captured.

type nativeStreamMessage struct {
	Content          string           `json:"content"`
	ReasoningContent *string          `json:"reasoning_content,omitempty"`
	Role             string           `json:"role"`
	ToolCalls        []nativeToolCall `json:"tool_calls,omitempty"`
}

type nativeStreamChoice struct {
	Message      nativeStreamMessage `json:"message"`
	FinishReason string              `json:"finish_reason"`
}

type nativeStreamOutput struct {
	Choices []nativeStreamChoice `json:"choices"`
}

type nativeStreamBody struct {
	Output    nativeStreamOutput `json:"output"`
	Usage     nativeUsage        `json:"usage"`
	RequestID string             `json:"request_id"`
}

// nativeStreamReflect is the native stream of res, event by event through marshalJSON.
func nativeStreamReflect(s *Server, c *call, res *result, opts nativeOptions) []byte {
	var out []byte
	ch := res.choices[0]
	seq, output, reasoningTokens := 0, 0, 0
	var allReasoning, allContent strings.Builder
	send := func(reasoning, content string, calls []toolCallOut, finish string, firstIndex int) {
		seq++
		if !opts.incremental {
			reasoning, content = allReasoning.String(), allContent.String()
		}
		usage := nativeUsageOf(c, output, reasoningTokens)
		var data []byte
		if opts.resultFormat == "text" {
			data = marshalJSON(nativeBody{Output: nativeOutput{FinishReason: finish, Text: &content}, Usage: usage, RequestID: c.id})
		} else {
			msg := nativeStreamMessage{Content: content, Role: "assistant", ToolCalls: nativeToolCalls(calls)}
			for i := range msg.ToolCalls {
				msg.ToolCalls[i].Index = firstIndex + i
			}
			if c.thinking {
				msg.ReasoningContent = &reasoning
			}
			choice := nativeStreamChoice{Message: msg, FinishReason: finish}
			data = marshalJSON(nativeStreamBody{Output: nativeStreamOutput{Choices: []nativeStreamChoice{choice}}, Usage: usage, RequestID: c.id})
		}
		out = nativeFrame(out, seq, "result", http.StatusOK, data)
	}
	for i, p := range streamPieces(s, ch.reasoningIDs) {
		output += streamPieceTokens(s, ch.reasoningIDs, i)
		reasoningTokens = output
		allReasoning.WriteString(p)
		send(p, "", nil, "null", 0)
	}
	for i, p := range streamPieces(s, ch.ids) {
		output += streamPieceTokens(s, ch.ids, i)
		allContent.WriteString(p)
		send("", p, nil, "null", 0)
	}
	for i, tc := range ch.toolCalls {
		send("", "", []toolCallOut{{ID: tc.ID, Name: tc.Name}}, "null", i)
		var args strings.Builder
		ids := s.tok.Encode(tc.Arguments)
		for k, p := range streamPieces(s, ids) {
			output += streamPieceTokens(s, ids, k)
			args.WriteString(p)
			if opts.incremental {
				send("", "", []toolCallOut{{Arguments: p}}, "null", i)
			} else {
				send("", "", []toolCallOut{{ID: tc.ID, Name: tc.Name, Arguments: args.String()}}, "null", i)
			}
		}
	}
	output = ch.completionTokens()
	final := ch.toolCalls
	if opts.incremental {
		final = nil
	}
	send("", "", final, ch.finish, 0)
	return out
}

// streamPieceTokens is how many of ids the i-th piece of streamPieces(s, ids) accounts for:
// the tokens since the previous piece.
func streamPieceTokens(s *Server, ids []int, i int) int {
	var pending []byte
	n, piece, last := 0, 0, 0
	for k := 0; k < len(ids); k += s.chunkBy {
		end := min(k+s.chunkBy, len(ids))
		for _, id := range ids[k:end] {
			pending = append(pending, s.tok.TokenBytes(id)...)
		}
		n = end
		if p := completeUTF8Prefix(pending); p > 0 {
			if piece == i {
				return n - last
			}
			piece, last, pending = piece+1, n, pending[p:]
		}
	}
	panic("no such piece")
}

// anthropicStreamReflect is the Anthropic stream of res, formatted and encoded the reflective
// way.
func anthropicStreamReflect(s *Server, c *call, res *result) []byte {
	var out []byte
	ch := res.choices[0]
	send := func(event string, data []byte) { out = anthropicFrame(out, event, data) }
	send("message_start", fmt.Appendf(nil, `{"type":"message_start","message":{"id":"msg_%s","type":"message","role":"assistant","model":%s,"content":[],"usage":{"input_tokens":%d,"output_tokens":0}}}`,
		c.id, marshalJSON(c.modelID), anthropicUsageOf(c, 0).InputTokens))
	index := 0
	open := func(block []byte) {
		send("content_block_start", fmt.Appendf(nil, `{"type":"content_block_start","index":%d,"content_block":%s}`, index, block))
		if index == 0 {
			send("ping", []byte(`{"type":"ping"}`))
		}
	}
	type delta struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
		Delta any    `json:"delta"`
	}
	type thinking struct {
		Type     string `json:"type"`
		Thinking string `json:"thinking"`
	}
	type text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	type partial struct {
		Type        string `json:"type"`
		PartialJSON string `json:"partial_json"`
	}
	closeBlock := func() {
		send("content_block_stop", fmt.Appendf(nil, `{"type":"content_block_stop","index":%d}`, index))
		index++
	}
	if c.thinking && len(ch.reasoningIDs) > 0 {
		open(thinkingBlock(""))
		for _, p := range streamPieces(s, ch.reasoningIDs) {
			send("content_block_delta", marshalJSON(delta{"content_block_delta", index, thinking{"thinking_delta", p}}))
		}
		send("content_block_delta", fmt.Appendf(nil, `{"type":"content_block_delta","index":%d,"delta":{"type":"signature_delta","signature":""}}`, index))
		closeBlock()
	}
	if len(ch.toolCalls) == 0 {
		open(textBlock(""))
		for _, p := range streamPieces(s, ch.ids) {
			send("content_block_delta", marshalJSON(delta{"content_block_delta", index, text{"text_delta", p}}))
		}
		closeBlock()
	}
	for _, tc := range ch.toolCalls {
		open(toolUseBlock(tc, json.RawMessage(`{}`)))
		for _, p := range streamPieces(s, s.tok.Encode(tc.Arguments)) {
			send("content_block_delta", marshalJSON(delta{"content_block_delta", index, partial{"input_json_delta", p}}))
		}
		closeBlock()
	}
	send("message_delta", fmt.Appendf(nil, `{"type":"message_delta","delta":{"stop_reason":"%s","stop_sequence":null},"usage":%s}`,
		anthropicStopReason(ch.finish), marshalJSON(anthropicUsageOf(c, res.completionTokens))))
	send("message_stop", []byte(`{"type":"message_stop"}`))
	return out
}

func TestPooledBufferBound(t *testing.T) {
	if b := pooled(make([]byte, 10, maxPooledFrame+1), maxPooledFrame); b != nil {
		t.Errorf("a buffer of %d bytes is kept", cap(b))
	}
	if b := pooled(make([]byte, 10, maxPooledFrame), maxPooledFrame); len(b) != 0 || cap(b) != maxPooledFrame {
		t.Errorf("a buffer of %d bytes comes back with len %d, cap %d", maxPooledFrame, len(b), cap(b))
	}
}

// discardSSE is a ResponseWriter that keeps nothing, for counting what a stream writer
// allocates.
type discardSSE struct{ h http.Header }

func (d discardSSE) Header() http.Header         { return d.h }
func (d discardSSE) Write(b []byte) (int, error) { return len(b), nil }
func (d discardSSE) WriteHeader(int)             {}
func (d discardSSE) Flush()                      {}

// TestStreamAllocationsPerEvent checks that the stream writers allocate nothing per event: a
// reply of ten times as many chunks costs no more allocations.
func TestStreamAllocationsPerEvent(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items: allocation counts are not the program's")
	}
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat(streamTexts[3]+" "+streamTexts[2]+" ", 20)
	ids := s.tok.Encode(text)
	w := discardSSE{h: http.Header{}}
	allocs := func(n int, thinking bool, stream func(c *call, res *result)) float64 {
		c := &call{id: "a", created: 1, modelID: "qwen3-max", ctx: context.Background(), thinking: thinking, req: &chatRequest{Stream: true}}
		ch := choiceResult{ids: ids[:n], finish: "stop"}
		if thinking {
			ch.reasoningIDs = ids[:n]
		}
		res := &result{completionTokens: ch.completionTokens(), choices: []choiceResult{ch}}
		return testing.AllocsPerRun(50, func() { stream(c, res) })
	}
	for _, tc := range []struct {
		name   string
		stream func(c *call, res *result)
	}{
		{"compatible", func(c *call, res *result) {
			c.req.Shape = compatOptions{includeUsage: true}
			s.streamCompat(w, nil, c, res)
		}},
		{"native", func(c *call, res *result) {
			c.req.Shape = nativeOptions{resultFormat: "message", incremental: true}
			s.streamNative(w, nil, c, res)
		}},
		{"anthropic", func(c *call, res *result) { anthropicShape{s}.stream(w, c, res) }},
	} {
		for _, thinking := range []bool{false, true} {
			short, long := allocs(len(ids)/10, thinking, tc.stream), allocs(len(ids), thinking, tc.stream)
			if long > short+1 {
				t.Errorf("%s (thinking %v): %.1f allocations for %d tokens, %.1f for %d", tc.name, thinking, short, len(ids)/10, long, len(ids))
			}
		}
	}
}
