package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// This file is the Anthropic Messages wire adapter, as DashScope serves it on
// POST /apps/anthropic/v1/messages (spec/shapes.md §A): Anthropic's request and response
// shapes with DashScope's deviations (msg_<uuid> ids, empty thinking signatures, only
// end_turn / max_tokens / tool_use, message_start usage with two fields) and, by default,
// DashScope's own error bodies. Everything between decoding and writing is the shared pipeline.

// Anthropic error bodies: DashScope's native body (the default, as the real path answers) or
// Anthropic's own envelope and statuses.
const (
	AnthropicErrorsDashScope = "dashscope"
	AnthropicErrorsAnthropic = "anthropic"
)

// WithAnthropicErrors chooses the error bodies of the Anthropic endpoint:
// AnthropicErrorsDashScope (the default: {"code","message","request_id"}, SSE-framed for
// errors raised by the model such as the context-window 400) or AnthropicErrorsAnthropic
// ({"type":"error","error":{"type","message"}} with Anthropic's statuses, e.g. 529 for
// overloaded), for clients that branch on error.type.
func WithAnthropicErrors(mode string) Option {
	return func(c *config) error {
		switch mode {
		case "", AnthropicErrorsDashScope:
			c.anthropicErrors = AnthropicErrorsDashScope
		case AnthropicErrorsAnthropic:
			c.anthropicErrors = mode
		default:
			return fmt.Errorf("WithAnthropicErrors: mode must be %q or %q, not %q", AnthropicErrorsDashScope, AnthropicErrorsAnthropic, mode)
		}
		return nil
	}
}

type anthropicShape struct{ s *Server }

// handleAnthropicMessages serves POST /apps/anthropic/v1/messages (the query string, such as
// Claude Code's ?beta=true, is ignored). The key comes from x-api-key or Authorization: Bearer.
func (s *Server) handleAnthropicMessages(w http.ResponseWriter, r *http.Request) {
	s.serveChat(w, anthropicAuth(r), anthropicShape{s})
}

// anthropicAuth lets x-api-key stand for the bearer key the pipeline reads.
func anthropicAuth(r *http.Request) *http.Request {
	if key := strings.TrimSpace(r.Header.Get("X-Api-Key")); key != "" && bearerKey(r.Header.Get("Authorization")) == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+key)
	}
	return r
}

func (anthropicShape) name() string { return "anthropic" }

func (anthropicShape) streamRequested(r *http.Request, body []byte) bool { return peekStream(body) }

// check: the shape has no rules of its own beyond decoding.
func (anthropicShape) check(*call) *Error { return nil }

// Request wire types. Unknown fields (metadata, context_management, output_config, …) are
// accepted and ignored, as Claude Code's traffic shows the real endpoint does.

type anthropicRequestWire struct {
	Model         *string                 `json:"model"`
	Messages      *[]anthropicMessageWire `json:"messages"`
	System        anthropicText           `json:"system"`
	MaxTokens     jsonInt                 `json:"max_tokens"`
	Stream        *bool                   `json:"stream"`
	Temperature   *float64                `json:"temperature"`
	TopP          *float64                `json:"top_p"`
	TopK          jsonInt                 `json:"top_k"`
	StopSequences []string                `json:"stop_sequences"`
	Thinking      *struct {
		Type         string  `json:"type"`
		BudgetTokens jsonInt `json:"budget_tokens"`
	} `json:"thinking"`
	Tools      []anthropicToolWire `json:"tools"`
	ToolChoice *struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"tool_choice"`
}

type anthropicMessageWire struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// anthropicBlock is one content block of a request message.
type anthropicBlock struct {
	Type      string          `json:"type"`
	Text      *string         `json:"text"`
	Thinking  string          `json:"thinking"`
	IsError   bool            `json:"is_error"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   anthropicText   `json:"content"`
	// CacheControl asks the explicit context cache to keep the prompt up to this block.
	CacheControl json.RawMessage `json:"cache_control"`
}

type anthropicToolWire struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
}

// anthropicText is a string or an array of text blocks ("system", tool_result "content"),
// flattened to its text as text parts are on the other endpoints.
type anthropicText struct {
	text  string
	set   bool
	cache bool // a block carried a cache_control marker
}

func (t *anthropicText) UnmarshalJSON(b []byte) error {
	switch jsonKind(b) {
	case "null":
		return nil
	case "string":
		t.set = true
		return json.Unmarshal(b, &t.text)
	case "array":
		var blocks []struct {
			Type         string          `json:"type"`
			Text         *string         `json:"text"`
			CacheControl json.RawMessage `json:"cache_control"`
		}
		if err := json.Unmarshal(b, &blocks); err != nil {
			return &wireError{"Each text block must be an object such as {\"type\": \"text\", \"text\": \"...\"}."}
		}
		var sb strings.Builder
		for i, bl := range blocks {
			if bl.Type != "text" || bl.Text == nil {
				return &wireError{fmt.Sprintf("Block %d has type '%s'; only text blocks with a 'text' field are accepted here.", i, bl.Type)}
			}
			sb.WriteString(*bl.Text)
			t.cache = t.cache || cacheMarked(bl.CacheControl)
		}
		t.set, t.text = true, sb.String()
		return nil
	}
	return &wireError{"Expected a string or an array of text blocks, but got " + article(jsonKind(b)) + "."}
}

func (a anthropicShape) decode(r *http.Request, body []byte) (*chatRequest, *Error) {
	req, e := decodeAnthropic(body)
	if e != nil {
		return nil, e
	}
	if !req.MaxTokens.set {
		return nil, errBadRequest("'max_tokens' is a required property")
	}
	return req, nil
}

// decodeAnthropic turns a Messages request into a chatRequest: system first, then each
// message; tool_result blocks become tool messages, tool_use blocks tool calls, thinking
// blocks of earlier turns are dropped. max_tokens bounds only the answer (§A.3).
func decodeAnthropic(body []byte) (*chatRequest, *Error) {
	var w anthropicRequestWire
	if err := decodeStrict(body, &w); err != nil {
		return nil, decodeError(body, err)
	}
	req := &chatRequest{MessagesGiven: w.Messages != nil, ResponseFormat: "text", AnswerOnlyMaxTokens: true, SystemAnywhere: true, ParallelToolCalls: true}
	if w.Model != nil {
		req.Model = *w.Model
	}
	if w.Stream != nil {
		req.Stream = *w.Stream
	}
	req.MaxTokens, req.Temperature, req.TopP, req.Stop = w.MaxTokens, w.Temperature, w.TopP, w.StopSequences
	if w.TopK.set && w.TopK.v < 0 {
		return nil, errInvalidParameter("Parameter top_k be greater than or equal to 0")
	}
	if w.System.set && w.Messages != nil && len(*w.Messages) > 0 {
		sys := chatMessage{Role: "system", Content: w.System.text}
		if w.System.cache {
			sys.Parts = []messagePart{{Type: "text", Text: w.System.text, Cache: true}}
		}
		req.Messages = append(req.Messages, sys)
	}
	if w.Messages != nil {
		for i, m := range *w.Messages {
			msgs, e := m.toMessages(i)
			if e != nil {
				return nil, e
			}
			req.Messages = append(req.Messages, msgs...)
		}
	}
	if t := w.Thinking; t != nil {
		switch t.Type {
		case "enabled":
			on := true
			req.EnableThinking = &on
			req.ThinkingBudget = t.BudgetTokens
		case "disabled":
			off := false
			req.EnableThinking = &off
		case "adaptive":
			// The model's own default.
		default:
			return nil, errBadRequest(fmt.Sprintf("thinking.type must be 'enabled', 'disabled' or 'adaptive', not '%s'.", t.Type))
		}
	}
	var tools []toolDef
	seen := map[string]bool{}
	for i, t := range w.Tools {
		if t.Type != "" && t.Type != "custom" {
			continue // server tools are not served on this endpoint
		}
		if t.Name == "" || seen[t.Name] {
			return nil, errBadRequest(fmt.Sprintf("tools[%d]: each tool needs a name of its own.", i))
		}
		seen[t.Name] = true
		schema := t.InputSchema
		if k := jsonKind(schema); k == "nothing" || k == "null" {
			schema = json.RawMessage(`{"type": "object"}`)
		} else if k != "object" {
			return nil, errBadRequest(fmt.Sprintf("tools[%d].input_schema must be a JSON Schema object.", i))
		}
		desc := ""
		if t.Description != nil {
			desc = *t.Description
		}
		// Built as a compatible tool, so that it renders (and counts) the same.
		tools = append(tools, newToolDef(t.Name, desc, schema))
	}
	req.Tools = tools
	var choice json.RawMessage
	if tc := w.ToolChoice; tc != nil {
		switch tc.Type {
		case "auto", "none":
			choice = marshalJSON(tc.Type)
		case "any":
			choice = marshalJSON("required")
		case "tool":
			choice = marshalJSON(map[string]any{"type": "function", "function": map[string]string{"name": tc.Name}})
		default:
			return nil, errBadRequest(fmt.Sprintf("tool_choice.type must be 'auto', 'any', 'tool' or 'none', not '%s'.", tc.Type))
		}
	}
	var e *Error
	if req.ToolChoice, e = parseToolChoice(choice, tools); e != nil {
		return nil, e
	}
	return req, nil
}

// toMessages maps one request message to the core's messages.
func (m anthropicMessageWire) toMessages(i int) ([]chatMessage, *Error) {
	if m.Role != "user" && m.Role != "assistant" && m.Role != "system" {
		return nil, errBadRequest(fmt.Sprintf("messages[%d].role must be 'user' or 'assistant', not '%s'.", i, m.Role))
	}
	switch jsonKind(m.Content) {
	case "string":
		var s string
		_ = json.Unmarshal(m.Content, &s)
		return []chatMessage{{Role: m.Role, Content: s}}, nil
	case "array":
	default:
		return nil, errBadRequest(fmt.Sprintf("messages[%d].content must be a string or an array of content blocks.", i))
	}
	var blocks []anthropicBlock
	if err := json.Unmarshal(m.Content, &blocks); err != nil {
		var ce *wireError
		if errors.As(err, &ce) {
			return nil, errBadRequest(fmt.Sprintf("messages[%d]: %s", i, ce.msg))
		}
		return nil, errBadRequest(fmt.Sprintf("messages[%d].content: each block must be an object with a 'type'.", i))
	}
	var text, reasoning strings.Builder
	var parts []messagePart
	var calls []historyToolCall
	var results []chatMessage
	for j, b := range blocks {
		switch b.Type {
		case "text":
			if b.Text == nil {
				return nil, errBadRequest(fmt.Sprintf("messages[%d].content[%d]: a text block needs 'text'.", i, j))
			}
			text.WriteString(*b.Text)
			parts = append(parts, messagePart{Type: "text", Text: *b.Text, Cache: cacheMarked(b.CacheControl)})
		case "tool_use":
			if m.Role != "assistant" || b.Name == "" {
				return nil, errBadRequest(fmt.Sprintf("messages[%d].content[%d]: tool_use blocks belong to assistant messages and need a name.", i, j))
			}
			args := "{}"
			if k := jsonKind(b.Input); k != "nothing" && k != "null" {
				args = pythonJSON(b.Input)
			}
			calls = append(calls, historyToolCall{ID: b.ID, Name: b.Name, Arguments: args})
		case "tool_result":
			if m.Role != "user" {
				return nil, errBadRequest(fmt.Sprintf("messages[%d].content[%d]: tool_result blocks belong to user messages.", i, j))
			}
			results = append(results, chatMessage{Role: "tool", Content: b.Content.text, ToolCallID: b.ToolUseID, ToolError: b.IsError})
		case "thinking":
			reasoning.WriteString(b.Thinking)
		case "redacted_thinking":
		default:
			return nil, errBadRequest(fmt.Sprintf("messages[%d].content[%d] has type '%s'; this model accepts text, tool_use and tool_result blocks.", i, j, b.Type))
		}
	}
	if len(results) > 0 {
		// Text beside tool results continues the same turn.
		if text.Len() > 0 {
			results[len(results)-1].Content += "\n" + text.String()
		}
		return results, nil
	}
	return []chatMessage{{Role: m.Role, Content: text.String(), Parts: parts, Reasoning: reasoning.String(), ToolCalls: calls}}, nil
}

// Errors.

// anthropicError is one row of the Anthropic envelope's table: Anthropic's status and error
// type for a kind. The message is the native one, as DashScope words it.
type anthropicError struct {
	status int
	typ    string
}

// anthropicErrorTable maps every kind to Anthropic's statuses and types
// (https://docs.anthropic.com/en/api/errors); 503 becomes 529 overloaded_error.
var anthropicErrorTable = map[string]anthropicError{
	"no_api_key":             {http.StatusUnauthorized, "authentication_error"},
	"invalid_api_key":        {http.StatusUnauthorized, "authentication_error"},
	"rate_limit_requests":    {http.StatusTooManyRequests, "rate_limit_error"},
	"rate_limit_tokens":      {http.StatusTooManyRequests, "rate_limit_error"},
	"burst":                  {http.StatusTooManyRequests, "rate_limit_error"},
	"data_inspection":        {http.StatusBadRequest, "invalid_request_error"},
	"data_inspection_output": {http.StatusBadRequest, "invalid_request_error"},
	"arrearage":              {http.StatusPaymentRequired, "billing_error"},
	"free_tier_exhausted":    {http.StatusForbidden, "permission_error"},
	"internal":               {http.StatusInternalServerError, "api_error"},
	"overloaded":             {529, "overloaded_error"},
	"timeout":                {http.StatusGatewayTimeout, "timeout_error"},
	"too_large":              {http.StatusRequestEntityTooLarge, "request_too_large"},
	"missing_model":          {http.StatusBadRequest, "invalid_request_error"},
	"empty_messages":         {http.StatusBadRequest, "invalid_request_error"},
	"json_mode_without_json": {http.StatusBadRequest, "invalid_request_error"},
	"invalid_parameter":      {http.StatusBadRequest, "invalid_request_error"},
	"bad_request":            {http.StatusBadRequest, "invalid_request_error"},
	"context_length":         {http.StatusBadRequest, "invalid_request_error"},
	"model_not_found":        {http.StatusNotFound, "not_found_error"},
	"not_found":              {http.StatusNotFound, "not_found_error"},
	"method_not_allowed":     {http.StatusMethodNotAllowed, "invalid_request_error"},
	"invalid_value":          {http.StatusBadRequest, "invalid_request_error"},
	"algo_invalid_parameter": {http.StatusBadRequest, "invalid_request_error"},
	"url_error":              {http.StatusBadRequest, "invalid_request_error"},
	"async_not_supported":    {http.StatusForbidden, "permission_error"},
}

// anthropicErrorOf looks up e's row; the mock's own conditions keep their status.
func anthropicErrorOf(e *Error) anthropicError {
	if isMockKind(e.Kind) {
		if e.Status == http.StatusUnauthorized {
			return anthropicError{e.Status, "authentication_error"}
		}
		return anthropicError{e.Status, "invalid_request_error"}
	}
	row, ok := anthropicErrorTable[e.Kind]
	if !ok {
		panic("mockserver: the Anthropic shape has no row for error kind " + e.Kind)
	}
	return row
}

// errorBody returns the status, body and whether it goes out SSE-framed. By default the body
// is DashScope's native one, and the model's own 400s (the context window, parameter ranges)
// are framed as an event:error even on a non-stream call, as the real path answers. With
// AnthropicErrorsAnthropic it is Anthropic's envelope with Anthropic's status.
func (a anthropicShape) errorBody(e *Error, requestID string) (int, []byte, bool) {
	if a.s.cfg.anthropicErrors == AnthropicErrorsAnthropic {
		row := anthropicErrorOf(e)
		type object struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		}
		return row.status, marshalJSON(struct {
			Type      string `json:"type"`
			Error     object `json:"error"`
			RequestID string `json:"request_id"`
		}{"error", object{row.typ, expandMessage(nativeErrorOf(e).message, e.Args)}, requestID}), false
	}
	framed := e.Kind == "context_length" || e.Kind == "invalid_parameter"
	return e.Status, nativeErrorBody(e, requestID), framed
}

func anthropicFrame(dst []byte, event string, data []byte) []byte {
	dst = append(dst, "event:"...)
	dst = append(dst, event...)
	dst = append(dst, "\ndata:"...)
	dst = append(dst, data...)
	return append(dst, "\n\n"...)
}

func (a anthropicShape) writeError(w http.ResponseWriter, r *http.Request, e *Error, c *call, stream bool) {
	status, body, framed := a.errorBody(e, c.id)
	c.setHeaders(w, c.start, contentTypeOf(framed), true)
	w.WriteHeader(status)
	if framed {
		body = anthropicFrame(nil, "error", body)
	}
	_, _ = w.Write(body)
}

// Responses.

type anthropicUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// anthropicUsageOf is the usage of a call as Anthropic counts it: input_tokens leaves out
// the tokens read from and written to the context cache, which have fields of their own.
func anthropicUsageOf(c *call, output int) anthropicUsage {
	read, created := c.cache.cachedTokens(), c.cache.created
	return anthropicUsage{InputTokens: max(c.promptTokens-read-created, 0), OutputTokens: output,
		CacheCreationInputTokens: created, CacheReadInputTokens: read}
}

type anthropicMessage struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	Role         string            `json:"role"`
	Model        string            `json:"model"`
	Content      []json.RawMessage `json:"content"`
	StopReason   string            `json:"stop_reason"`
	StopSequence *string           `json:"stop_sequence"`
	Usage        anthropicUsage    `json:"usage"`
}

func anthropicStopReason(finish string) string {
	switch finish {
	case "length":
		return "max_tokens"
	case "tool_calls":
		return "tool_use"
	}
	return "end_turn"
}

// anthropicToolID turns the core's call_<24 hex> into toolu_<24 hex>.
func anthropicToolID(id string) string { return "toolu_" + strings.TrimPrefix(id, "call_") }

func thinkingBlock(text string) []byte {
	return marshalJSON(struct {
		Type      string `json:"type"`
		Thinking  string `json:"thinking"`
		Signature string `json:"signature"`
	}{"thinking", text, ""})
}

func textBlock(text string) []byte {
	return marshalJSON(struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}{"text", text})
}

func toolUseBlock(tc toolCallOut, input json.RawMessage) []byte {
	return marshalJSON(struct {
		Type  string          `json:"type"`
		ID    string          `json:"id"`
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
	}{"tool_use", anthropicToolID(tc.ID), tc.Name, input})
}

// toolInput is the arguments as a JSON object; a call cut short has none.
func toolInput(args string) json.RawMessage {
	if json.Valid([]byte(args)) {
		return json.RawMessage(args)
	}
	return json.RawMessage(`{}`)
}

func (a anthropicShape) writeResult(w http.ResponseWriter, r *http.Request, c *call, res *result) (int, bool) {
	if c.req.Stream {
		return a.stream(w, c, res)
	}
	ch := res.choices[0]
	msg := anthropicMessage{ID: "msg_" + c.id, Type: "message", Role: "assistant", Model: c.modelID,
		StopReason: anthropicStopReason(ch.finish),
		Usage:      anthropicUsageOf(c, res.completionTokens)}
	if c.thinking && ch.reasoning != "" {
		msg.Content = append(msg.Content, thinkingBlock(ch.reasoning))
	}
	if len(ch.toolCalls) == 0 {
		msg.Content = append(msg.Content, textBlock(ch.text))
	}
	for _, tc := range ch.toolCalls {
		msg.Content = append(msg.Content, toolUseBlock(tc, toolInput(tc.Arguments)))
	}
	c.setHeaders(w, c.start, "application/json", true)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(marshalJSON(msg))
	return res.completionTokens, false
}

// stream writes DashScope's Anthropic stream (§A.6): message_start with two usage fields and
// no stop keys, a ping after the first block opens, each block as start / deltas / stop
// (thinking ends with an empty signature_delta; tool input arrives as input_json_delta
// fragments), message_delta with the four usage fields, message_stop. It returns the
// completion tokens delivered and whether the stream_drop fault cut the stream.
func (a anthropicShape) stream(w http.ResponseWriter, c *call, res *result) (int, bool) {
	st := newSSEWriter(w, c, func(c *call, e *Error, _ int) []byte {
		_, body, _ := a.errorBody(e, c.id)
		return anthropicFrame(nil, "error", body)
	})
	defer st.release()
	s := a.s
	ch := res.choices[0]
	// begin starts a frame in st's buffer; end writes it.
	begin := func(event string) []byte {
		b := append(st.frame(), "event:"...)
		b = append(b, event...)
		return append(b, "\ndata:"...)
	}
	end := func(b []byte) { st.send(append(b, "\n\n"...)) }
	b := begin("message_start")
	b = append(b, `{"type":"message_start","message":{"id":"msg_`...)
	b = append(b, c.id...)
	b = append(b, `","type":"message","role":"assistant","model":`...)
	b = appendJSONString(b, c.modelID)
	b = append(b, `,"content":[],"usage":{"input_tokens":`...)
	b = strconv.AppendInt(b, int64(anthropicUsageOf(c, 0).InputTokens), 10)
	end(append(b, `,"output_tokens":0}}}`...))

	index, sent := 0, 0
	open := func(block []byte) {
		b := append(begin("content_block_start"), `{"type":"content_block_start","index":`...)
		b = strconv.AppendInt(b, int64(index), 10)
		b = append(b, `,"content_block":`...)
		b = append(b, block...)
		end(append(b, '}'))
		if index == 0 {
			end(append(begin("ping"), `{"type":"ping"}`...))
		}
	}
	// delta starts a content_block_delta frame up to the delta's type.
	delta := func() []byte {
		b := append(begin("content_block_delta"), `{"type":"content_block_delta","index":`...)
		b = strconv.AppendInt(b, int64(index), 10)
		return append(b, `,"delta":{"type":`...)
	}
	deltas := func(ids []int, kind, field string) {
		s.eachChunk(st, ids, func(n int, piece []byte) {
			b := appendJSONString(delta(), kind)
			b = append(b, ',')
			b = appendJSONString(b, field)
			b = append(b, ':')
			b = appendJSONString(b, piece)
			end(append(b, "}}"...))
			if st.err == nil {
				sent += n
			}
		})
	}
	closeBlock := func() {
		b := append(begin("content_block_stop"), `{"type":"content_block_stop","index":`...)
		b = strconv.AppendInt(b, int64(index), 10)
		end(append(b, '}'))
		index++
	}
	if c.thinking && len(ch.reasoningIDs) > 0 {
		open(thinkingBlock(""))
		deltas(ch.reasoningIDs, "thinking_delta", "thinking")
		end(append(delta(), `"signature_delta","signature":""}}`...))
		closeBlock()
	}
	if len(ch.toolCalls) == 0 {
		open(textBlock(""))
		deltas(ch.ids, "text_delta", "text")
		closeBlock()
	}
	for _, tc := range ch.toolCalls {
		open(toolUseBlock(tc, json.RawMessage(`{}`)))
		deltas(s.tok.Encode(tc.Arguments), "input_json_delta", "partial_json")
		closeBlock()
	}
	if st.err != nil {
		return sent, st.dropped()
	}
	sent = res.completionTokens
	u := anthropicUsageOf(c, sent)
	b = append(begin("message_delta"), `{"type":"message_delta","delta":{"stop_reason":`...)
	b = appendJSONString(b, anthropicStopReason(ch.finish))
	b = append(b, `,"stop_sequence":null},"usage":{"input_tokens":`...)
	b = strconv.AppendInt(b, int64(u.InputTokens), 10)
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, int64(u.OutputTokens), 10)
	b = append(b, `,"cache_creation_input_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CacheCreationInputTokens), 10)
	b = append(b, `,"cache_read_input_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CacheReadInputTokens), 10)
	end(append(b, "}}"...))
	end(append(begin("message_stop"), `{"type":"message_stop"}`...))
	return sent, st.dropped()
}

// handleAnthropicCountTokens serves POST /apps/anthropic/v1/messages/count_tokens:
// {"input_tokens": N}, counted as the input_tokens of the same request's usage. DashScope does
// not document this route; its body follows Anthropic's.
func (s *Server) handleAnthropicCountTokens(w http.ResponseWriter, r *http.Request) {
	r = anthropicAuth(r)
	a := anthropicShape{s}
	c := s.newCall(r)
	fail := func(e *Error) { a.writeError(w, r, e, c, false) }
	body, release, e := s.readBody(w, r)
	defer release()
	if e != nil {
		fail(e)
		return
	}
	if e := s.authenticate(r); e != nil {
		fail(e)
		return
	}
	req, e := decodeAnthropic(body)
	if e != nil {
		fail(e)
		return
	}
	if req.Model == "" {
		fail(errorOf("missing_model"))
		return
	}
	m, ok := s.models.lookup(req.Model)
	if !ok {
		fail(errModelNotFound(req.Model))
		return
	}
	if len(req.Messages) == 0 {
		fail(errorOf("empty_messages"))
		return
	}
	n, over := s.countPrompt(req, m.MaxInputTokens)
	if over {
		fail(errContextLength(m.MaxInputTokens))
		return
	}
	c.setHeaders(w, c.start, "application/json", true)
	w.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	buf.WriteString(`{"input_tokens":`)
	buf.WriteString(strconv.Itoa(n))
	buf.WriteString(`}`)
	_, _ = w.Write(buf.Bytes())
}
