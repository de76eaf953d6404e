package mockserver

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// This file is the DashScope native wire adapter (spec/api.md §2.2, §3.3, §3.4, §4):
// POST /api/v1/services/aigc/text-generation/generation.

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
		Messages []compatMessageWire `json:"messages"`
		Prompt   *string             `json:"prompt"`
	} `json:"input"`
	Parameters *nativeParamsWire `json:"parameters"`
}

type nativeParamsWire struct {
	chatParamsWire
	ResultFormat      *string `json:"result_format"`
	IncrementalOutput *bool   `json:"incremental_output"`
}

func (nativeShape) decode(r *http.Request, body []byte) (*chatRequest, *Error) {
	var w nativeRequestWire
	if err := decodeStrict(body, &w); err != nil {
		return nil, decodeError(body, err)
	}
	req := &chatRequest{Stream: nativeStream(r), ResultFormat: "message", Native: true}
	if w.Model != nil {
		req.Model = *w.Model
	}
	if w.Input == nil || (w.Input.Messages == nil && w.Input.Prompt == nil) {
		return nil, errBadRequest(`Either "prompt" or "messages" must exist and cannot both be none`)
	}
	req.MessagesGiven = true
	if w.Input.Messages != nil {
		for i, m := range w.Input.Messages {
			msg, e := m.toMessage(i)
			if e != nil {
				return nil, e
			}
			req.Messages = append(req.Messages, msg)
		}
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
	req.IncludeUsage = true
	if p.ResultFormat != nil {
		switch *p.ResultFormat {
		case "text", "message":
			req.ResultFormat = *p.ResultFormat
		default:
			return nil, errBadRequest(fmt.Sprintf("result_format must be 'text' or 'message', not '%s'.", *p.ResultFormat))
		}
	}
	if p.IncrementalOutput != nil {
		req.Incremental = *p.IncrementalOutput
	}
	return req, nil
}

// checkNative applies the native shape's own rules once thinking mode is known.
func checkNative(req *chatRequest, thinking bool) *Error {
	if !thinking {
		return nil
	}
	if req.ResultFormat != "message" {
		return errInvalidParameter(`The result_format parameter must be "message" when enable_thinking is true.`)
	}
	if req.Stream && !req.Incremental {
		return errInvalidParameter(`The incremental_output parameter must be "true" when enable_thinking is true.`)
	}
	return nil
}

// nativeErrorBody is the native error envelope.
func nativeErrorBody(e *Error, requestID string) []byte {
	return marshalJSON(struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	}{e.NativeCode, e.NativeMessage, requestID})
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
	if stream {
		setResponseHeaders(w, c.id, c.start, sseContentType, true)
		w.WriteHeader(e.Status)
		_, _ = w.Write(nativeFrame(nil, 1, "error", e.Status, body))
		return
	}
	setResponseHeaders(w, c.id, c.start, "application/json", true)
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// Native bodies, in the key order of the real captures.

type nativeUsage struct {
	PromptTokensDetails *promptDetails          `json:"prompt_tokens_details,omitempty"`
	TotalTokens         int                     `json:"total_tokens"`
	OutputTokens        int                     `json:"output_tokens"`
	InputTokens         int                     `json:"input_tokens"`
	OutputTokensDetails *compatCompletionDetail `json:"output_tokens_details,omitempty"`
}

type nativeMessage struct {
	Role             string           `json:"role"`
	Content          string           `json:"content"`
	ReasoningContent *string          `json:"reasoning_content,omitempty"`
	ToolCalls        []nativeToolCall `json:"tool_calls,omitempty"`
}

// nativeToolCall is a tool call in the order of the native captures: function first.
type nativeToolCall struct {
	Function compatToolFunction `json:"function"`
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
		out[i] = nativeToolCall{Function: compatToolFunction{Name: tc.Name, Arguments: tc.Arguments}, Index: i, ID: tc.ID, Type: "function"}
	}
	return out
}

// nativeUsageOf reports usage with prompt_tokens_details, in the body and in every stream
// event, as the captures show (spec/api.md §3.3, §4.1).
func nativeUsageOf(c *call, output, reasoning int) nativeUsage {
	d := c.cache.details()
	u := nativeUsage{PromptTokensDetails: &d, TotalTokens: c.promptTokens + output, OutputTokens: output, InputTokens: c.promptTokens}
	if c.thinking {
		u.OutputTokensDetails = &compatCompletionDetail{ReasoningTokens: reasoning}
	}
	return u
}

func (a nativeShape) writeResult(w http.ResponseWriter, r *http.Request, c *call, res *result) int {
	if c.req.Stream {
		return a.s.streamNative(w, r, c, res)
	}
	body := nativeBody{Usage: nativeUsageOf(c, res.completionTokens, res.reasoningTokens), RequestID: c.id}
	if c.req.ResultFormat == "text" {
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
	setResponseHeaders(w, c.id, c.start, "application/json", true)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(marshalJSON(body))
	return res.completionTokens
}

// streamNative writes the native SSE stream (spec/api.md §3.4): events id:1, 2, …, each with
// the usage so far and the request id; finish_reason is the string "null" until the last
// event; no [DONE], the connection closes. incremental_output true sends only the new text in
// each event, false all the text so far. It returns the completion tokens delivered.
func (s *Server) streamNative(w http.ResponseWriter, r *http.Request, c *call, res *result) int {
	st := newSSEWriter(w, c, func(e *Error, seq int) []byte {
		return nativeFrame(nil, seq, "error", e.Status, nativeErrorBody(e, c.id))
	})
	ch := res.choices[0]
	seq, output, reasoningTokens := 0, 0, 0
	var allReasoning, allContent strings.Builder

	send := func(reasoning, content string, calls []toolCallOut, finish string) {
		seq++
		if !c.req.Incremental {
			reasoning, content = allReasoning.String(), allContent.String()
		}
		usage := nativeUsageOf(c, output, reasoningTokens)
		var data []byte
		if c.req.ResultFormat == "text" {
			data = marshalJSON(nativeBody{Output: nativeOutput{FinishReason: finish, Text: &content}, Usage: usage, RequestID: c.id})
		} else {
			msg := nativeStreamMessage{Content: content, Role: "assistant", ToolCalls: nativeToolCalls(calls)}
			if c.thinking {
				msg.ReasoningContent = &reasoning
			}
			choice := nativeStreamChoice{Message: msg, FinishReason: finish}
			data = marshalJSON(nativeStreamBody{Output: nativeStreamOutput{Choices: []nativeStreamChoice{choice}}, Usage: usage, RequestID: c.id})
		}
		st.write(nativeFrame(nil, seq, "result", http.StatusOK, data))
	}

	s.eachChunk(st, ch.reasoningIDs, func(n int, piece string) {
		output += n
		reasoningTokens += n
		allReasoning.WriteString(piece)
		send(piece, "", nil, "null")
	})
	s.eachChunk(st, ch.ids, func(n int, piece string) {
		output += n
		allContent.WriteString(piece)
		send("", piece, nil, "null")
	})
	if st.err != nil {
		return output
	}
	output = ch.completionTokens()
	send("", "", ch.toolCalls, ch.finish)
	return output
}

// nativeStreamMessage is the message of a native stream event: content first, as captured.
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
