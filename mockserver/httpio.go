package mockserver

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// This file holds the HTTP steps every wire shape shares: reading the body and the headers of
// every response.

// readBody reads the request body up to the configured limit; larger bodies are a 413.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, func(), *Error) {
	if r.ContentLength > s.cfg.maxBodyBytes {
		return nil, noRelease, errorOf("too_large")
	}
	// A declared length is reserved before a byte is read, so a burst of large bodies is
	// refused without allocating them; a chunked body is reserved once read.
	reserved := int64(0)
	if r.ContentLength > 0 {
		if !s.bodies.acquire(r.ContentLength) {
			return nil, noRelease, errBodiesBusy(s.bodies.max)
		}
		reserved = r.ContentLength
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.maxBodyBytes))
	if err != nil {
		s.bodies.release(reserved)
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, noRelease, errorOf("too_large")
		}
		return nil, noRelease, errBadRequest("The request body could not be read: " + err.Error() + ".")
	}
	if n := int64(len(body)); n != reserved {
		s.bodies.release(reserved)
		if !s.bodies.acquire(n) {
			return nil, noRelease, errBodiesBusy(s.bodies.max)
		}
		reserved = n
	}
	return body, func() { s.bodies.release(reserved) }, nil
}

func noRelease() {}

// bodyBudget bounds the bytes of request bodies held at once by requests in flight (read and
// being answered): BodyBudgetFactor × the largest body. A request past it gets a 503
// (server_busy) instead of adding its body to the heap.
type bodyBudget struct {
	mu   sync.Mutex // guards used
	used int64
	max  int64
}

// BodyBudgetFactor is how many largest bodies (--max-body-bytes) requests in flight may hold
// at once.
const BodyBudgetFactor = 4

func (b *bodyBudget) acquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

func (b *bodyBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// held is the number of body bytes requests in flight hold now.
func (b *bodyBudget) held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// errBodiesBusy is the 503 of a request whose body would pass the in-flight body budget.
func errBodiesBusy(max int64) *Error {
	return errMock("server_busy", fmt.Sprintf("Too many large requests at once: requests in flight may hold at most %d bytes of request bodies; try again shortly.", max))
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
