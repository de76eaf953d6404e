package mockserver

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// This file holds the HTTP steps every wire shape shares: reading the body and the headers of
// every response.

// readBody reads the request body up to the configured limit; larger bodies are a 413.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *Error) {
	if r.ContentLength > s.cfg.maxBodyBytes {
		return nil, errorOf("too_large")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errorOf("too_large")
		}
		return nil, errBadRequest("The request body could not be read: " + err.Error() + ".")
	}
	return body, nil
}

// setResponseHeaders sets the headers every real response carries
// (https://www.alibabacloud.com/help/en/model-studio/use-qwen-by-calling-api): the request id,
// the gateway mark, the time the request took and whether the answer is complete.
func setResponseHeaders(w http.ResponseWriter, requestID string, start time.Time, contentType string, finished bool) {
	// One backing array for the five values (the keys are in canonical form): what h.Set does,
	// in one allocation instead of five.
	v := make([]string, 5)
	v[0], v[1], v[2] = contentType, requestID, "true"
	v[3] = strconv.FormatInt(time.Since(start).Milliseconds(), 10)
	v[4] = strconv.FormatBool(finished)
	h := w.Header()
	h["Content-Type"] = v[0:1:1]
	h["X-Request-Id"] = v[1:2:2]
	h["X-Dashscope-Call-Gateway"] = v[2:3:3]
	h["Req-Cost-Time"] = v[3:4:4]
	h["X-Dashscope-Finished"] = v[4:5:5]
}

// setHeaders sets the headers of a call's answer: those of every response, and the
// rate-limit headers when the limiter's answer is to be shown (WithRateLimitHeaders).
// Adapters call it before WriteHeader, for results and errors alike.
func (c *call) setHeaders(w http.ResponseWriter, start time.Time, contentType string, finished bool) {
	setResponseHeaders(w, c.id, start, contentType, finished)
	if a := c.admission; a != nil && a.show {
		setRateLimitHeaders(w.Header(), a.state, a.denial)
	}
}

// contentTypeOf is the Content-Type of an answer: an event stream or one JSON body.
func contentTypeOf(stream bool) string {
	if stream {
		return sseContentType
	}
	return "application/json"
}
