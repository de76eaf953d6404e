package mockserver

import (
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file is the DashScope native wire adapter
// (https://www.alibabacloud.com/help/en/model-studio/use-qwen-by-calling-api):
// POST /api/v1/services/aigc/text-generation/generation. It decodes the request, applies the
// shape's own rules, and writes results, streams and errors in the native shape.

type nativeShape struct{ s *Server }

func (s *Server) handleNativeGeneration(w http.ResponseWriter, r *http.Request) {
	s.serveChat(w, r, nativeShape{s})
}

func (nativeShape) name() string { return "native" }

// streamRequested: the native API streams when a request header asks for it, not a body field.
func (nativeShape) streamRequested(r *http.Request, _ []byte) bool { return nativeStream(r) }

func nativeStream(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("X-DashScope-SSE")), "enable") ||
		strings.Contains(strings.ToLower(r.Header.Get("Accept")), "text/event-stream")
}

type nativeRequestWire struct {
	Model *string `json:"model"`
	Input *struct {
		Messages []messageWire `json:"messages"`
		Prompt   *string       `json:"prompt"`
	} `json:"input"`
	Parameters *nativeParamsWire `json:"parameters"`
}

// nativeOptions are the native shape's own request options, carried opaquely on the
// chatRequest.
type nativeOptions struct {
	resultFormat string // "text" or "message"
	incremental  bool   // incremental_output: each stream event carries only the new text
}

func nativeOptionsOf(c *call) nativeOptions {
	o, _ := c.req.Shape.(nativeOptions)
	return o
}

type nativeParamsWire struct {
	chatParamsWire
	ResultFormat      *string `json:"result_format"`
	IncrementalOutput *bool   `json:"incremental_output"`
}

func (nativeShape) decode(r *http.Request, body []byte) (*chatRequest, *Error) {
	if strings.EqualFold(r.Header.Get("X-DashScope-Async"), "enable") {
		return nil, newError("async_not_supported") // text generation has no asynchronous mode
	}
	var w nativeRequestWire
	if err := decodeStrict(body, &w); err != nil {
		return nil, decodeError(body, err)
	}
	req := &chatRequest{Stream: nativeStream(r)}
	opts := nativeOptions{resultFormat: "message"}
	if w.Model != nil {
		req.Model = *w.Model
	}
	if w.Input == nil || (w.Input.Messages == nil && w.Input.Prompt == nil) {
		return nil, errBadRequest(`Either "prompt" or "messages" must exist and cannot both be none`)
	}
	req.MessagesGiven = true
	if w.Input.Prompt != nil && w.Input.Messages != nil && len(w.Input.Messages) == 0 {
		return nil, newError("invalid_parameter", promptWithEmptyMessages)
	}
	if w.Input.Messages != nil {
		msgs, e := decodeMessages(w.Input.Messages)
		if e != nil {
			return nil, e
		}
		req.Messages = msgs
	} else {
		req.Messages = []chatMessage{{Role: "user", Content: *w.Input.Prompt}}
	}
	p := w.Parameters
	if p == nil {
		p = &nativeParamsWire{}
	}
	if e := p.chatParamsWire.apply(req); e != nil {
		return nil, e
	}
	if p.ResultFormat != nil {
		switch *p.ResultFormat {
		case "text", "message":
			opts.resultFormat = *p.ResultFormat
		default:
			return nil, errBadRequest(fmt.Sprintf("result_format must be 'text' or 'message', not '%s'.", *p.ResultFormat))
		}
	}
	if p.IncrementalOutput != nil {
		opts.incremental = *p.IncrementalOutput
	}
	req.Shape = opts
	return req, nil
}

// check applies the native shape's own rules once thinking mode is known.
func (nativeShape) check(c *call) *Error {
	if e := checkSeed(c.req.Seed, nativeSeedMax); e != nil {
		return e
	}
	if c.req.Stream && c.req.N.set && c.req.N.v > 1 {
		return errInvalidParameter(nativeStreamNMessage)
	}
	if !c.thinking {
		return nil
	}
	opts := nativeOptionsOf(c)
	if opts.resultFormat != "message" {
		return errInvalidParameter(`The result_format parameter must be "message" when enable_thinking is true`)
	}
	if c.req.Stream && !opts.incremental {
		return newError("algo_invalid_parameter", `The incremental_output parameter must be "true" when enable_thinking is true`)
	}
	return nil
}

// promptWithEmptyMessages answers input.prompt beside an empty input.messages (a capture).
const promptWithEmptyMessages = "Role must be user or assistant and Content length must be greater than 0"

// handleNativeURLError answers any other path under the native base, and the multimodal path
// (every model here is a text model), as the real service does: 400 InvalidParameter
// "url error, please check url!" in the native envelope.
func (s *Server) handleNativeURLError(w http.ResponseWriter, r *http.Request) {
	id := s.cfg.newRequestID()
	e := newError("url_error")
	setResponseHeaders(w, id, time.Now(), "application/json", true)
	w.WriteHeader(e.Status)
	_, _ = w.Write(nativeErrorBody(e, id))
}

// nativeStreamNMessage refuses n > 1 on a native stream: the captured native stream events
// carry choices without an index, so a client could not tell the choices apart.
const nativeStreamNMessage = "n > 1 is not supported on native streams: each choice would stream without an index. Use stream=false, or the OpenAI-compatible endpoint."

// nativeError is one row of the native shape's error table.
type nativeError struct {
	code    string
	message string // a template: {0}, {1}, … are the error's parameters
}

// nativeErrors turns each error kind into the native shape's code and message, as the real
// service answers (https://www.alibabacloud.com/help/en/model-studio/error-code).
var nativeErrors = map[string]nativeError{
	"no_api_key":             {"InvalidApiKey", "No API-key provided."},
	"invalid_api_key":        {"InvalidApiKey", "Invalid API-key provided."},
	"rate_limit_requests":    {"Throttling.RateQuota", "Requests rate limit exceeded, please try again later."},
	"rate_limit_tokens":      {"Throttling.AllocationQuota", "Allocated quota exceeded, please increase your quota limit."},
	"burst":                  {"Throttling.BurstRate", burstMessage},
	"data_inspection":        {"DataInspectionFailed", inputInspectionMessage},
	"data_inspection_output": {"DataInspectionFailed", outputInspectionMessage},
	"arrearage":              {"Arrearage", arrearageMessage},
	"free_tier_exhausted":    {"AllocationQuota.FreeTierOnly", freeTierMessage},
	"internal":               {"InternalError", internalMessage},
	"overloaded":             {"ServiceUnavailable", overloadedMessage},
	"timeout":                {"RequestTimeOut", timeoutMessage},
	"too_large":              {"BadRequest.TooLarge", tooLargeMessage},
	"missing_model":          {"InvalidParameter", missingModelMessage},
	"empty_messages":         {"InvalidParameter", emptyMessagesMessage},
	"json_mode_without_json": {"InvalidParameter", jsonModeMessage},
	"invalid_parameter":      {"InvalidParameter", "{0}"},
	"bad_request":            {"InvalidParameter", "{0}"},
	"context_length":         {"InvalidParameter", contextLengthMessage},
	"model_not_found":        {"ModelNotFound", "Model can not be found."},
	"not_found":              {"NotFound", notFoundMessage},
	"method_not_allowed":     {"MethodNotAllowed", methodNotAllowedMessage},
	// spec/api.md §4.1.
	"invalid_value":          {"InvalidParameter", "{0}"},
	"algo_invalid_parameter": {"InvalidParameter", algoParamPrefix + "{0}"},
	"url_error":              {"InvalidParameter", urlErrorMessage},
	"async_not_supported":    {"AccessDenied", asyncMessage},
}

// nativeErrorOf looks up e's row in the native table.
func nativeErrorOf(e *Error) nativeError { return nativeRow(nativeErrors, "native", e) }

// nativeRow looks up e's row in a table of native-style codes (the native shape's, or one
// built on it); the mock's own conditions answer with "Mock.<kind>".
func nativeRow(table map[string]nativeError, shape string, e *Error) nativeError {
	if isMockKind(e.Kind) {
		return nativeError{code: "Mock." + e.Kind, message: "{0}"}
	}
	row, ok := table[e.Kind]
	if !ok {
		panic("mockserver: the " + shape + " shape has no row for error kind " + e.Kind)
	}
	return row
}

// withRows is base with own's rows in place of (or beside) its own: a shape that answers
// with native codes except where it has captures of its own.
func withRows(base, own map[string]nativeError) map[string]nativeError {
	m := maps.Clone(base)
	maps.Copy(m, own)
	return m
}

// nativeErrorBody is the native error envelope.
func nativeErrorBody(e *Error, requestID string) []byte {
	row := nativeErrorOf(e)
	return marshalJSON(struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	}{row.code, expandMessage(row.message, e.Args), requestID})
}

// nativeFrame appends one SSE event in the native framing: no space after the colons.
func nativeFrame(dst []byte, id int, event string, status int, data []byte) []byte {
	dst = append(dst, "id:"...)
	dst = strconv.AppendInt(dst, int64(id), 10)
	dst = append(dst, "\nevent:"...)
	dst = append(dst, event...)
	dst = append(dst, "\n:HTTP_STATUS/"...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, "\ndata:"...)
	dst = append(dst, data...)
	return append(dst, "\n\n"...)
}

func (a nativeShape) writeError(w http.ResponseWriter, r *http.Request, e *Error, c *call, stream bool) {
	body := nativeErrorBody(e, c.id)
	c.setHeaders(w, c.start, contentTypeOf(stream), true)
	w.WriteHeader(e.Status)
	if stream {
		_, _ = w.Write(nativeFrame(nil, 1, "error", e.Status, body))
		return
	}
	_, _ = w.Write(body)
}

// Native bodies, in the key order of the real captures.

type nativeUsage struct {
	PromptTokensDetails *promptDetails      `json:"prompt_tokens_details,omitempty"`
	TotalTokens         int                 `json:"total_tokens"`
	OutputTokens        int                 `json:"output_tokens"`
	InputTokens         int                 `json:"input_tokens"`
	OutputTokensDetails *nativeOutputDetail `json:"output_tokens_details,omitempty"`
}

type nativeOutputDetail struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

type nativeToolFunction struct {
	Name      string `json:"name,omitempty"` // absent on the argument fragments of a stream
	Arguments string `json:"arguments"`
}

type nativeMessage struct {
	Role             string           `json:"role"`
	Content          string           `json:"content"`
	ReasoningContent *string          `json:"reasoning_content,omitempty"`
	ToolCalls        []nativeToolCall `json:"tool_calls,omitempty"`
}

// nativeToolCall is a tool call in the order of the native captures: function first.
type nativeToolCall struct {
	Function nativeToolFunction `json:"function"`
	Index    int                `json:"index"`
	ID       string             `json:"id"`
	Type     string             `json:"type"`
}

type nativeChoice struct {
	FinishReason string        `json:"finish_reason"`
	Message      nativeMessage `json:"message"`
}

type nativeOutput struct {
	FinishReason string         `json:"finish_reason,omitempty"`
	Text         *string        `json:"text,omitempty"`
	Choices      []nativeChoice `json:"choices,omitempty"`
}

type nativeBody struct {
	Output    nativeOutput `json:"output"`
	Usage     nativeUsage  `json:"usage"`
	RequestID string       `json:"request_id"`
}

func nativeToolCalls(calls []toolCallOut) []nativeToolCall {
	out := make([]nativeToolCall, len(calls))
	for i, tc := range calls {
		out[i] = nativeToolCall{Function: nativeToolFunction{Name: tc.Name, Arguments: tc.Arguments}, Index: i, ID: tc.ID, Type: "function"}
	}
	return out
}

// nativeUsageOf reports usage with prompt_tokens_details, in the body and in every stream
// event, as the captures show (spec/api.md §3.3, §4.1).
func nativeUsageOf(c *call, output, reasoning int) nativeUsage {
	d := promptDetailsOf(c.cache)
	u := nativeUsage{PromptTokensDetails: &d, TotalTokens: c.promptTokens + output, OutputTokens: output, InputTokens: c.promptTokens}
	if c.thinking {
		u.OutputTokensDetails = &nativeOutputDetail{ReasoningTokens: reasoning}
	}
	return u
}

func (a nativeShape) writeResult(w http.ResponseWriter, r *http.Request, c *call, res *result) (int, bool) {
	if c.req.Stream {
		return a.s.streamNative(w, r, c, res)
	}
	body := nativeBody{Usage: nativeUsageOf(c, res.completionTokens, res.reasoningTokens), RequestID: c.id}
	if nativeOptionsOf(c).resultFormat == "text" {
		ch := res.choices[0]
		body.Output = nativeOutput{FinishReason: ch.finish, Text: &ch.text}
	} else {
		for _, ch := range res.choices {
			msg := nativeMessage{Role: "assistant", Content: ch.text, ToolCalls: nativeToolCalls(ch.toolCalls)}
			if c.thinking {
				msg.ReasoningContent = &ch.reasoning
			}
			body.Output.Choices = append(body.Output.Choices, nativeChoice{FinishReason: ch.finish, Message: msg})
		}
	}
	c.setHeaders(w, c.start, "application/json", true)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(marshalJSON(body))
	return res.completionTokens, false
}

// nativeErrorFrame is the error event of a native stream.
func nativeErrorFrame(c *call, e *Error, seq int) []byte {
	return nativeFrame(nil, seq, "error", e.Status, nativeErrorBody(e, c.id))
}

// streamNative writes the native SSE stream: events id:1, 2, …, each with
// the usage so far and the request id; finish_reason is the string "null" until the last
// event; no [DONE], the connection closes. incremental_output true sends only the new text in
// each event, false all the text so far. It returns the completion tokens delivered and
// whether the stream_drop fault cut the stream. Each event is appended into the writer's
// scratch buffer exactly as marshalJSON would encode it (a test compares them).
func (s *Server) streamNative(w http.ResponseWriter, r *http.Request, c *call, res *result) (int, bool) {
	opts := nativeOptionsOf(c)
	st := newSSEWriter(w, c, nativeErrorFrame)
	defer st.release()
	ch := res.choices[0]
	seq, output, reasoningTokens := 0, 0, 0
	var allReasoning, allContent, args []byte // without incremental_output: the text so far

	// send writes one event; with calls, its tool calls are the JSON array elements in st.aux.
	send := func(reasoning, content []byte, calls bool, finish string) {
		seq++
		if st.err != nil {
			return
		}
		if !opts.incremental {
			reasoning, content = allReasoning, allContent
		}
		b := append(st.frame(), "id:"...)
		b = strconv.AppendInt(b, int64(seq), 10)
		b = append(b, "\nevent:result\n:HTTP_STATUS/200\ndata:"...)
		if opts.resultFormat == "text" {
			b = append(b, `{"output":{`...)
			if finish != "" {
				b = append(b, `"finish_reason":`...)
				b = appendJSONString(b, finish)
				b = append(b, ',')
			}
			b = append(b, `"text":`...)
			b = appendJSONString(b, content)
			b = append(b, '}')
		} else {
			b = append(b, `{"output":{"choices":[{"message":{"content":`...)
			b = appendJSONString(b, content)
			if c.thinking {
				b = append(b, `,"reasoning_content":`...)
				b = appendJSONString(b, reasoning)
			}
			b = append(b, `,"role":"assistant"`...)
			if calls {
				b = append(b, `,"tool_calls":[`...)
				b = append(b, st.aux...)
				b = append(b, ']')
			}
			b = append(b, `},"finish_reason":`...)
			b = appendJSONString(b, finish)
			b = append(b, `}]}`...)
		}
		b = append(b, `,"usage":`...)
		b = appendNativeUsage(b, c, output, reasoningTokens)
		b = append(b, `,"request_id":`...)
		b = appendJSONString(b, c.id)
		st.send(append(b, "}\n\n"...))
	}

	s.eachChunk(st, ch.reasoningIDs, func(n int, piece []byte) {
		output += n
		reasoningTokens += n
		if !opts.incremental {
			allReasoning = append(allReasoning, piece...)
		}
		send(piece, nil, false, "null")
	})
	s.eachChunk(st, ch.ids, func(n int, piece []byte) {
		output += n
		if !opts.incremental {
			allContent = append(allContent, piece...)
		}
		send(nil, piece, false, "null")
	})
	// Tool calls stream as in the compatible shape: a first event with the id, type and name
	// and empty arguments, then argument fragments with an empty id (or, without
	// incremental_output, the arguments so far).
	for i, tc := range ch.toolCalls {
		if st.err != nil {
			break
		}
		st.aux = appendNativeToolCall(st.aux[:0], i, tc.ID, tc.Name, "")
		send(nil, nil, true, "null")
		args = args[:0]
		s.eachChunk(st, s.tok.Encode(tc.Arguments), func(n int, piece []byte) {
			output += n
			if opts.incremental {
				st.aux = appendNativeToolCall(st.aux[:0], i, "", "", piece)
			} else {
				args = append(args, piece...)
				st.aux = appendNativeToolCall(st.aux[:0], i, tc.ID, tc.Name, args)
			}
			send(nil, nil, true, "null")
		})
	}
	if st.err != nil {
		return output, st.dropped()
	}
	output = ch.completionTokens()
	st.aux = st.aux[:0]
	if !opts.incremental { // with incremental_output the fragments said it all
		for i, tc := range ch.toolCalls {
			if i > 0 {
				st.aux = append(st.aux, ',')
			}
			st.aux = appendNativeToolCall(st.aux, i, tc.ID, tc.Name, tc.Arguments)
		}
	}
	send(nil, nil, len(st.aux) > 0, ch.finish)
	return output, st.dropped()
}

// appendNativeToolCall appends what marshalJSON makes of one nativeToolCall (an empty name is
// left out).
func appendNativeToolCall[S ~string | ~[]byte](dst []byte, index int, id, name string, args S) []byte {
	dst = append(dst, `{"function":{`...)
	if name != "" {
		dst = append(dst, `"name":`...)
		dst = appendJSONString(dst, name)
		dst = append(dst, ',')
	}
	dst = append(dst, `"arguments":`...)
	dst = appendJSONString(dst, args)
	dst = append(dst, `},"index":`...)
	dst = strconv.AppendInt(dst, int64(index), 10)
	dst = append(dst, `,"id":`...)
	dst = appendJSONString(dst, id)
	return append(dst, `,"type":"function"}`...)
}

// appendNativeUsage appends what marshalJSON makes of nativeUsageOf(c, output, reasoning).
func appendNativeUsage(dst []byte, c *call, output, reasoning int) []byte {
	dst = append(dst, `{"prompt_tokens_details":`...)
	dst = appendPromptDetails(dst, promptDetailsOf(c.cache))
	dst = append(dst, `,"total_tokens":`...)
	dst = strconv.AppendInt(dst, int64(c.promptTokens+output), 10)
	dst = append(dst, `,"output_tokens":`...)
	dst = strconv.AppendInt(dst, int64(output), 10)
	dst = append(dst, `,"input_tokens":`...)
	dst = strconv.AppendInt(dst, int64(c.promptTokens), 10)
	if c.thinking {
		dst = append(dst, `,"output_tokens_details":{"reasoning_tokens":`...)
		dst = strconv.AppendInt(dst, int64(reasoning), 10)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}
