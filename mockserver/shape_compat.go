package mockserver

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// This file is the OpenAI-compatible wire adapter
// (https://www.alibabacloud.com/help/en/model-studio/compatibility-of-openai-with-dashscope):
// POST /compatible-mode/v1/chat/completions. It decodes the request into a chatRequest, and
// writes the core's result, stream and errors in the compatible shape.

// compatShape is the OpenAI-compatible wire adapter.
type compatShape struct{ s *Server }

func (s *Server) handleCompatChat(w http.ResponseWriter, r *http.Request) {
	s.serveChat(w, r, compatShape{s})
}

// compatOptions are the compatible shape's own request options, carried opaquely on the
// chatRequest.
type compatOptions struct {
	includeUsage bool // stream_options.include_usage: a last chunk with the usage
}

func compatOptionsOf(c *call) compatOptions {
	o, _ := c.req.Shape.(compatOptions)
	return o
}

// compatRequestWire is the request body of POST /compatible-mode/v1/chat/completions. Only
// fields that change the answer are decoded; unknown parameters are ignored, as the real
// service does.
type compatRequestWire struct {
	Model    *string       `json:"model"`
	Messages []messageWire `json:"messages"`
	Stream   *bool         `json:"stream"`
	chatParamsWire
}

func (compatShape) name() string { return "compatible" }

// streamRequested reads "stream" from a body that could not be processed, so that the error
// goes out in the SSE form a streaming client expects.
func (compatShape) streamRequested(r *http.Request, body []byte) bool { return peekStream(body) }

func peekStream(body []byte) bool {
	var p struct {
		Stream bool `json:"stream"`
	}
	_ = json.Unmarshal(body, &p)
	return p.Stream
}

func (compatShape) decode(r *http.Request, body []byte) (*chatRequest, *Error) {
	return decodeCompatRequest(body)
}

func decodeCompatRequest(body []byte) (*chatRequest, *Error) {
	var w compatRequestWire
	if !fastCompatRequest(body, &w) {
		w = compatRequestWire{}
		if err := decodeStrict(body, &w); err != nil {
			return nil, decodeError(body, err)
		}
	}
	req := &chatRequest{MessagesGiven: w.Messages != nil}
	if w.Model != nil {
		req.Model = *w.Model
	}
	if w.Stream != nil {
		req.Stream = *w.Stream
	}
	msgs, e := decodeMessages(w.Messages)
	if e != nil {
		return nil, e
	}
	req.Messages = msgs
	if e := w.chatParamsWire.apply(req); e != nil {
		return nil, e
	}
	var opts compatOptions
	if so := w.StreamOptions; so != nil && so.IncludeUsage != nil {
		opts.includeUsage = *so.IncludeUsage
	}
	req.Shape = opts
	return req, nil
}

// decodeInto is decode for the pipeline: the common body (fastCompatRequest) goes straight
// into st's request and messages without allocating, its strings pointing into body (which
// nothing changes, and which the journal keeps anyway) and a known model named by the
// catalogue's string; any other goes through decodeCompatRequest.
func (a compatShape) decodeInto(st *chatState, body []byte) (*chatRequest, *Error) {
	f := fastCompat{msgs: st.msgs[:0]}
	ok := f.parse(body, true)
	if cap(f.msgs) > cap(st.msgs) {
		st.msgs = f.msgs[:0] // keep a grown array, for release to judge
	}
	if !ok {
		return decodeCompatRequest(body)
	}
	req := &st.req
	*req = chatRequest{MessagesGiven: f.hasMessages, Stream: f.stream, Messages: f.msgs}
	if f.hasModel {
		req.Model = a.s.models.intern(f.model)
	}
	if e := (&chatParamsWire{}).apply(req); e != nil {
		return nil, e
	}
	req.Shape = compatOptions{includeUsage: f.includeUsage}
	return req, nil
}

// check: the compatible shape has no rules of its own beyond the core's.
func (compatShape) check(c *call) *Error { return checkSeed(c.req.Seed, compatSeedMax) }

func (a compatShape) writeResult(w http.ResponseWriter, r *http.Request, c *call, res *result) (int, bool) {
	if c.req.Stream {
		return a.s.streamCompat(w, r, c, res)
	}
	a.s.writeCompatCompletion(w, c, res)
	return res.completionTokens, false
}

// Response bodies, with the real key order: choices first, id last.

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

// compatToolCall is a tool call in the real key order.
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
// and also reported apart when the request ran in thinking mode.
func usageOf(c *call, res *result) compatUsage {
	u := compatUsage{
		PromptTokens:        c.promptTokens,
		CompletionTokens:    res.completionTokens,
		TotalTokens:         c.promptTokens + res.completionTokens,
		PromptTokensDetails: promptDetailsOf(c.cache),
	}
	if c.thinking {
		u.CompletionTokensDetails = &compatCompletionDetail{ReasoningTokens: res.reasoningTokens}
	}
	return u
}

// appendCompatUsage appends what marshalJSON makes of u.
func appendCompatUsage(dst []byte, u compatUsage) []byte {
	dst = append(dst, `{"prompt_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.PromptTokens), 10)
	dst = append(dst, `,"completion_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.CompletionTokens), 10)
	dst = append(dst, `,"total_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.TotalTokens), 10)
	if d := u.CompletionTokensDetails; d != nil {
		dst = append(dst, `,"completion_tokens_details":{"reasoning_tokens":`...)
		dst = strconv.AppendInt(dst, int64(d.ReasoningTokens), 10)
		dst = append(dst, '}')
	}
	dst = append(dst, `,"prompt_tokens_details":`...)
	dst = appendPromptDetails(dst, u.PromptTokensDetails)
	return append(dst, '}')
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
	bp := replyBuffers.Get().(*[]byte)
	body := appendCompatCompletion((*bp)[:0], c, res)
	c.setHeaders(w, c.start, "application/json", true)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	if cap(body) <= maxPooledReply {
		*bp = body
		replyBuffers.Put(bp)
	}
}

// replyBuffers holds the buffers non-stream replies are encoded into; one larger than
// maxPooledReply is left to the garbage collector, so the pool holds at most that much per
// buffer.
var replyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

const maxPooledReply = 64 << 10

// appendCompatCompletion appends the compatible completion body: what marshalJSON makes of a
// compatCompletion, byte for byte, without reflection for the envelope and the text.
func appendCompatCompletion(dst []byte, c *call, res *result) []byte {
	dst = append(dst, `{"choices":[`...)
	for i, ch := range res.choices {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"message":{"role":"assistant","content":`...)
		dst = appendJSONString(dst, ch.text)
		if c.thinking {
			dst = append(dst, `,"reasoning_content":`...)
			dst = appendJSONString(dst, ch.reasoning)
		}
		if calls := compatToolCalls(ch.toolCalls); len(calls) > 0 {
			dst = append(dst, `,"tool_calls":`...)
			dst = append(dst, marshalJSON(calls)...)
		}
		dst = append(dst, `},"finish_reason":`...)
		dst = appendJSONString(dst, ch.finish)
		dst = append(dst, `,"index":`...)
		dst = strconv.AppendInt(dst, int64(ch.index), 10)
		dst = append(dst, `,"logprobs":null}`...)
	}
	dst = append(dst, `],"object":"chat.completion","usage":`...)
	dst = appendCompatUsage(dst, usageOf(c, res))
	dst = append(dst, `,"created":`...)
	dst = strconv.AppendInt(dst, c.created, 10)
	dst = append(dst, `,"system_fingerprint":null,"model":`...)
	dst = appendJSONString(dst, c.modelID)
	dst = append(dst, `,"id":`...)
	dst = appendPrefixedJSONString(dst, "chatcmpl-", c.id)
	return append(dst, '}')
}

// appendPrefixedJSONString appends prefix+s as a JSON string literal, as appendJSONString
// would, without making the string: prefix must be ASCII that needs no escaping, so the
// literal is the quote, prefix, then s's literal from its second byte.
func appendPrefixedJSONString(dst []byte, prefix, s string) []byte {
	dst = append(dst, '"')
	dst = append(dst, prefix...)
	at := len(dst)
	dst = appendJSONString(dst, s)
	copy(dst[at:], dst[at+1:]) // drop s's own opening quote
	return dst[:len(dst)-1]
}

// compatCompletionReflect is the reflective encoding appendCompatCompletion stands for; a test
// checks they agree.
func compatCompletionReflect(c *call, res *result) []byte {
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
	return marshalJSON(body)
}

// compatError is one row of the compatible shape's error table.
type compatError struct {
	code, typ string
	message   string // a template: {0}, {1}, … are the error's parameters
	// withID marks errors raised by the model backend, whose body also carries
	// "id":"chatcmpl-<request id>".
	withID bool
}

// compatErrors turns each error kind into the compatible shape's code, type and message, as
// the real service answers (https://www.alibabacloud.com/help/en/model-studio/error-code).
var compatErrors = map[string]compatError{
	"no_api_key":             {"invalid_api_key", "invalid_request_error", "No API-key provided.", false},
	"invalid_api_key":        {"invalid_api_key", "invalid_request_error", "Incorrect API key provided. For details, see: " + errorDocLink + "#apikey-error", false},
	"rate_limit_requests":    {"limit_requests", "limit_requests", "You have exceeded your current request limit. For details, see: " + errorDocLink + "#rate-limit", false},
	"rate_limit_tokens":      {"insufficient_quota", "insufficient_quota", "You exceeded your current quota, please check your plan and billing details. For details, see: " + errorDocLink + "#token-limit", false},
	"burst":                  {"limit_burst_rate", "limit_burst_rate", burstMessage, false},
	"data_inspection":        {"data_inspection_failed", "data_inspection_failed", inputInspectionMessage, false},
	"data_inspection_output": {"data_inspection_failed", "data_inspection_failed", outputInspectionMessage, false},
	"arrearage":              {"Arrearage", "Arrearage", arrearageMessage, false},
	"free_tier_exhausted":    {"AllocationQuota.FreeTierOnly", "AllocationQuota.FreeTierOnly", freeTierMessage, false},
	"internal":               {"internal_server_error", "internal_server_error", internalMessage, true},
	"overloaded":             {"ServiceUnavailable", "ServiceUnavailable", overloadedMessage, true},
	"timeout":                {"RequestTimeOut", "RequestTimeOut", timeoutMessage, false},
	"too_large":              {"BadRequest.TooLarge", "BadRequest.TooLarge", tooLargeMessage, false},
	"missing_model":          {"invalid_request_error", "invalid_request_error", missingModelMessage, false},
	"empty_messages":         {"invalid_parameter_error", "invalid_request_error", emptyMessagesMessage, false},
	"json_mode_without_json": {"invalid_parameter_error", "invalid_request_error", jsonModeMessage, false},
	// Range errors come from the model backend with its prefix; decoding errors do not.
	"invalid_parameter":  {"invalid_parameter_error", "invalid_request_error", algoParamPrefix + "{0}", true},
	"bad_request":        {"invalid_parameter_error", "invalid_request_error", "{0}", false},
	"context_length":     {"invalid_parameter_error", "invalid_request_error", algoParamPrefix + contextLengthMessage, true},
	"model_not_found":    {"model_not_found", "invalid_request_error", "The model `{0}` does not exist or you do not have access to it.", false},
	"not_found":          {"not_found", "invalid_request_error", notFoundMessage, false},
	"method_not_allowed": {"method_not_allowed", "invalid_request_error", methodNotAllowedMessage, false},
	// spec/api.md §4.1.
	"invalid_value":          {"invalid_value", "invalid_request_error", "{0}", false},
	"algo_invalid_parameter": {"invalid_parameter_error", "invalid_request_error", algoParamPrefix + "{0}", true},
	"url_error":              {"invalid_parameter_error", "invalid_request_error", urlErrorMessage, false},
	"async_not_supported":    {"AccessDenied", "AccessDenied", asyncMessage, false},
}

// compatErrorOf looks up e's row; the mock's own conditions answer with their kind as code.
func compatErrorOf(e *Error) compatError {
	if isMockKind(e.Kind) {
		return compatError{code: e.Kind, typ: "invalid_request_error", message: "{0}"}
	}
	row, ok := compatErrors[e.Kind]
	if !ok {
		panic("mockserver: the compatible shape has no row for error kind " + e.Kind)
	}
	return row
}

// journalCode is the code the journal records for an error, whatever the shape answered
// in: the compatible code, the one most clients know.
func journalCode(e *Error) string { return compatErrorOf(e).code }

// compatErrorEnvelope is the compatible error body.
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
	row := compatErrorOf(e)
	env := compatErrorEnvelope{
		Error:     compatErrorObject{Message: expandMessage(row.message, e.Args), Type: row.typ, Code: row.code},
		RequestID: requestID,
	}
	if row.withID {
		env.ID = "chatcmpl-" + requestID
	}
	return marshalJSON(env)
}

func (a compatShape) writeError(w http.ResponseWriter, r *http.Request, e *Error, c *call, stream bool) {
	c.setHeaders(w, time.Now(), contentTypeOf(stream), true)
	writeCompatErrorBody(w, e, c.id, stream)
}

// writeCompatError answers a request outside the chat pipeline (model list, unknown routes,
// the control API) with e in the compatible envelope.
func writeCompatError(w http.ResponseWriter, e *Error, requestID string) {
	setResponseHeaders(w, requestID, time.Now(), "application/json", true)
	writeCompatErrorBody(w, e, requestID, false)
}

// writeCompatErrorBody writes e's status and body. A request that asked for a stream gets the
// same envelope as one SSE event, "data: {...}" and a blank line.
func writeCompatErrorBody(w http.ResponseWriter, e *Error, requestID string, stream bool) {
	body := compatErrorBody(e, requestID)
	w.WriteHeader(e.Status)
	if stream {
		_, _ = w.Write(compatDataFrame(nil, body))
		return
	}
	_, _ = w.Write(body)
}

// compatDataFrame appends one SSE event in the compatible framing: "data: " and a blank line.
func compatDataFrame(dst, data []byte) []byte {
	dst = append(dst, "data: "...)
	dst = append(dst, data...)
	return append(dst, "\n\n"...)
}

// handleCompatModels lists the models in the OpenAI shape.
func (s *Server) handleCompatModels(w http.ResponseWriter, r *http.Request) {
	id := s.cfg.newRequestID()
	if e := s.authenticate(r); e != nil {
		writeCompatError(w, e, id)
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

// compatStream writes the chunks of one compatible stream: each is
// data: {"choices":[…]<tail>} where the tail (object, created, model, id) is the same for
// every chunk. Each chunk is appended into the writer's scratch buffer, exactly as
// marshalJSON would encode the chunk (a test compares them), and written at once.
type compatStream struct {
	*sseWriter
	idx int // index of the choice being streamed
}

// compatErrorFrame is the error event of a compatible stream.
func compatErrorFrame(c *call, e *Error, _ int) []byte {
	return compatDataFrame(nil, compatErrorBody(e, c.id))
}

// streamCompat writes the compatible SSE stream and returns the completion tokens actually
// delivered: all of them when the stream ends normally, fewer when the client went away; and
// whether the stream_drop fault cut it.
func (s *Server) streamCompat(w http.ResponseWriter, r *http.Request, c *call, res *result) (sent int, dropped bool) {
	st := compatStream{sseWriter: newSSEWriter(w, c, compatErrorFrame)}
	defer st.release()
	st.aux = compatChunkTail(st.aux, c, "null")

	for i := range res.choices {
		ch := &res.choices[i]
		st.idx = ch.index
		if c.thinking { // the captured first delta of a thinking stream
			st.choice(`{"delta":{"content":null,"role":"assistant","reasoning_content":""},"index":`, `,"logprobs":null,"finish_reason":null}`)
		} else {
			st.choice(`{"delta":{"content":"","role":"assistant"},"index":`, `,"logprobs":null,"finish_reason":null}`)
		}
		// Thinking streams reasoning first, then content, each delta naming the other null.
		choiceSent := s.streamText(&st, ch.reasoningIDs, `{"delta":{"content":null,"reasoning_content":`, `}`)
		contentTail := `}`
		if c.thinking {
			contentTail = `,"reasoning_content":null}`
		}
		choiceSent += s.streamText(&st, ch.ids, `{"delta":{"content":`, contentTail)
		for i, tc := range ch.toolCalls {
			choiceSent += s.streamToolCall(&st, i, tc)
		}
		if st.err == nil {
			b := append(st.frame(), `data: {"choices":[{"finish_reason":`...)
			b = appendJSONString(b, ch.finish)
			switch {
			case len(ch.toolCalls) > 0:
				b = append(b, `,"delta":{},"index":`...)
			case c.thinking:
				b = append(b, `,"delta":{"content":"","reasoning_content":null},"index":`...)
			default:
				b = append(b, `,"delta":{"content":""},"index":`...)
			}
			b = strconv.AppendInt(b, int64(st.idx), 10)
			st.end(append(b, `,"logprobs":null}`...))
		}
		if st.err == nil {
			choiceSent = ch.completionTokens()
		}
		sent += choiceSent
	}
	if compatOptionsOf(c).includeUsage && st.err == nil {
		b := append(st.frame(), `data: {"choices":[],"object":"chat.completion.chunk","usage":`...)
		b = appendCompatUsage(b, usageOf(c, res))
		b = compatChunkTail(b, c, "")
		st.send(append(b, "\n\n"...))
	}
	st.write(compatDone)
	return sent, st.dropped()
}

// compatDone ends a compatible stream. Frames are only read, never changed, once written.
var compatDone = []byte("data: [DONE]\n\n")

// streamText sends the text of ids in chunks of chunkBy tokens, each as the choice
// head + JSON string + deltaEnd + finish_reason, index and logprobs, and returns how many of
// the tokens reached the client.
func (s *Server) streamText(st *compatStream, ids []int, head, deltaEnd string) (sent int) {
	s.eachChunk(st.sseWriter, ids, func(n int, piece []byte) {
		b := append(st.frame(), `data: {"choices":[`...)
		b = append(b, head...)
		b = appendJSONString(b, piece)
		b = append(b, deltaEnd...)
		st.end(st.deltaEnd(b))
		if st.err == nil {
			sent += n
		}
	})
	return sent
}

// streamToolCall sends one tool call as the real service does: a first delta with id, type
// and name and empty arguments, then argument fragments that repeat "type":"function" with an
// empty id.
func (s *Server) streamToolCall(st *compatStream, i int, tc toolCallOut) int {
	if st.err == nil {
		b := append(st.frame(), `data: {"choices":[{"delta":{"content":null,"tool_calls":[{"index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"id":`...)
		b = appendJSONString(b, tc.ID)
		b = append(b, `,"type":"function","function":{"name":`...)
		b = appendJSONString(b, tc.Name)
		st.end(st.deltaEnd(append(b, `,"arguments":""}}]}`...)))
	}
	sent := 0
	s.eachChunk(st.sseWriter, s.tok.Encode(tc.Arguments), func(n int, piece []byte) {
		b := append(st.frame(), `data: {"choices":[{"delta":{"tool_calls":[{"index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"id":"","type":"function","function":{"arguments":`...)
		b = appendJSONString(b, piece)
		st.end(st.deltaEnd(append(b, `}}]}`...)))
		if st.err == nil {
			sent += n
		}
	})
	return sent
}

// compatChunkTail appends the end of a chunk. With usage "null" it is everything after the
// choices array of a content chunk; with usage "" only what follows the usage object.
func compatChunkTail(dst []byte, c *call, usage string) []byte {
	if usage != "" {
		dst = append(dst, `],"object":"chat.completion.chunk","usage":`...)
		dst = append(dst, usage...)
	}
	dst = append(dst, `,"created":`...)
	dst = strconv.AppendInt(dst, c.created, 10)
	dst = append(dst, `,"system_fingerprint":null,"model":`...)
	dst = appendJSONString(dst, c.modelID)
	dst = append(dst, `,"id":"chatcmpl-`...)
	dst = append(dst, c.id...)
	return append(dst, `"}`...)
}

// choice writes a chunk whose one choice is head, the choice's index, end.
func (st *compatStream) choice(head, end string) {
	if st.err != nil {
		return
	}
	b := append(st.frame(), `data: {"choices":[`...)
	b = append(b, head...)
	b = strconv.AppendInt(b, int64(st.idx), 10)
	st.end(append(b, end...))
}

// deltaEnd appends what follows the delta of a content or tool-call chunk.
func (st *compatStream) deltaEnd(b []byte) []byte {
	b = append(b, `,"finish_reason":null,"index":`...)
	b = strconv.AppendInt(b, int64(st.idx), 10)
	return append(b, `,"logprobs":null}`...)
}

// end closes the choices array of the chunk in b with the stream's tail and writes it.
func (st *compatStream) end(b []byte) {
	b = append(b, st.aux...)
	st.send(append(b, "\n\n"...))
}
