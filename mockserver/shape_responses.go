package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
)

// This file is the OpenAI Responses wire adapter as DashScope serves it
// (https://help.aliyun.com/zh/model-studio/qwen-api-via-openai-responses):
// POST /compatible-mode/v1/responses and GET /compatible-mode/v1/responses/{id}, also under
// the legacy prefix /api/v2/apps/protocols/compatible-mode/v1. The endpoint is stateful:
// responses are kept (store, default true) so that previous_response_id can rebuild the
// conversation and GET can return them. Errors are the flat DashScope body
// {"request_id","code","message"}; a stream that fails before its first event is HTTP 200 with
// one response.failed event, as the real service answers.

// responsesShape is the Responses wire adapter, one per request.
type responsesShape struct {
	s *Server
	// model is the body's model, read with stream before decoding, so that a stream that
	// fails before its request is decoded still names it in response.failed.
	model string
}

// Response ids: "resp_<uuid>" (what the service answered in 2026) or a bare UUID (what its
// documentation shows), chosen with WithResponsesID.
const (
	ResponsesIDPrefixed = "resp"
	ResponsesIDUUID     = "uuid"
)

// WithResponsesID sets the form of Responses ids: ResponsesIDPrefixed ("resp_<uuid>", the
// default) or ResponsesIDUUID (a bare UUID). Both are accepted as previous_response_id.
func WithResponsesID(form string) Option {
	return func(c *config) error {
		switch form {
		case ResponsesIDPrefixed, ResponsesIDUUID:
			c.responsesID = form
			return nil
		}
		return fmt.Errorf("WithResponsesID: %q is not resp or uuid", form)
	}
}

// The bounds of the response store: at most this many responses and this many bytes (the
// stored bodies plus the text of their conversations); the oldest go first. A response whose
// own size passes the byte bound is not kept. Responses older than responsesTTL of server
// clock are gone.
const (
	responsesStoreMaxEntries = 10000
	responsesStoreMaxBytes   = 64 << 20
	responsesTTL             = 7 * 24 * time.Hour
	// The session cache (x-dashscope-session-cache: enable) keeps a context of at least
	// sessionCacheMinTokens for sessionCacheTTL, renewed on each hit.
	sessionCacheMinTokens = 1024
	sessionCacheTTL       = 5 * time.Minute
)

func (s *Server) handleResponses(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeResponsesError(w, errMethodNotAllowed(r.Method, r.URL.Path), s.cfg.newRequestID())
		return
	}
	s.serveChat(w, r, &responsesShape{s: s})
}

// handleGetResponse answers GET …/responses/{id} with the stored response.
func (s *Server) handleGetResponse(w http.ResponseWriter, r *http.Request) {
	id := s.cfg.newRequestID()
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeResponsesError(w, errMethodNotAllowed(r.Method, r.URL.Path), id)
		return
	}
	if e := s.authenticate(r); e != nil {
		writeResponsesError(w, e, id)
		return
	}
	entry := s.responses.get(mux.Vars(r)["id"], s.clock.Now())
	if entry == nil {
		writeResponsesError(w, errNotFound(r.Method, r.URL.Path), id)
		return
	}
	setResponseHeaders(w, id, time.Now(), "application/json", true)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(entry.body)
}

// handleResponsesNotFound answers an unknown path under …/responses/.
func (s *Server) handleResponsesNotFound(w http.ResponseWriter, r *http.Request) {
	writeResponsesError(w, errNotFound(r.Method, r.URL.Path), s.cfg.newRequestID())
}

func (responsesShape) name() string { return "responses" }

func (a *responsesShape) streamRequested(r *http.Request, body []byte) bool {
	var p struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(body, &p)
	a.model = p.Model
	return peekStream(body)
}

// responsesOptions are what only this shape knows of a request, carried on the chatRequest.
type responsesOptions struct {
	fields       map[string]json.RawMessage // the request's top-level fields, as sent
	store        bool
	previous     string          // previous_response_id
	history      []chatMessage   // the conversation without this request's instructions
	prevEntry    *storedResponse // the response previous_response_id named
	sessionCache bool            // x-dashscope-session-cache: enable
	instructions *string         // instructions, inserted as the system message
	effort       *string         // reasoning.effort
	summary      json.RawMessage // reasoning.summary, echoed
	maxOutput    *int            // max_output_tokens
	tools        json.RawMessage // tools as sent, echoed
	toolChoice   json.RawMessage // tool_choice as sent, echoed
	known        map[string]bool // fields the shape interprets (the rest are echoed as sent)
}

func responsesOptionsOf(c *call) *responsesOptions {
	o, _ := c.req.Shape.(*responsesOptions)
	if o == nil {
		return &responsesOptions{}
	}
	return o
}

// reasoningEfforts are the values reasoning.effort accepts.
var reasoningEfforts = []string{"none", "minimal", "low", "medium", "high", "xhigh", "max"}

// responsesKnown are the request fields the shape interprets; every other field is accepted,
// ignored and echoed in the answer, as the real service does.
var responsesKnown = map[string]bool{
	"model": true, "input": true, "instructions": true, "previous_response_id": true,
	"conversation": true, "store": true, "stream": true, "tools": true, "tool_choice": true,
	"temperature": true, "top_p": true, "max_output_tokens": true, "reasoning": true,
	"enable_thinking": true, "parallel_tool_calls": true, "metadata": true,
}

func (a responsesShape) decode(r *http.Request, body []byte) (*chatRequest, *Error) {
	var fields map[string]json.RawMessage
	if err := decodeStrict(body, &fields); err != nil {
		return nil, decodeError(body, err)
	}
	if fields == nil {
		return nil, errBadRequest("The request body must be a JSON object, not null.")
	}
	opts := &responsesOptions{fields: fields, store: true, known: responsesKnown,
		sessionCache: strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Dashscope-Session-Cache")), "enable")}
	req := &chatRequest{MessagesGiven: true, ResponseFormat: "text", ToolChoice: toolChoice{Mode: "auto"}, Shape: opts}

	str := func(key string) (*string, *Error) {
		raw, ok := fields[key]
		if !ok || jsonKind(raw) == "null" {
			return nil, nil
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return nil, errBadRequest(fmt.Sprintf("Invalid type for '%s': expected a string, but got %s instead.", key, article(jsonKind(raw))))
		}
		return &v, nil
	}
	model, e := str("model")
	if e != nil {
		return nil, e
	}
	if model != nil {
		req.Model = *model
		if _, ok := a.s.models.lookup(*model); !ok && *model != "" {
			return nil, errBadRequest("Unsupported model: '" + *model + "'")
		}
	}
	if raw, ok := fields["stream"]; ok && jsonKind(raw) != "null" {
		if json.Unmarshal(raw, &req.Stream) != nil {
			return nil, errBadRequest("Invalid 'stream': " + rawText(raw) + ". Must be a boolean.")
		}
	}
	if raw, ok := fields["store"]; ok && jsonKind(raw) != "null" {
		if json.Unmarshal(raw, &opts.store) != nil {
			return nil, errBadRequest("Invalid 'store': " + rawText(raw) + ". Must be a boolean.")
		}
	}
	if opts.instructions, e = str("instructions"); e != nil {
		return nil, e
	}
	prev, e := str("previous_response_id")
	if e != nil {
		return nil, e
	}
	if prev != nil && *prev != "" {
		if conv, ok := fields["conversation"]; ok && jsonKind(conv) != "null" {
			return nil, errBadRequest("Mutually exclusive parameters: Ensure you are only providing one of: previous_response_id or conversation.")
		}
		entry := a.s.responses.get(*prev, a.s.clock.Now())
		if entry == nil {
			return nil, errBadRequest("Not found previous_response_id: " + *prev)
		}
		opts.previous, opts.prevEntry = *prev, entry
		opts.history = entry.history
	}

	// Parameters, with the texts of the real service's checks.
	if raw, ok := fields["temperature"]; ok && jsonKind(raw) != "null" {
		v, err := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
		if err != nil || !(v >= 0 && v < 2) {
			t := rawText(raw)
			return nil, errBadRequest("Invalid 'temperature': " + t + ". Expected a value between [0,2), but got " + t + " instead.")
		}
		req.Temperature = &v
	}
	if raw, ok := fields["top_p"]; ok && jsonKind(raw) != "null" {
		v, err := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
		if err != nil || !(v > 0 && v <= 1) {
			t := rawText(raw)
			return nil, errBadRequest("Invalid 'top_p': " + t + ". Expected a value between (0,1], but got " + t + " instead.")
		}
		req.TopP = &v
	}
	if raw, ok := fields["max_output_tokens"]; ok && jsonKind(raw) != "null" {
		var n jsonInt
		if err := n.UnmarshalJSON(bytes.TrimSpace(raw)); err != nil {
			return nil, errBadRequest("Invalid type for 'max_output_tokens': expected an integer, but got " + article(jsonKind(raw)) + " instead.")
		}
		if n.v < 16 {
			return nil, errBadRequest(fmt.Sprintf("Invalid 'max_output_tokens': must be greater than or equal to 16, got %s.", rawText(raw)))
		}
		req.MaxTokens = n
		v := int(n.v)
		opts.maxOutput = &v
	}
	if raw, ok := fields["enable_thinking"]; ok && jsonKind(raw) != "null" {
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return nil, errBadRequest("Invalid 'enable_thinking': " + rawText(raw) + ". Must be a boolean.")
		}
		req.EnableThinking = &b
	}
	if raw, ok := fields["reasoning"]; ok && jsonKind(raw) == "object" {
		var rw struct {
			Effort  json.RawMessage `json:"effort"`
			Summary json.RawMessage `json:"summary"`
		}
		_ = json.Unmarshal(raw, &rw)
		opts.summary = rw.Summary
		if k := jsonKind(rw.Effort); k != "nothing" && k != "null" {
			var effort string
			_ = json.Unmarshal(rw.Effort, &effort)
			valid := false
			for _, v := range reasoningEfforts {
				valid = valid || v == effort
			}
			if !valid {
				return nil, errBadRequest("Invalid 'reasoning.effort': " + rawText(rw.Effort) + ". Supported values are: ('none','minimal','low','medium','high','xhigh','max').")
			}
			on := effort != "none" // reasoning.effort takes priority over enable_thinking
			req.EnableThinking = &on
			opts.effort = &effort
		}
	}
	if raw, ok := fields["parallel_tool_calls"]; ok {
		_ = json.Unmarshal(raw, &req.ParallelToolCalls)
	}

	tools, e := responsesTools(fields["tools"])
	if e != nil {
		return nil, e
	}
	opts.tools = fields["tools"]
	opts.toolChoice = fields["tool_choice"]
	req.Tools = tools
	if req.ToolChoice, req.Tools, e = responsesToolChoice(fields["tool_choice"], tools); e != nil {
		return nil, e
	}

	raw, ok := fields["input"]
	if !ok || jsonKind(raw) == "null" {
		return nil, errBadRequest("Missing required parameter: 'input'.")
	}
	input, e := decodeResponsesInput(raw, opts.history)
	if e != nil {
		return nil, e
	}
	if opts.instructions != nil && *opts.instructions != "" {
		req.Messages = append(req.Messages, chatMessage{Role: "system", Content: *opts.instructions})
	}
	req.Messages = append(req.Messages, opts.history...)
	req.Messages = append(req.Messages, input...)
	return req, nil
}

// rawText is a JSON value as the service quotes it in messages: strings without quotes.
func rawText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(raw))
}

// responsesTools reads the function tools of a request. Tools are flat
// ({"type":"function","name",…}); the chat form {"type":"function","function":{…}} is the
// model backend's 400. Other tool types are not validated: they are accepted and echoed, and
// the model does not call them.
func responsesTools(raw json.RawMessage) ([]toolDef, *Error) {
	if k := jsonKind(raw); k == "nothing" || k == "null" {
		return nil, nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil, errBadRequest("Invalid type for 'tools': expected an array, but got " + article(jsonKind(raw)) + " instead.")
	}
	var tools []toolDef
	for i, r := range list {
		var w struct {
			Type        string          `json:"type"`
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
			Function    json.RawMessage `json:"function"`
		}
		if json.Unmarshal(r, &w) != nil {
			return nil, errBadRequest(fmt.Sprintf("Invalid type for 'tools[%d]': expected an object, but got %s instead.", i, article(jsonKind(r))))
		}
		if w.Type != "function" {
			continue
		}
		if w.Function != nil {
			return nil, errBadRequest(algoParamPrefix + "The parameters, when provided as a dict, must confirm to a valid openai-compatible JSON schema.")
		}
		if w.Name == "" {
			return nil, errBadRequest(fmt.Sprintf("Missing required parameter: 'tools[%d].name'.", i))
		}
		params := w.Parameters
		if k := jsonKind(params); k == "null" || k == "nothing" {
			params = nil
		}
		tools = append(tools, newToolDef(w.Name, w.Description, params))
	}
	return tools, nil
}

// responsesToolChoice reads tool_choice: "auto", "none", "required", a function
// {"type":"function","name"}, or {"type":"allowed_tools","mode","tools":[…]}, which leaves
// the model only the tools it lists.
func responsesToolChoice(raw json.RawMessage, tools []toolDef) (toolChoice, []toolDef, *Error) {
	switch jsonKind(raw) {
	case "nothing", "null":
		return toolChoice{Mode: "auto"}, tools, nil
	case "string":
		var s string
		_ = json.Unmarshal(raw, &s)
		switch s {
		case "auto", "none", "required":
			return toolChoice{Mode: s}, tools, nil
		}
		return toolChoice{}, nil, errBadRequest("Invalid 'tool_choice': " + s + ". Supported values are: ('auto','none','required').")
	case "object":
		var w struct {
			Type  string `json:"type"`
			Name  string `json:"name"`
			Mode  string `json:"mode"`
			Tools []struct {
				Type string `json:"type"`
				Name string `json:"name"`
			} `json:"tools"`
		}
		_ = json.Unmarshal(raw, &w)
		switch w.Type {
		case "function":
			for _, t := range tools {
				if t.Name == w.Name {
					return toolChoice{Mode: "function", Name: t.Name}, tools, nil
				}
			}
			return toolChoice{}, nil, errBadRequest("Invalid 'tool_choice': the function '" + w.Name + "' is not in tools.")
		case "allowed_tools":
			mode := w.Mode
			if mode == "" {
				mode = "auto"
			}
			if mode != "auto" && mode != "required" {
				return toolChoice{}, nil, errBadRequest("Invalid 'tool_choice.mode': " + w.Mode + ". Supported values are: ('auto','required').")
			}
			var allowed []toolDef
			for _, a := range w.Tools {
				for _, t := range tools {
					if t.Name == a.Name {
						allowed = append(allowed, t)
					}
				}
			}
			if len(allowed) == 0 {
				return toolChoice{Mode: "none"}, tools, nil
			}
			return toolChoice{Mode: mode}, allowed, nil
		}
	}
	return toolChoice{}, nil, errBadRequest("Invalid 'tool_choice': expected 'auto', 'none', 'required' or an object with a type of 'function' or 'allowed_tools'.")
}

// responsesItemWire is one input item. A message may leave out "type".
type responsesItemWire struct {
	Type      string          `json:"type"`
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	CallID    string          `json:"call_id"`
	Output    json.RawMessage `json:"output"`
	Summary   []struct {
		Text string `json:"text"`
	} `json:"summary"`
}

// decodeResponsesInput turns input (a string or items) into the core's messages: a message
// item is a message (developer becomes system), function_call items join the assistant turn
// before them, function_call_output is a tool message, and a reasoning item is the Reasoning of
// the assistant turn that follows it.
func decodeResponsesInput(raw json.RawMessage, history []chatMessage) ([]chatMessage, *Error) {
	if jsonKind(raw) == "string" {
		var s string
		_ = json.Unmarshal(raw, &s)
		return []chatMessage{{Role: "user", Content: s}}, nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, errBadRequest("Invalid type for 'input': expected a string or an array, but got " + article(jsonKind(raw)) + " instead.")
	}
	calls := map[string]bool{}
	for _, m := range history {
		for _, tc := range m.ToolCalls {
			calls[tc.ID] = true
		}
	}
	var msgs []chatMessage
	reasoning := ""
	assistant := func() *chatMessage {
		if n := len(msgs); n > 0 && msgs[n-1].Role == "assistant" && len(msgs[n-1].ToolCalls) > 0 {
			return &msgs[n-1]
		}
		msgs = append(msgs, chatMessage{Role: "assistant", Reasoning: reasoning})
		reasoning = ""
		return &msgs[len(msgs)-1]
	}
	for i, r := range items {
		var it responsesItemWire
		if json.Unmarshal(r, &it) != nil {
			return nil, errBadRequest(fmt.Sprintf("Invalid type for 'input[%d]': expected an object, but got %s instead.", i, article(jsonKind(r))))
		}
		switch it.Type {
		case "", "message":
			role := it.Role
			switch role {
			case "developer":
				role = "system"
			case "user", "assistant", "system":
			default:
				return nil, errBadRequest(fmt.Sprintf("Invalid value: '%s'. Supported values are: 'user', 'assistant', 'system', and 'developer'.", it.Role))
			}
			text, parts, e := responsesContent(it.Content, i)
			if e != nil {
				return nil, e
			}
			msg := chatMessage{Role: role, Content: text, Parts: parts}
			if role == "assistant" {
				msg.Reasoning, reasoning = reasoning, ""
			}
			msgs = append(msgs, msg)
		case "function_call":
			if it.Name == "" {
				return nil, errBadRequest(fmt.Sprintf("Missing required parameter: 'input[%d].name'.", i))
			}
			args := "{}"
			if jsonKind(it.Arguments) == "string" {
				_ = json.Unmarshal(it.Arguments, &args)
			}
			m := assistant()
			m.ToolCalls = append(m.ToolCalls, historyToolCall{ID: it.CallID, Name: it.Name, Arguments: args})
			calls[it.CallID] = true
		case "function_call_output":
			if !calls[it.CallID] {
				return nil, errBadRequest("No tool call found for function call output with call_id " + it.CallID + ".")
			}
			out := rawText(it.Output)
			if jsonKind(it.Output) == "array" {
				out, _, _ = responsesContent(it.Output, i)
			}
			msgs = append(msgs, chatMessage{Role: "tool", Content: out, ToolCallID: it.CallID})
		case "reasoning":
			for _, s := range it.Summary {
				reasoning += s.Text
			}
		default:
			return nil, errBadRequest(fmt.Sprintf("Invalid value: '%s'. Supported input item types are: 'message', 'function_call', 'function_call_output' and 'reasoning'.", it.Type))
		}
	}
	return msgs, nil
}

// responsesContent flattens a message's content: a string, or parts of type input_text,
// output_text (text), input_image (an image) or input_file (kept out of the text).
func responsesContent(raw json.RawMessage, i int) (string, []messagePart, *Error) {
	switch jsonKind(raw) {
	case "string":
		var s string
		_ = json.Unmarshal(raw, &s)
		return s, nil, nil
	case "nothing", "null":
		return "", nil, nil
	}
	var parts []struct {
		Type     string          `json:"type"`
		Text     string          `json:"text"`
		ImageURL json.RawMessage `json:"image_url"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return "", nil, errBadRequest(fmt.Sprintf("Invalid type for 'input[%d].content': expected a string or an array of content parts.", i))
	}
	var sb strings.Builder
	var out []messagePart
	for _, p := range parts {
		switch p.Type {
		case "input_text", "output_text", "text":
			sb.WriteString(p.Text)
			out = append(out, messagePart{Type: "text", Text: p.Text})
		case "input_image":
			out = append(out, messagePart{Type: "image", URL: rawText(p.ImageURL)})
		case "input_file":
		default:
			return "", nil, errBadRequest(fmt.Sprintf("Invalid value: '%s'. Supported content types are: 'input_text', 'input_image', 'input_file' and 'output_text'.", p.Type))
		}
	}
	return sb.String(), out, nil
}

// check: the Responses shape's own rules are applied while decoding.
func (responsesShape) check(*call) *Error { return nil }

// responsesErrors turns each error kind into this shape's flat code and message. The codes are
// the native ones (the service's 429 and 5xx bodies on this path were never captured), with
// the texts the Responses endpoint is known to answer.
var responsesErrors = withRows(nativeErrors, map[string]nativeError{
	"no_api_key":         {"InvalidApiKey", "No API-key provided."},
	"invalid_api_key":    {"InvalidApiKey", "Invalid API-key provided."},
	"missing_model":      {"InvalidParameter", "Missing required parameter: 'model'."},
	"empty_messages":     {"InvalidParameter", "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead."},
	"invalid_parameter":  {"InvalidParameter", "{0}"},
	"bad_request":        {"InvalidParameter", "{0}"},
	"context_length":     {"InvalidParameter", contextLengthMessage},
	"model_not_found":    {"InvalidParameter", "Unsupported model: '{0}'"},
	"not_found":          {"Not Found", "Not support"},
	"method_not_allowed": {"Method Not Allowed", "Method '{0}' is not allowed for '{1}'."},
})

func responsesErrorOf(e *Error) nativeError { return nativeRow(responsesErrors, "responses", e) }

// responsesErrorBody is the flat error body.
func responsesErrorBody(e *Error, requestID string) []byte {
	row := responsesErrorOf(e)
	return marshalJSON(struct {
		RequestID string `json:"request_id"`
		Code      string `json:"code"`
		Message   string `json:"message"`
	}{requestID, row.code, expandMessage(row.message, e.Args)})
}

// writeResponsesError answers outside the pipeline (GET, wrong methods, unknown paths).
func writeResponsesError(w http.ResponseWriter, e *Error, requestID string) {
	setResponseHeaders(w, requestID, time.Now(), "application/json", true)
	w.WriteHeader(e.Status)
	_, _ = w.Write(responsesErrorBody(e, requestID))
}

// writeError: a plain request gets the flat body with the error's status; a streaming one
// gets HTTP 200 and a single response.failed event, as the service answers.
func (a responsesShape) writeError(w http.ResponseWriter, r *http.Request, e *Error, c *call, stream bool) {
	if !stream {
		c.setHeaders(w, c.start, "application/json", true)
		w.WriteHeader(e.Status)
		_, _ = w.Write(responsesErrorBody(e, c.id))
		return
	}
	c.setHeaders(w, c.start, sseContentType, true)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.failedFrame(c, e, 1))
}

// failedFrame is the response.failed event, the only error a stream carries.
func (a responsesShape) failedFrame(c *call, e *Error, id int) []byte {
	row := responsesErrorOf(e)
	obj := a.responseObject(c, "failed", nil, nil)
	obj["error"] = marshalJSON(struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	}{expandMessage(row.message, e.Args), row.code})
	data := eventData(id-1, "response.failed", map[string]json.RawMessage{"response": marshalJSON(obj)})
	return nativeFrame(nil, id, "response.failed", http.StatusOK, data)
}

// eventData is one stream event: sequence_number and type first, then its fields in key order.
func eventData(seq int, typ string, fields any) []byte {
	b := []byte(`{"sequence_number":`)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, typ)
	rest := marshalJSON(fields)
	if len(rest) > 2 {
		b = append(b, ',')
		b = append(b, rest[1:]...)
		return b
	}
	return append(b, '}')
}

// responseID is the id of the response a call makes.
func (a responsesShape) responseID(c *call) string {
	if a.s.cfg.responsesID == ResponsesIDUUID {
		return c.id
	}
	return "resp_" + c.id
}

// Output items, with the keys in the order the service sends them (alphabetical).

type responsesTextPart struct {
	Annotations []struct{} `json:"annotations"`
	Text        string     `json:"text"`
	Type        string     `json:"type"`
}

type responsesMessageItem struct {
	Content []responsesTextPart `json:"content"`
	ID      string              `json:"id"`
	Role    string              `json:"role"`
	Status  string              `json:"status"`
	Type    string              `json:"type"`
}

type responsesFunctionCallItem struct {
	Arguments string `json:"arguments"`
	CallID    string `json:"call_id"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Type      string `json:"type"`
}

type responsesSummaryText struct {
	Text string `json:"text"`
	Type string `json:"type"`
}

type responsesReasoningItem struct {
	ID      string                 `json:"id"`
	Summary []responsesSummaryText `json:"summary"`
	Type    string                 `json:"type"`
}

type responsesUsage struct {
	InputTokens         int                   `json:"input_tokens"`
	InputTokensDetails  responsesCachedDetail `json:"input_tokens_details"`
	OutputTokens        int                   `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int                `json:"total_tokens"`
	XDetails    []responsesXDetail `json:"x_details"`
}

type responsesCachedDetail struct {
	CachedTokens int `json:"cached_tokens"`
}

type responsesXDetail struct {
	InputTokens         int                    `json:"input_tokens"`
	OutputTokens        int                    `json:"output_tokens"`
	PromptTokensDetails *responsesPromptDetail `json:"prompt_tokens_details,omitempty"`
	TotalTokens         int                    `json:"total_tokens"`
	XBillingType        string                 `json:"x_billing_type"`
}

type responsesPromptDetail struct {
	CacheCreation struct {
		Ephemeral5mInputTokens int `json:"ephemeral_5m_input_tokens"`
	} `json:"cache_creation"`
	CacheCreationInputTokens int    `json:"cache_creation_input_tokens"`
	CacheType                string `json:"cache_type"`
	CachedTokens             int    `json:"cached_tokens"`
}

// turn is one response in the making: its output items and what the store keeps.
type turn struct {
	id      string
	items   []json.RawMessage
	reply   chatMessage // the assistant's turn, for the next request's history
	status  string
	usage   *responsesUsage
	cacheAt int // tokens the session cache keeps after this turn (0: none)
}

// responseObject is the response with the documented fields; usage and output are set when
// given. Keys are sorted on output, as the service sends them.
func (a responsesShape) responseObject(c *call, status string, output []json.RawMessage, usage *responsesUsage) map[string]json.RawMessage {
	null := json.RawMessage("null")
	o := map[string]json.RawMessage{
		"background": json.RawMessage("false"), "completed_at": null, "error": null,
		"frequency_penalty": json.RawMessage("0"), "incomplete_details": null, "instructions": null,
		"max_output_tokens": null, "metadata": json.RawMessage("{}"), "model": marshalJSON(""),
		"object": marshalJSON("response"), "output": json.RawMessage("[]"),
		"parallel_tool_calls": json.RawMessage("false"), "presence_penalty": json.RawMessage("0"),
		"previous_response_id": null, "service_tier": marshalJSON("default"),
		"status": marshalJSON(status), "store": json.RawMessage("true"), "temperature": null,
		"text": json.RawMessage(`{"format":{"type":"text"}}`), "tool_choice": marshalJSON("auto"),
		"tools": json.RawMessage("[]"), "top_logprobs": json.RawMessage("0"), "top_p": null,
		"usage": null, "reasoning": json.RawMessage(`{"effort":null,"summary":null}`),
		"id": marshalJSON(a.responseID(c)), "created_at": marshalJSON(c.created),
	}
	if c.req == nil {
		o["model"] = marshalJSON(a.model)
		return o
	}
	opts := responsesOptionsOf(c)
	o["model"] = marshalJSON(c.req.Model)
	if c.modelID != "" {
		o["model"] = marshalJSON(c.modelID)
	}
	o["store"] = marshalJSON(opts.store)
	if opts.instructions != nil {
		o["instructions"] = marshalJSON(*opts.instructions)
	}
	if opts.maxOutput != nil {
		o["max_output_tokens"] = marshalJSON(*opts.maxOutput)
	}
	if opts.previous != "" {
		o["previous_response_id"] = marshalJSON(opts.previous)
	}
	if c.req.Temperature != nil {
		o["temperature"] = marshalJSON(*c.req.Temperature)
	}
	if c.req.TopP != nil {
		o["top_p"] = marshalJSON(*c.req.TopP)
	}
	o["parallel_tool_calls"] = marshalJSON(c.req.ParallelToolCalls)
	reasoning := struct {
		Effort  *string         `json:"effort"`
		Summary json.RawMessage `json:"summary"`
	}{opts.effort, opts.summary}
	if len(reasoning.Summary) == 0 {
		reasoning.Summary = null
	}
	o["reasoning"] = marshalJSON(reasoning)
	if len(opts.tools) > 0 && jsonKind(opts.tools) != "null" {
		o["tools"] = compactJSON(opts.tools)
	}
	if len(opts.toolChoice) > 0 && jsonKind(opts.toolChoice) != "null" {
		o["tool_choice"] = compactJSON(opts.toolChoice)
	}
	for _, k := range []string{"text", "metadata"} {
		if v, ok := opts.fields[k]; ok && jsonKind(v) != "null" {
			o[k] = compactJSON(v)
		}
	}
	if output != nil {
		o["output"] = marshalJSON(output)
	}
	if usage != nil {
		o["usage"] = marshalJSON(usage)
	}
	if status == "completed" || status == "incomplete" {
		o["completed_at"] = marshalJSON(a.s.clock.Now().Unix())
	}
	if status == "incomplete" {
		o["incomplete_details"] = json.RawMessage(`{"reason":"max_output_tokens"}`)
	}
	return o
}

// withEchoes adds the request's fields the shape does not interpret, as sent.
func withEchoes(c *call, o map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(o)+4)
	for k, v := range o {
		out[k] = v
	}
	if c.req == nil {
		return out
	}
	opts := responsesOptionsOf(c)
	for k, v := range opts.fields {
		if !opts.known[k] {
			out[k] = compactJSON(v)
		}
	}
	return out
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// buildTurn makes the output items and usage of a reply.
func (a responsesShape) buildTurn(c *call, res *result) *turn {
	ch := res.choices[0]
	t := &turn{id: a.responseID(c), status: "completed", reply: chatMessage{Role: "assistant", Content: ch.text, Reasoning: ch.reasoning}}
	if ch.finish == "length" {
		t.status = "incomplete"
	}
	if c.thinking && ch.reasoning != "" {
		t.items = append(t.items, marshalJSON(responsesReasoningItem{ID: "rs_" + a.s.cfg.newRequestID(),
			Summary: []responsesSummaryText{{Text: ch.reasoning, Type: "summary_text"}}, Type: "reasoning"}))
	}
	if len(ch.toolCalls) == 0 || ch.text != "" {
		t.items = append(t.items, marshalJSON(responsesMessageItem{
			Content: []responsesTextPart{{Annotations: []struct{}{}, Text: ch.text, Type: "output_text"}},
			ID:      "msg_" + a.s.cfg.newRequestID(), Role: "assistant", Status: t.status, Type: "message"}))
	}
	for _, tc := range ch.toolCalls {
		t.items = append(t.items, marshalJSON(responsesFunctionCallItem{Arguments: tc.Arguments, CallID: tc.ID,
			ID: "fc_" + a.s.cfg.newRequestID(), Name: tc.Name, Status: "completed", Type: "function_call"}))
		t.reply.ToolCalls = append(t.reply.ToolCalls, historyToolCall(tc))
	}
	t.usage = a.usageOf(c, res.completionTokens, res.reasoningTokens, t)
	return t
}

// usageOf reports the tokens of a reply, with the session cache's accounting when the
// request turned it on: a context of at least 1024 tokens is cached, and the next turn within
// five minutes (server clock) that continues it reads the cached part.
func (a responsesShape) usageOf(c *call, output, reasoning int, t *turn) *responsesUsage {
	u := &responsesUsage{InputTokens: c.promptTokens, OutputTokens: output, TotalTokens: c.promptTokens + output}
	u.OutputTokensDetails.ReasoningTokens = reasoning
	x := responsesXDetail{InputTokens: c.promptTokens, OutputTokens: output, TotalTokens: c.promptTokens + output, XBillingType: "response_api"}
	opts := responsesOptionsOf(c)
	if opts.sessionCache {
		cached := 0
		if p := opts.prevEntry; p != nil {
			cached = a.s.responses.cacheHit(p, a.s.clock.Now())
		}
		cached = min(cached, c.promptTokens)
		created := 0
		if c.promptTokens >= sessionCacheMinTokens {
			created = c.promptTokens - cached
			t.cacheAt = c.promptTokens
		}
		d := &responsesPromptDetail{CacheCreationInputTokens: created, CacheType: "ephemeral", CachedTokens: cached}
		d.CacheCreation.Ephemeral5mInputTokens = created
		x.PromptTokensDetails = d
		u.InputTokensDetails.CachedTokens = cached
	}
	u.XDetails = []responsesXDetail{x}
	return u
}

func (a responsesShape) writeResult(w http.ResponseWriter, r *http.Request, c *call, res *result) (int, bool) {
	if c.req.Stream {
		return a.stream(w, c, res)
	}
	t := a.buildTurn(c, res)
	obj := a.responseObject(c, t.status, t.items, t.usage)
	body := marshalJSON(withEchoes(c, obj))
	c.setHeaders(w, c.start, "application/json", true)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	a.keep(c, t, obj)
	return res.completionTokens, false
}

// keep stores a finished response when the request asked for it (store, default true):
// the body GET returns (metadata emptied, echoes dropped, as the service shows it) and the
// conversation the next turn continues, without this turn's instructions.
func (a responsesShape) keep(c *call, t *turn, obj map[string]json.RawMessage) {
	opts := responsesOptionsOf(c)
	if !opts.store {
		return
	}
	obj["metadata"] = json.RawMessage("{}")
	history := make([]chatMessage, 0, len(c.req.Messages)+1)
	for i, m := range c.req.Messages {
		if i == 0 && opts.instructions != nil && *opts.instructions != "" {
			continue
		}
		history = append(history, m)
	}
	history = append(history, t.reply)
	now := a.s.clock.Now()
	entry := &storedResponse{id: t.id, body: marshalJSON(obj), history: history, created: now,
		cacheTokens: t.cacheAt}
	if t.cacheAt > 0 {
		entry.cacheUntil = now.Add(sessionCacheTTL)
	}
	a.s.responses.put(entry, now)
}

// stream writes the event sequence of a Responses stream in DashScope's framing
// (id:N, event:, :HTTP_STATUS/200, data:; no [DONE]).
func (a responsesShape) stream(w http.ResponseWriter, c *call, res *result) (int, bool) {
	st := newSSEWriter(w, c, func(c *call, e *Error, id int) []byte { return a.failedFrame(c, e, id) })
	defer st.release()
	seq := 0
	emit := func(typ string, fields any) {
		seq++
		st.write(nativeFrame(nil, seq, typ, http.StatusOK, eventData(seq-1, typ, fields)))
	}
	// The delta events, one per chunk, are appended into st's buffer: begin writes the frame up
	// to the event's first field; the caller appends the fields in key order, as eventData would
	// encode them (a test compares them).
	begin := func(typ string) []byte {
		seq++
		b := append(st.frame(), "id:"...)
		b = strconv.AppendInt(b, int64(seq), 10)
		b = append(b, "\nevent:"...)
		b = append(b, typ...)
		b = append(b, "\n:HTTP_STATUS/200\ndata:{\"sequence_number\":"...)
		b = strconv.AppendInt(b, int64(seq-1), 10)
		b = append(b, `,"type":`...)
		b = appendJSONString(b, typ)
		return append(b, ',')
	}
	type m = map[string]any
	emit("response.created", m{"response": withEchoes(c, a.responseObject(c, "queued", nil, nil))})
	emit("response.in_progress", m{"response": withEchoes(c, a.responseObject(c, "in_progress", nil, nil))})

	t := a.buildTurn(c, res)
	ch := res.choices[0]
	sent := 0
	for idx, raw := range t.items {
		var head struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		_ = json.Unmarshal(raw, &head)
		switch head.Type {
		case "reasoning":
			emit("response.output_item.added", m{"item": responsesReasoningItem{ID: head.ID, Summary: []responsesSummaryText{}, Type: "reasoning"}, "output_index": idx})
			a.s.eachChunk(st, ch.reasoningIDs, func(n int, piece []byte) {
				b := append(begin("response.reasoning_summary_text.delta"), `"delta":`...)
				b = appendJSONString(b, piece)
				b = append(b, `,"item_id":`...)
				b = appendJSONString(b, head.ID)
				b = append(b, `,"output_index":`...)
				b = strconv.AppendInt(b, int64(idx), 10)
				st.send(append(b, ",\"summary_index\":0}\n\n"...))
				if st.err == nil {
					sent += n
				}
			})
			emit("response.reasoning_summary_text.done", m{"item_id": head.ID, "output_index": idx, "summary_index": 0, "text": ch.reasoning})
		case "message":
			emit("response.output_item.added", m{"item": responsesMessageItem{Content: []responsesTextPart{}, ID: head.ID, Role: "assistant", Status: "in_progress", Type: "message"}, "output_index": idx})
			emit("response.content_part.added", m{"content_index": 0, "item_id": head.ID, "output_index": idx,
				"part": json.RawMessage(`{"annotations":[],"text":"","type":"output_text","logprobs":null}`)})
			a.s.eachChunk(st, ch.ids, func(n int, piece []byte) {
				b := append(begin("response.output_text.delta"), `"content_index":0,"delta":`...)
				b = appendJSONString(b, piece)
				b = append(b, `,"item_id":`...)
				b = appendJSONString(b, head.ID)
				b = append(b, `,"logprobs":[],"output_index":`...)
				b = strconv.AppendInt(b, int64(idx), 10)
				st.send(append(b, "}\n\n"...))
				if st.err == nil {
					sent += n
				}
			})
			emit("response.output_text.done", m{"content_index": 0, "item_id": head.ID, "logprobs": []struct{}{}, "output_index": idx, "text": ch.text})
			emit("response.content_part.done", m{"content_index": 0, "item_id": head.ID, "output_index": idx,
				"part": responsesTextPart{Annotations: []struct{}{}, Text: ch.text, Type: "output_text"}})
		case "function_call":
			var fc responsesFunctionCallItem
			_ = json.Unmarshal(raw, &fc)
			added := fc
			added.Arguments, added.Status = "", "in_progress"
			emit("response.output_item.added", m{"item": added, "output_index": idx})
			a.s.eachChunk(st, a.s.tok.Encode(fc.Arguments), func(n int, piece []byte) {
				b := append(begin("response.function_call_arguments.delta"), `"delta":`...)
				b = appendJSONString(b, piece)
				b = append(b, `,"item_id":`...)
				b = appendJSONString(b, fc.ID)
				b = append(b, `,"output_index":`...)
				b = strconv.AppendInt(b, int64(idx), 10)
				st.send(append(b, "}\n\n"...))
			})
			emit("response.function_call_arguments.done", m{"arguments": fc.Arguments, "item_id": fc.ID, "output_index": idx})
		}
		emit("response.output_item.done", m{"item": raw, "output_index": idx})
	}
	if st.err != nil {
		return sent, st.dropped()
	}
	obj := a.responseObject(c, t.status, t.items, t.usage)
	final := "response.completed"
	if t.status == "incomplete" {
		final = "response.incomplete"
	}
	emit(final, m{"response": withEchoes(c, obj)})
	if st.err != nil {
		return sent, st.dropped()
	}
	a.keep(c, t, obj)
	return res.completionTokens, false
}

// storedResponse is one kept response.
type storedResponse struct {
	id         string
	body       []byte        // what GET returns
	history    []chatMessage // the conversation after this turn, without its instructions
	created    time.Time     // server clock
	size       int64         // bytes counted against the store's bound
	cacheMu    sync.Mutex    // guards cacheUntil
	cacheUntil time.Time     // the session cache of this context lasts until then
	// cacheTokens is the context the session cache keeps (0: none).
	cacheTokens int
}

// cacheHit reports the tokens the session cache serves to a turn continuing p, and renews it.
func (st *responseStore) cacheHit(p *storedResponse, now time.Time) int {
	p.cacheMu.Lock()
	defer p.cacheMu.Unlock()
	if p.cacheTokens == 0 || now.After(p.cacheUntil) {
		return 0
	}
	p.cacheUntil = now.Add(sessionCacheTTL)
	return p.cacheTokens
}

// responseStore keeps responses in arrival order within its bounds
// (responsesStoreMaxEntries, responsesStoreMaxBytes), the oldest out first.
type responseStore struct {
	mu      sync.Mutex
	byID    map[string]*storedResponse
	order   []*storedResponse // oldest first
	bytes   int64
	maxN    int   // 0: responsesStoreMaxEntries
	maxSize int64 // 0: responsesStoreMaxBytes
}

func (st *responseStore) limits() (int, int64) {
	n, b := st.maxN, st.maxSize
	if n == 0 {
		n = responsesStoreMaxEntries
	}
	if b == 0 {
		b = responsesStoreMaxBytes
	}
	return n, b
}

// sizeOf counts what an entry holds: its body and the text of its conversation.
func sizeOf(e *storedResponse) int64 {
	n := int64(len(e.id) + len(e.body) + 128)
	for _, m := range e.history {
		n += int64(len(m.Content) + len(m.Reasoning) + len(m.ToolCallID) + 64)
		for _, p := range m.Parts {
			n += int64(len(p.Text) + len(p.URL) + len(p.MediaType) + 32)
		}
		for _, tc := range m.ToolCalls {
			n += int64(len(tc.ID) + len(tc.Name) + len(tc.Arguments) + 32)
		}
	}
	return n
}

func (st *responseStore) put(e *storedResponse, now time.Time) {
	e.size = sizeOf(e)
	maxN, maxBytes := st.limits()
	if e.size > maxBytes {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.byID == nil {
		st.byID = map[string]*storedResponse{}
	}
	if old, ok := st.byID[e.id]; ok {
		st.removeLocked(old)
	}
	st.order = append(st.order, e)
	st.byID[e.id] = e
	st.bytes += e.size
	for len(st.order) > 0 && (len(st.order) > maxN || st.bytes > maxBytes || now.Sub(st.order[0].created) > responsesTTL) {
		st.removeLocked(st.order[0])
	}
}

func (st *responseStore) removeLocked(e *storedResponse) {
	for i, o := range st.order {
		if o == e {
			st.order = append(st.order[:i], st.order[i+1:]...)
			break
		}
	}
	delete(st.byID, e.id)
	st.bytes -= e.size
}

// get returns the stored response id names (with or without the resp_ prefix), or nil when it
// was never stored, was evicted, or is older than seven days of server clock.
func (st *responseStore) get(id string, now time.Time) *storedResponse {
	st.mu.Lock()
	defer st.mu.Unlock()
	e := st.byID[id]
	if e == nil {
		if alt, ok := strings.CutPrefix(id, "resp_"); ok {
			e = st.byID[alt]
		} else {
			e = st.byID["resp_"+id]
		}
	}
	if e == nil {
		return nil
	}
	if now.Sub(e.created) > responsesTTL {
		st.removeLocked(e)
		return nil
	}
	return e
}

// clear forgets every stored response.
func (st *responseStore) clear() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.byID, st.order, st.bytes = nil, nil, 0
}

// ResponsesStored reports how many Responses are stored and the bytes counted against the
// store's bound.
func (s *Server) ResponsesStored() (count int, bytes int64) {
	s.responses.mu.Lock()
	defer s.responses.mu.Unlock()
	return len(s.responses.order), s.responses.bytes
}
