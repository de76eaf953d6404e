package mockserver

import (
	"net/http"
	"strconv"
)

const sseContentType = "text/event-stream;charset=UTF-8"

// compatStream writes one chat completion as the compatible SSE stream (spec/api.md §3.2).
// Chunks are built by appending bytes rather than through encoding/json: every chunk shares
// the same tail (object, usage, created, fingerprint, model, id), which is encoded once.
type compatStream struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	tail []byte // `],"object":"chat.completion.chunk","usage":null,...,"id":"chatcmpl-…"}`
	buf  []byte
	err  error // first write error: the client went away
}

// streamCompat returns the completion tokens actually delivered: all of them when the stream
// ends normally, fewer when the client went away.
func (s *Server) streamCompat(w http.ResponseWriter, r *http.Request, c *call, res *result) (sent int) {
	setResponseHeaders(w, c.id, c.start, sseContentType, false)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)

	st := &compatStream{w: w, rc: http.NewResponseController(w)}
	st.tail = compatChunkTail(nil, c, "null")

	for _, ch := range res.choices {
		idx := strconv.Itoa(ch.index)
		st.event(`{"delta":{"content":"","role":"assistant"},"index":` + idx + `,"logprobs":null,"finish_reason":null}`)
		// Thinking streams reasoning first, then content, each delta naming the other null.
		choiceSent := s.streamText(st, ch.reasoningIDs, `{"delta":{"content":null,"reasoning_content":`, `},"finish_reason":null,"index":`+idx+`,"logprobs":null}`)
		contentTail := `},"finish_reason":null,"index":` + idx + `,"logprobs":null}`
		if c.thinking {
			contentTail = `,"reasoning_content":null` + contentTail
		}
		choiceSent += s.streamText(st, ch.ids, `{"delta":{"content":`, contentTail)
		for i, tc := range ch.toolCalls {
			choiceSent += s.streamToolCall(st, i, tc, idx)
		}
		if len(ch.toolCalls) > 0 {
			st.event(`{"finish_reason":"` + ch.finish + `","delta":{},"index":` + idx + `,"logprobs":null}`)
		} else {
			st.event(`{"finish_reason":"` + ch.finish + `","delta":{"content":""},"index":` + idx + `,"logprobs":null}`)
		}
		if st.err == nil {
			choiceSent = ch.completionTokens()
		}
		sent += choiceSent
	}
	if c.req.IncludeUsage && st.err == nil {
		u := marshalJSON(usageOf(c, res))
		st.buf = append(st.buf[:0], `data: {"choices":[],"object":"chat.completion.chunk","usage":`...)
		st.buf = append(st.buf, u...)
		st.buf = compatChunkTail(st.buf, c, "")
		st.buf = append(st.buf, "\n\n"...)
		st.write(st.buf)
	}
	st.write([]byte("data: [DONE]\n\n"))
	return sent
}

// streamText sends the text of ids in chunks of chunkBy tokens, each as head + JSON string +
// tail. A character split across chunks waits for its last byte, so every piece is valid
// UTF-8 and the pieces add up to the non-stream text.
//
// It returns how many of the tokens reached the client.
func (s *Server) streamText(st *compatStream, ids []int, head, tail string) (sent int) {
	var carry []byte
	pending := 0
	for start := 0; start < len(ids) && st.err == nil; start += s.chunkBy {
		end := min(start+s.chunkBy, len(ids))
		carry = s.appendTokens(carry, ids[start:end])
		pending += end - start
		n := completeUTF8Prefix(carry)
		if n == 0 {
			continue
		}
		piece := appendJSONString(nil, string(carry[:n]))
		carry = append(carry[:0], carry[n:]...)
		st.event(head + string(piece) + tail)
		if st.err == nil {
			sent, pending = sent+pending, 0
		}
	}
	return sent
}

// streamToolCall sends one tool call as the real service does (spec/api.md §3.2): a first
// delta with id, type and name and empty arguments, then argument fragments that repeat
// "type":"function" with an empty id.
func (s *Server) streamToolCall(st *compatStream, i int, tc toolCallOut, idx string) int {
	n := strconv.Itoa(i)
	st.event(`{"delta":{"content":null,"tool_calls":[{"index":` + n + `,"id":` + string(appendJSONString(nil, tc.ID)) +
		`,"type":"function","function":{"name":` + string(appendJSONString(nil, tc.Name)) + `,"arguments":""}}]},"finish_reason":null,"index":` + idx + `,"logprobs":null}`)
	return s.streamText(st, s.tok.Encode(tc.Arguments), `{"delta":{"tool_calls":[{"index":`+n+`,"id":"","type":"function","function":{"arguments":`,
		`}}]},"finish_reason":null,"index":`+idx+`,"logprobs":null}`)
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

// event writes one chunk whose choices array holds choiceJSON.
func (st *compatStream) event(choiceJSON string) {
	if st.err != nil {
		return
	}
	st.buf = append(st.buf[:0], `data: {"choices":[`...)
	st.buf = append(st.buf, choiceJSON...)
	st.buf = append(st.buf, st.tail...)
	st.buf = append(st.buf, "\n\n"...)
	st.write(st.buf)
}

func (st *compatStream) write(b []byte) {
	if st.err != nil {
		return
	}
	if _, err := st.w.Write(b); err != nil {
		st.err = err
		return
	}
	if err := st.rc.Flush(); err != nil {
		st.err = err
	}
}
