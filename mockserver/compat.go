package mockserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// This file is the OpenAI-compatible wire adapter (spec/api.md §2.1, §3.1, §4): it decodes the
// request into a chatRequest and writes the core's result or *Error in the compatible shape.

// compatRequestWire is the request body of POST /compatible-mode/v1/chat/completions. Only
// fields that change the answer are decoded; unknown parameters are ignored, as the real
// service does.
type compatRequestWire struct {
	Model    *string             `json:"model"`
	Messages []compatMessageWire `json:"messages"`
	Stream   *bool               `json:"stream"`
	chatParamsWire
}

// chatParamsWire holds the generation parameters, which the compatible shape carries at the
// top level and the native shape under "parameters" (spec/api.md §2).
type chatParamsWire struct {
	StreamOptions *struct {
		IncludeUsage *bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           jsonInt             `json:"max_tokens"`
	MaxCompletionTokens jsonInt             `json:"max_completion_tokens"`
	Temperature         *float64            `json:"temperature"`
	TopP                *float64            `json:"top_p"`
	PresencePenalty     *float64            `json:"presence_penalty"`
	N                   jsonInt             `json:"n"`
	Seed                jsonInt             `json:"seed"`
	TopLogprobs         jsonInt             `json:"top_logprobs"`
	Logprobs            *bool               `json:"logprobs"`
	Stop                stopParam           `json:"stop"`
	Tools               []json.RawMessage   `json:"tools"`
	ToolChoice          json.RawMessage     `json:"tool_choice"`
	ParallelToolCalls   *bool               `json:"parallel_tool_calls"`
	ResponseFormat      *responseFormatWire `json:"response_format"`
	EnableThinking      *bool               `json:"enable_thinking"`
	ThinkingBudget      jsonInt             `json:"thinking_budget"`
}

type responseFormatWire struct {
	Type string `json:"type"`
}

type compatMessageWire struct {
	Role       string         `json:"role"`
	Content    messageContent `json:"content"`
	Partial    *bool          `json:"partial"`
	ToolCalls  []toolCallWire `json:"tool_calls"`
	ToolCallID *string        `json:"tool_call_id"`
	Name       *string        `json:"name"`
}

// toolCallWire is a tool call in an assistant message of the history.
type toolCallWire struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

func decodeCompatRequest(body []byte) (*chatRequest, *Error) {
	var w compatRequestWire
	if err := decodeStrict(body, &w); err != nil {
		return nil, decodeError(body, err)
	}
	req := &chatRequest{MessagesGiven: w.Messages != nil}
	if w.Model != nil {
		req.Model = *w.Model
	}
	if w.Stream != nil {
		req.Stream = *w.Stream
	}
	req.Messages = make([]chatMessage, len(w.Messages))
	for i, m := range w.Messages {
		msg, e := m.toMessage(i)
		if e != nil {
			return nil, e
		}
		req.Messages[i] = msg
	}
	if e := w.chatParamsWire.apply(req); e != nil {
		return nil, e
	}
	return req, nil
}

func (m compatMessageWire) toMessage(i int) (chatMessage, *Error) {
	msg := chatMessage{Role: m.Role, Content: m.Content.text, Partial: m.Partial != nil && *m.Partial,
		BlockEnds: m.Content.blockEnds, CacheMarks: m.Content.marks}
	if m.ToolCallID != nil {
		msg.ToolCallID = *m.ToolCallID
	}
	for j, tc := range m.ToolCalls {
		args := string(tc.Function.Arguments)
		if kind := jsonKind(tc.Function.Arguments); kind == "string" {
			_ = json.Unmarshal(tc.Function.Arguments, &args)
		} else if kind == "nothing" || kind == "null" {
			args = "{}"
		}
		if tc.Function.Name == "" {
			return msg, errBadRequest(fmt.Sprintf("messages[%d].tool_calls[%d]: function.name is required.", i, j))
		}
		msg.ToolCalls = append(msg.ToolCalls, historyToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: args})
	}
	return msg, nil
}

// apply copies the generation parameters into req, checking the shape of tools, tool_choice
// and response_format.
func (p *chatParamsWire) apply(req *chatRequest) *Error {
	req.MaxTokens = p.MaxTokens
	if !req.MaxTokens.set {
		req.MaxTokens = p.MaxCompletionTokens
	}
	req.N, req.Seed, req.TopLogprobs, req.ThinkingBudget = p.N, p.Seed, p.TopLogprobs, p.ThinkingBudget
	req.Temperature, req.TopP, req.PresencePenalty = p.Temperature, p.TopP, p.PresencePenalty
	req.Stop, req.StopTokens = p.Stop.strings, p.Stop.tokens
	req.EnableThinking = p.EnableThinking
	if p.StreamOptions != nil && p.StreamOptions.IncludeUsage != nil {
		req.IncludeUsage = *p.StreamOptions.IncludeUsage
	}
	if p.ParallelToolCalls != nil {
		req.ParallelToolCalls = *p.ParallelToolCalls
	}
	req.ResponseFormat = "text"
	if p.ResponseFormat != nil {
		switch p.ResponseFormat.Type {
		case "text", "json_object":
			req.ResponseFormat = p.ResponseFormat.Type
		default:
			return errBadRequest(fmt.Sprintf("response_format.type must be 'text' or 'json_object', not '%s'.", p.ResponseFormat.Type))
		}
	}
	tools, e := parseTools(p.Tools)
	if e != nil {
		return e
	}
	req.Tools = tools
	choice, e := parseToolChoice(p.ToolChoice, tools)
	if e != nil {
		return e
	}
	req.ToolChoice = choice
	return nil
}

// peekStream reports whether a body that could not be processed asked for a stream, so that
// the error goes out in the SSE form a streaming client expects.
func peekStream(body []byte) bool {
	var p struct {
		Stream bool `json:"stream"`
	}
	_ = json.Unmarshal(body, &p)
	return p.Stream
}

// readBody reads the request body up to the configured limit; larger bodies are a 413.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *Error) {
	if r.ContentLength > s.cfg.maxBodyBytes {
		return nil, errorOf("too_large")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errorOf("too_large")
		}
		return nil, errBadRequest("The request body could not be read: " + err.Error() + ".")
	}
	return body, nil
}

// compatShape is the OpenAI-compatible wire adapter.
type compatShape struct{ s *Server }

func (s *Server) handleCompatChat(w http.ResponseWriter, r *http.Request) {
	s.serveChat(w, r, compatShape{s})
}

func (compatShape) name() string { return "compatible" }

func (compatShape) streamRequested(r *http.Request, body []byte) bool { return peekStream(body) }

func (compatShape) decode(r *http.Request, body []byte) (*chatRequest, *Error) {
	return decodeCompatRequest(body)
}

func (a compatShape) writeError(w http.ResponseWriter, r *http.Request, e *Error, c *call, stream bool) {
	a.s.writeCompatError(w, r, e, c.id, stream)
}

func (a compatShape) writeResult(w http.ResponseWriter, r *http.Request, c *call, res *result) int {
	if c.req.Stream {
		return a.s.streamCompat(w, r, c, res)
	}
	a.s.writeCompatCompletion(w, c, res)
	return res.completionTokens
}

// Response bodies, with the real key order (spec/api.md §3.1): choices first, id last.

type compatCompletion struct {
	Choices           []compatChoice `json:"choices"`
	Object            string         `json:"object"`
	Usage             compatUsage    `json:"usage"`
	Created           int64          `json:"created"`
	SystemFingerprint *string        `json:"system_fingerprint"`
	Model             string         `json:"model"`
	ID                string         `json:"id"`
}

type compatChoice struct {
	Message      compatReplyMessage `json:"message"`
	FinishReason string             `json:"finish_reason"`
	Index        int                `json:"index"`
	Logprobs     *struct{}          `json:"logprobs"`
}

type compatReplyMessage struct {
	Role             string           `json:"role"`
	Content          string           `json:"content"`
	ReasoningContent *string          `json:"reasoning_content,omitempty"`
	ToolCalls        []compatToolCall `json:"tool_calls,omitempty"`
}

// compatToolCall is a tool call in the real key order (spec/api.md §3.1).
type compatToolCall struct {
	ID       string             `json:"id"`
	Type     string             `json:"type"`
	Index    int                `json:"index"`
	Function compatToolFunction `json:"function"`
}

type compatToolFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type compatUsage struct {
	PromptTokens            int                     `json:"prompt_tokens"`
	CompletionTokens        int                     `json:"completion_tokens"`
	TotalTokens             int                     `json:"total_tokens"`
	CompletionTokensDetails *compatCompletionDetail `json:"completion_tokens_details,omitempty"`
	PromptTokensDetails     promptDetails           `json:"prompt_tokens_details"`
}

type compatCompletionDetail struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// usageOf reports the tokens of a reply. Reasoning tokens are included in completion_tokens
// and also reported apart when the request ran in thinking mode (spec/api.md §3.1).
func usageOf(c *call, res *result) compatUsage {
	u := compatUsage{
		PromptTokens:        c.promptTokens,
		CompletionTokens:    res.completionTokens,
		TotalTokens:         c.promptTokens + res.completionTokens,
		PromptTokensDetails: c.cache.details(),
	}
	if c.thinking {
		u.CompletionTokensDetails = &compatCompletionDetail{ReasoningTokens: res.reasoningTokens}
	}
	return u
}

func compatToolCalls(calls []toolCallOut) []compatToolCall {
	if len(calls) == 0 {
		return nil
	}
	out := make([]compatToolCall, len(calls))
	for i, tc := range calls {
		out[i] = compatToolCall{ID: tc.ID, Type: "function", Index: i, Function: compatToolFunction{Name: tc.Name, Arguments: tc.Arguments}}
	}
	return out
}

func (s *Server) writeCompatCompletion(w http.ResponseWriter, c *call, res *result) {
	body := compatCompletion{
		Choices: make([]compatChoice, len(res.choices)),
		Object:  "chat.completion",
		Usage:   usageOf(c, res),
		Created: c.created,
		Model:   c.modelID,
		ID:      "chatcmpl-" + c.id,
	}
	for i, ch := range res.choices {
		msg := compatReplyMessage{Role: "assistant", Content: ch.text, ToolCalls: compatToolCalls(ch.toolCalls)}
		if c.thinking {
			msg.ReasoningContent = &ch.reasoning
		}
		body.Choices[i] = compatChoice{Message: msg, FinishReason: ch.finish, Index: ch.index}
	}
	setResponseHeaders(w, c.id, c.start, "application/json", true)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(marshalJSON(body))
}

// setResponseHeaders sets the headers every real response carries (spec/api.md §3.5).
func setResponseHeaders(w http.ResponseWriter, requestID string, start time.Time, contentType string, finished bool) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Request-Id", requestID)
	h.Set("X-Dashscope-Call-Gateway", "true")
	h.Set("Req-Cost-Time", strconv.FormatInt(time.Since(start).Milliseconds(), 10))
	h.Set("X-Dashscope-Finished", strconv.FormatBool(finished))
}

// compatErrorEnvelope is the compatible error body (spec/api.md §4).
type compatErrorEnvelope struct {
	Error     compatErrorObject `json:"error"`
	ID        string            `json:"id,omitempty"`
	RequestID string            `json:"request_id"`
}

type compatErrorObject struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"` // always null, as in every real capture
	Code    string  `json:"code"`
}

func compatErrorBody(e *Error, requestID string) []byte {
	env := compatErrorEnvelope{
		Error:     compatErrorObject{Message: e.CompatMessage, Type: e.CompatType, Code: e.CompatCode},
		RequestID: requestID,
	}
	if e.Backend {
		env.ID = "chatcmpl-" + requestID
	}
	return marshalJSON(env)
}

// writeCompatError answers with e in the compatible envelope and e's status. A request that
// asked for a stream gets the same envelope as one SSE event, "data: {...}" and a blank line.
func (s *Server) writeCompatError(w http.ResponseWriter, r *http.Request, e *Error, requestID string, stream bool) {
	body := compatErrorBody(e, requestID)
	if stream {
		setResponseHeaders(w, requestID, time.Now(), sseContentType, true)
		w.WriteHeader(e.Status)
		_, _ = w.Write(append(append([]byte("data: "), body...), "\n\n"...))
		return
	}
	setResponseHeaders(w, requestID, time.Now(), "application/json", true)
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// handleCompatModels lists the catalogue in the OpenAI shape.
func (s *Server) handleCompatModels(w http.ResponseWriter, r *http.Request) {
	id := s.cfg.newRequestID()
	if e := s.authenticate(r); e != nil {
		s.writeCompatError(w, r, e, id, false)
		return
	}
	type modelEntry struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	list := struct {
		Object string       `json:"object"`
		Data   []modelEntry `json:"data"`
	}{Object: "list", Data: make([]modelEntry, len(s.models.order))}
	for i, m := range s.models.order {
		list.Data[i] = modelEntry{ID: m.ID, Object: "model", Created: m.Created, OwnedBy: m.OwnedBy}
	}
	setResponseHeaders(w, id, time.Now(), "application/json", true)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(marshalJSON(list))
}
