package mockserver

import (
	"errors"
	"net/http"
	"sync"
	"time"
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
// builds whole frames in its scratch buffer (frame, send) and hands it its error-frame
// function.
//
// Writers come from a pool with their buffers, so that a stream allocates nothing per event:
// the shape calls release when the stream is over.
type sseWriter struct {
	w        http.ResponseWriter
	rc       http.ResponseController
	c        *call
	frames   int                                     // events written
	errFrame func(c *call, e *Error, seq int) []byte // the shape's error frame
	buf      []byte                                  // the frame being built (frame, send)
	carry    []byte                                  // eachChunk's bytes not yet sent
	aux      []byte                                  // a shape's second buffer: a chunk tail, tool calls
	err      error                                   // first failure: the client went away, or a fault ended the stream
	paced    bool                                    // tokens were paced: the next frame carries the first token
}

// sseWriters holds the writers of finished streams with their buffers. A buffer that grew
// past maxPooledFrame (a frame carrying a long text: a native stream without
// incremental_output, a final Responses event) is left to the garbage collector, so the pool
// holds at most 3 × maxPooledFrame bytes per writer.
var sseWriters = sync.Pool{New: func() any { return new(sseWriter) }}

const maxPooledFrame = 64 << 10

// noCache is the Cache-Control value of every stream, shared: a header value is replaced or
// appended to (which copies a full slice), never changed in place.
var noCache = []string{"no-cache"}

// newSSEWriter writes the headers of a successful stream and returns its writer, which the
// caller releases when the stream is over.
func newSSEWriter(w http.ResponseWriter, c *call, errFrame func(c *call, e *Error, seq int) []byte) *sseWriter {
	c.setHeaders(w, c.start, sseContentType, false)
	w.Header()["Cache-Control"] = noCache
	w.WriteHeader(http.StatusOK)
	st := sseWriters.Get().(*sseWriter)
	*st = sseWriter{w: w, rc: *http.NewResponseController(w), c: c, errFrame: errFrame,
		buf: st.buf[:0], carry: st.carry[:0], aux: st.aux[:0]}
	return st
}

// release puts st back in the pool; it must not be used after.
func (st *sseWriter) release() {
	*st = sseWriter{buf: pooled(st.buf, maxPooledFrame), carry: pooled(st.carry, maxPooledFrame), aux: pooled(st.aux, maxPooledFrame)}
	sseWriters.Put(st)
}

// pooled is b emptied to go back to a pool, or nil when it holds more than limit bytes.
func pooled(b []byte, limit int) []byte {
	if cap(b) > limit {
		return nil
	}
	return b[:0]
}

// frame returns the scratch buffer, empty, to append one frame to and pass to send.
func (st *sseWriter) frame() []byte { return st.buf[:0] }

// send keeps b (grown from frame) as the scratch buffer and writes it as one frame.
func (st *sseWriter) send(b []byte) {
	st.buf = b
	st.write(b)
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
		b = st.errFrame(st.c, st.c.faultErr, st.frames+1)
	}
	if _, err := st.w.Write(b); err != nil {
		st.err = err
		return
	}
	if st.paced && st.c.stats.firstFrame.IsZero() {
		st.c.stats.firstFrame = time.Now()
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
		st.paced = true
	}
}

// eachChunk calls fn with each chunk of chunkBy tokens and its text, after waiting the
// simulated latency of those tokens, until the stream fails. A character split across chunks
// waits for its last byte, so every piece is valid UTF-8 and the pieces add up to the
// non-stream text. piece is only valid during the call: it is st's carry buffer.
func (s *Server) eachChunk(st *sseWriter, ids []int, fn func(n int, piece []byte)) {
	carry := st.carry[:0]
	pending := 0
	for start := 0; start < len(ids) && st.err == nil; start += s.chunkBy {
		end := min(start+s.chunkBy, len(ids))
		carry = s.appendTokens(carry, ids[start:end])
		pending += end - start
		k := completeUTF8Prefix(carry)
		if k == 0 {
			continue
		}
		st.pace(pending)
		if st.err != nil {
			break
		}
		fn(pending, carry[:k])
		carry = append(carry[:0], carry[k:]...)
		pending = 0
	}
	st.carry = carry[:0]
}
