package mockserver

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// This file holds the HTTP steps every wire shape shares: reading the body and the headers of
// every response.

// readBody reads the request body up to the configured limit; larger bodies are a 413.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, func(), *Error) {
	body, reserved, e := s.readBodyReserved(w, r)
	if reserved == 0 {
		return body, noRelease, e
	}
	return body, func() { s.bodies.release(reserved) }, e
}

// readBodyReserved is readBody returning the bytes reserved in the body budget, for the caller
// to release, instead of a function that does. A body of declared length is read into a slice
// of exactly that length, which the journal keeps as is (journalBody).
func (s *Server) readBodyReserved(w http.ResponseWriter, r *http.Request) ([]byte, int64, *Error) {
	if r.ContentLength > s.cfg.maxBodyBytes {
		return nil, 0, errorOf("too_large")
	}
	// A declared length is reserved before a byte is read, so a burst of large bodies is
	// refused without allocating them; a chunked body is reserved once read.
	reserved := int64(0)
	if r.ContentLength > 0 {
		if !s.bodies.acquire(r.ContentLength) {
			return nil, 0, errBodiesBusy(s.bodies.max)
		}
		reserved = r.ContentLength
	}
	body, err := s.readAll(w, r)
	if err != nil {
		s.bodies.release(reserved)
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, 0, errorOf("too_large")
		}
		return nil, 0, errBadRequest("The request body could not be read: " + err.Error() + ".")
	}
	if n := int64(len(body)); n != reserved {
		s.bodies.release(reserved)
		if !s.bodies.acquire(n) {
			return nil, 0, errBodiesBusy(s.bodies.max)
		}
		reserved = n
	}
	return body, reserved, nil
}

// readAll reads r's body as io.ReadAll(http.MaxBytesReader(w, r.Body, max body bytes)) does,
// with the same result and errors. A body of declared length (at most the maximum, which
// readBodyReserved checked) is read into a slice of that length plus one byte, through which a
// last read makes sure the body ends there; a longer one goes on as ReadAll would.
func (s *Server) readAll(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	n := r.ContentLength
	if n < 0 || r.Body == nil {
		return io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.maxBodyBytes))
	}
	body := make([]byte, n, n+1)
	got := 0
	for {
		k, err := r.Body.Read(body[got:cap(body)])
		got += k
		if err == io.EOF {
			return body[:got], nil
		}
		if err != nil {
			return body[:got], err
		}
		if got == cap(body) {
			break // more than declared
		}
	}
	rest, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.maxBodyBytes-int64(got)))
	return append(body[:got], rest...), err
}

func noRelease() {}

// bodyBudget bounds the bytes of request bodies held at once by requests in flight (read and
// being answered): BodyBudgetFactor × the largest body. A request past it gets a 503
// (server_busy) instead of adding its body to the heap.
type bodyBudget struct {
	used atomic.Int64 // bytes held now; changed by compare-and-swap, never past max
	max  int64
}

// BodyBudgetFactor is how many largest bodies (--max-body-bytes) requests in flight may hold
// at once.
const BodyBudgetFactor = 4

func (b *bodyBudget) acquire(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

func (b *bodyBudget) release(n int64) {
	b.used.Add(-n)
}

// held is the number of body bytes requests in flight hold now.
func (b *bodyBudget) held() int64 {
	return b.used.Load()
}

// errBodiesBusy is the 503 of a request whose body would pass the in-flight body budget.
func errBodiesBusy(max int64) *Error {
	return errMock("server_busy", fmt.Sprintf("Too many large requests at once: requests in flight may hold at most %d bytes of request bodies; try again shortly.", max))
}

// newUUID returns a random (version 4) UUID in its canonical form, as uuid.NewString does,
// in one allocation. Its randomness is the runtime's (math/rand/v2, seeded by the operating
// system): a request id must be unique, not secret.
func newUUID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10 (RFC 9562)
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
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
