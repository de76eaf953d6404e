package mockserver

import "net/http"

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

// body is what was kept, cut at a character boundary, and whether some was left out.
func (cw *captureWriter) body() (string, bool) {
	if cw.truncated {
		return string(cw.buf[:completeUTF8Prefix(cw.buf)]), true
	}
	return string(cw.buf), false
}
