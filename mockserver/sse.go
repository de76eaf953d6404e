package mockserver

import (
	"errors"
	"net/http"
)

const sseContentType = "text/event-stream;charset=UTF-8"

// errInjected ends a stream that an injected fault interrupted with an error frame.
var errInjected = errors.New("fault injected")

// errDropped ends a stream that the stream_drop fault cuts: the pipeline then aborts the
// connection without a proper end of stream.
var errDropped = errors.New("stream dropped")

// sseWriter writes the events of one stream, flushing each, and injects a mid-stream fault
// when the call carries one: after fault.AfterChunks events it writes the shape's error frame
// (or drops the connection) and stops. It knows nothing of the frames' format: each shape
// hands it whole frames and its error-frame function.
type sseWriter struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	c        *call
	frames   int                            // events written
	errFrame func(e *Error, seq int) []byte // the shape's error frame
	buf      []byte                         // scratch space for the shape's frames
	err      error                          // first failure: the client went away, or a fault ended the stream
}

// newSSEWriter writes the headers of a successful stream and returns its writer.
func newSSEWriter(w http.ResponseWriter, c *call, errFrame func(e *Error, seq int) []byte) *sseWriter {
	c.setHeaders(w, c.start, sseContentType, false)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	return &sseWriter{w: w, rc: http.NewResponseController(w), c: c, errFrame: errFrame}
}

// dropped reports whether the stream_drop fault cut the stream.
func (st *sseWriter) dropped() bool { return errors.Is(st.err, errDropped) }

// write sends one whole frame and flushes it.
func (st *sseWriter) write(b []byte) {
	if st.err != nil {
		return
	}
	if f := st.c.semantic; f != nil && f.Kind == FaultMalformedChunk && st.frames == f.AfterChunks {
		b = malformed(b)
	}
	if f := st.c.fault; f != nil && st.frames >= f.AfterChunks {
		if f.Kind == FaultHang {
			<-st.c.ctx.Done() // stall until the client goes
			st.err = st.c.ctx.Err()
			return
		}
		if st.c.faultErr == nil {
			st.err = errDropped
			return
		}
		st.err = errInjected
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
