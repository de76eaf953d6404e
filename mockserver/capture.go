package mockserver

import (
	"net/http"
	"sync"
)

// captureWriter passes a response through and keeps its first limit bytes for the journal
// (RequestRecord.Response), so that the journal bound stays size × 2 × body bytes.
type captureWriter struct {
	http.ResponseWriter
	limit     int
	buf       []byte
	truncated bool
	status    int // the status written (WriteHeader), 0 before it
}

// captureWriters holds the writers of finished requests with their buffers, so that a stream
// of many events does not grow a new buffer each time. A buffer larger than maxPooledCapture
// (possible when the journal keeps more than that of each body) is left to the garbage
// collector, so the pool holds at most maxPooledCapture bytes per writer.
var captureWriters = sync.Pool{New: func() any { return new(captureWriter) }}

const maxPooledCapture = 64 << 10

// newCaptureWriter returns a writer that keeps the first limit bytes written to w; the caller
// releases it once it has taken the body.
func newCaptureWriter(w http.ResponseWriter, limit int) *captureWriter {
	cw := captureWriters.Get().(*captureWriter)
	*cw = captureWriter{ResponseWriter: w, limit: limit, buf: cw.buf[:0]}
	return cw
}

// release puts cw back in the pool; it must not be used after.
func (cw *captureWriter) release() {
	*cw = captureWriter{buf: pooled(cw.buf, maxPooledCapture)}
	captureWriters.Put(cw)
}

// WriteHeader keeps the status the client gets, which is the journal's: a shape may answer
// an error kind with a status of its own (the Anthropic envelope's, say).
func (cw *captureWriter) WriteHeader(status int) {
	if cw.status == 0 {
		cw.status = status
	}
	cw.ResponseWriter.WriteHeader(status)
}

func (cw *captureWriter) Write(b []byte) (int, error) {
	if cw.status == 0 {
		cw.status = http.StatusOK
	}
	if room := cw.limit - len(cw.buf); room > 0 {
		cw.buf = append(cw.buf, b[:min(room, len(b))]...)
		cw.truncated = cw.truncated || len(b) > room
	} else if len(b) > 0 {
		cw.truncated = true
	}
	return cw.ResponseWriter.Write(b)
}

// Flush and Unwrap let http.ResponseController reach the connection.
func (cw *captureWriter) Flush() {
	if f, ok := cw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (cw *captureWriter) Unwrap() http.ResponseWriter { return cw.ResponseWriter }

// body is a copy of what was kept, cut at a character boundary, and whether some was left
// out. It must be a copy: the buffer goes back to the pool (release) and is written again.
func (cw *captureWriter) body() (string, bool) {
	if cw.truncated {
		return string(cw.buf[:completeUTF8Prefix(cw.buf)]), true
	}
	return string(cw.buf), false
}
