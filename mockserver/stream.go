package mockserver

import (
	"net/http"
	"strconv"
)

const sseContentType = "text/event-stream;charset=UTF-8"

// sseWriter writes the events of one stream, flushing each, and injects a mid-stream fault
// when the call carries one: after fault.AfterChunks events it writes the shape's error frame
// (or drops the connection) and stops.
type sseWriter struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	c        *call
	frames   int                            // events written
	errFrame func(e *Error, seq int) []byte // the shape's error frame
	tail     []byte                         // compat: the common end of every chunk
	buf      []byte
	err      error // first failure: the client went away, or a fault ended the stream
}

func newSSEWriter(w http.ResponseWriter, c *call, errFrame func(e *Error, seq int) []byte) *sseWriter {
	setResponseHeaders(w, c.id, c.start, sseContentType, false)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	return &sseWriter{w: w, rc: http.NewResponseController(w), c: c, errFrame: errFrame}
}

// streamCompat returns the completion tokens actually delivered: all of them when the stream
// ends normally, fewer when the client went away.
func (s *Server) streamCompat(w http.ResponseWriter, r *http.Request, c *call, res *result) (sent int) {
	st := newSSEWriter(w, c, func(e *Error, _ int) []byte {
		return append(append([]byte("data: "), compatErrorBody(e, c.id)...), "\n\n"...)
	})
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
// tail, and returns how many of the tokens reached the client.
func (s *Server) streamText(st *sseWriter, ids []int, head, tail string) (sent int) {
	s.eachChunk(st, ids, func(n int, piece string) {
		st.event(head + string(appendJSONString(nil, piece)) + tail)
		if st.err == nil {
			sent += n
		}
	})
	return sent
}

// eachChunk calls fn with each chunk of chunkBy tokens and its text, after waiting the
// simulated latency of those tokens, until the stream fails. A character split across chunks
// waits for its last byte, so every piece is valid UTF-8 and the pieces add up to the
// non-stream text.
func (s *Server) eachChunk(st *sseWriter, ids []int, fn func(n int, piece string)) {
	var carry []byte
	pending := 0
	for start := 0; start < len(ids) && st.err == nil; start += s.chunkBy {
		end := min(start+s.chunkBy, len(ids))
		carry = s.appendTokens(carry, ids[start:end])
		pending += end - start
		k := completeUTF8Prefix(carry)
		if k == 0 {
			continue
		}
		piece := string(carry[:k])
		carry = append(carry[:0], carry[k:]...)
		st.pace(pending)
		if st.err != nil {
			return
		}
		fn(pending, piece)
		pending = 0
	}
}

// streamToolCall sends one tool call as the real service does (spec/api.md §3.2): a first
// delta with id, type and name and empty arguments, then argument fragments that repeat
// "type":"function" with an empty id.
func (s *Server) streamToolCall(st *sseWriter, i int, tc toolCallOut, idx string) int {
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
func (st *sseWriter) event(choiceJSON string) {
	if st.err != nil {
		return
	}
	st.buf = append(st.buf[:0], `data: {"choices":[`...)
	st.buf = append(st.buf, choiceJSON...)
	st.buf = append(st.buf, st.tail...)
	st.buf = append(st.buf, "\n\n"...)
	st.write(st.buf)
}

func (st *sseWriter) write(b []byte) {
	if st.err != nil {
		return
	}
	if f := st.c.fault; f != nil && st.frames >= f.AfterChunks {
		st.err = errInjected
		if st.c.faultErr == nil {
			st.c.dropped = true
			return
		}
		b = st.errFrame(st.c.faultErr, st.frames+1)
	}
	if _, err := st.w.Write(b); err != nil {
		st.err = err
		return
	}
	if err := st.rc.Flush(); err != nil {
		st.err = err
		return
	}
	st.frames++
}

// pace waits the simulated latency of n tokens before they are sent.
func (st *sseWriter) pace(n int) {
	if st.err == nil {
		if err := st.c.pace.tokens(n); err != nil {
			st.err = err
		}
	}
}
