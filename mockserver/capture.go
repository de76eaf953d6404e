package mockserver

import (
	"net/http"
	"unsafe"
)

// captureWriter passes a response through and keeps its first limit bytes for the journal
// (RequestRecord.Response), so that the journal bound stays size × 2 × body bytes.
type captureWriter struct {
	http.ResponseWriter
	limit     int
	buf       []byte
	truncated bool
}

func (cw *captureWriter) Write(b []byte) (int, error) {
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

// body is what was kept, cut at a character boundary, and whether some was left out. The
// buffer is the writer's own and is written no more, so the string is made of it without a
// copy when it holds little spare room (as many bytes as a copy would take, within the
// allocator's rounding); otherwise it is copied, so that the journal keeps only what it counts.
func (cw *captureWriter) body() (string, bool) {
	b := cw.buf
	if cw.truncated {
		b = b[:completeUTF8Prefix(b)]
	}
	if cap(cw.buf) <= len(b)+len(b)/8+16 {
		return unsafe.String(unsafe.SliceData(b), len(b)), cw.truncated
	}
	return string(b), cw.truncated
}
