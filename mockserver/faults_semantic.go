package mockserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
)

// Semantic faults: the reply arrives whole and well framed, but says something a client must
// cope with. Each is shape-neutral (it rewrites the core's result), so both wire shapes show
// it, whether it comes from the X-Mock-Fault header, the queue or --fault-rate's draw.
const (
	// FaultInvalidToolArguments answers with a tool call whose arguments are not valid JSON.
	FaultInvalidToolArguments = "invalid_tool_arguments"
	// FaultUnknownTool answers with a call to a tool the request did not offer.
	FaultUnknownTool = "unknown_tool"
	// FaultEmptyReply answers with no content at all, finish_reason "stop".
	FaultEmptyReply = "empty_reply"
	// FaultLengthMidToolCall stops with finish_reason "length" inside a tool call's
	// arguments.
	FaultLengthMidToolCall = "length_mid_tool_call"
	// FaultMalformedChunk sends one stream event whose data is not valid JSON (after
	// AfterChunks events); a non-stream reply is cut in the middle of its JSON body.
	FaultMalformedChunk = "malformed_chunk"
)

// semanticFaults are the faults applySemanticFault handles.
var semanticFaults = []string{FaultInvalidToolArguments, FaultUnknownTool, FaultEmptyReply, FaultLengthMidToolCall, FaultMalformedChunk}

func isSemanticFault(kind string) bool { return slices.Contains(semanticFaults, kind) }

// unknownToolName is the name FaultUnknownTool calls, made unique against the request's tools.
func unknownToolName(tools []toolDef) string {
	name := "undeclared_tool"
	for taken := true; taken; {
		taken = false
		for _, t := range tools {
			if t.Name == name {
				name += "_x"
				taken = true
			}
		}
	}
	return name
}

// applySemanticFault rewrites every choice of res as the fault says and recounts the tokens.
func (s *Server) applySemanticFault(c *call, res *result, kind string) {
	res.completionTokens, res.reasoningTokens = 0, 0
	for i := range res.choices {
		ch := &res.choices[i]
		switch kind {
		case FaultEmptyReply:
			*ch = choiceResult{index: ch.index, finish: "stop", fixture: ch.fixture}
		case FaultInvalidToolArguments, FaultUnknownTool, FaultLengthMidToolCall:
			tc := toolCallOut{ID: "call_" + faultCallID(c, i), Arguments: "{}"}
			if len(ch.toolCalls) > 0 {
				tc = ch.toolCalls[0]
			} else if len(c.req.Tools) > 0 {
				tc.Name = c.req.Tools[0].Name
				tc.Arguments = `{"query": "a value"}`
			}
			switch kind {
			case FaultUnknownTool:
				tc.Name = unknownToolName(c.req.Tools)
			case FaultInvalidToolArguments:
				if tc.Name == "" {
					tc.Name = unknownToolName(c.req.Tools)
				}
				tc.Arguments = brokenJSON(tc.Arguments)
			case FaultLengthMidToolCall:
				if tc.Name == "" {
					tc.Name = unknownToolName(c.req.Tools)
				}
				if len(tc.Arguments) < 4 {
					tc.Arguments = `{"query": "a value"}`
				}
				tc.Arguments = tc.Arguments[:len(tc.Arguments)/2]
			}
			ch.ids, ch.text = nil, ""
			ch.toolCalls = []toolCallOut{tc}
			ch.toolTokens = s.tok.Count(renderToolCalls([]historyToolCall{{Name: tc.Name, Arguments: tc.Arguments}}))
			ch.finish = "tool_calls"
			if kind == FaultLengthMidToolCall {
				ch.finish = "length"
			}
		}
		res.completionTokens += ch.completionTokens()
		res.reasoningTokens += len(ch.reasoningIDs)
	}
}

// brokenJSON turns JSON arguments into text that is not valid JSON: the closing brace goes
// and a stray one takes its place before the first value.
func brokenJSON(args string) string {
	var v any
	if json.Unmarshal([]byte(args), &v) != nil {
		return args // already broken
	}
	if len(args) > 1 && args[len(args)-1] == '}' {
		return args[:len(args)-1] + `,}` // a trailing comma: invalid JSON, a common model slip
	}
	return args + "{"
}

// faultCallID is a deterministic call id for a tool call that a fault invents.
func faultCallID(c *call, choice int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 24)
	h := uint64(14695981039346656037)
	for _, r := range c.id {
		h = (h ^ uint64(r)) * 1099511628211
	}
	h ^= uint64(choice)
	for i := range b {
		h = h*6364136223846793005 + 1442695040888963407
		b[i] = hex[h>>60]
	}
	return string(b)
}

// malformed cuts the JSON of one SSE frame ("data: {…}\n\n" or the native "…\ndata:{…}\n\n")
// in the middle, so that its data is not valid JSON while the framing stays intact.
func malformed(frame []byte) []byte {
	i := bytes.LastIndex(frame, []byte("data:"))
	if i < 0 {
		return frame
	}
	start := i + len("data:")
	if start < len(frame) && frame[start] == ' ' {
		start++
	}
	end := len(frame) - len("\n\n")
	if end <= start {
		return frame
	}
	out := append([]byte(nil), frame[:start+(end-start)/2]...)
	return append(out, "\n\n"...)
}

// halfBodyWriter keeps a non-stream body and sends only its first half (malformed_chunk on a
// reply that is not streamed): the status and headers are those of the whole answer.
type halfBodyWriter struct {
	http.ResponseWriter
	body []byte
}

func (h *halfBodyWriter) Write(b []byte) (int, error) {
	h.body = append(h.body, b...)
	return len(b), nil
}

func (h *halfBodyWriter) flush() {
	_, _ = h.ResponseWriter.Write(h.body[:len(h.body)/2])
}
