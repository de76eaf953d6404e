package mockserver

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// RequestRecord is one request as the journal keeps it: what came in, what went out, and
// how the pipeline decided. Keys are redacted; bodies are capped (BodyTruncated says so).
type RequestRecord struct {
	Seq              int64     `json:"seq"`
	RequestID        string    `json:"request_id"`
	Time             time.Time `json:"time"` // the server's clock when the request arrived
	Method           string    `json:"method"`
	Path             string    `json:"path"`
	Shape            string    `json:"shape"` // "compatible", "native" or "process"
	Model            string    `json:"model,omitempty"`
	Key              string    `json:"key,omitempty"`
	Body             string    `json:"body"`
	BodyTruncated    bool      `json:"body_truncated,omitempty"`
	Stream           bool      `json:"stream"`
	Status           int       `json:"status"`
	ErrorCode        string    `json:"error_code,omitempty"`
	PromptTokens     int       `json:"prompt_tokens"`
	CompletionTokens int       `json:"completion_tokens"`
	FinishReason     string    `json:"finish_reason,omitempty"`
	Fixture          string    `json:"fixture,omitempty"`
	Fault            string    `json:"fault,omitempty"`
	PrematureRetry   bool      `json:"premature_retry,omitempty"`
	// EstimateTokens is what the request reserved against TPM before its reply (0 when it
	// did not reach the rate limiter).
	EstimateTokens int `json:"estimate_tokens,omitempty"`
	// NeverAdmissible marks a 429 whose estimate alone exceeds the TPM: no retry of the
	// same request can pass until the limit changes.
	NeverAdmissible bool `json:"never_admissible,omitempty"`
	// Interrupted marks a reply the client left before its end; CompletionTokens then
	// counts the tokens actually sent and ReplyTokens those the whole reply had.
	Interrupted bool `json:"interrupted,omitempty"`
	ReplyTokens int  `json:"reply_tokens,omitempty"`
	// CachedTokens is the prompt's cached tokens (implicit and explicit context cache),
	// CacheCreationTokens the tokens an explicit cache_control marker wrote.
	CachedTokens        int `json:"cached_tokens,omitempty"`
	CacheCreationTokens int `json:"cache_creation_input_tokens,omitempty"`
	// Headers are the request's headers, credentials redacted, at most
	// journalHeaderBytes of them (HeadersTruncated says when some were left out).
	Headers          map[string]string `json:"headers,omitempty"`
	HeadersTruncated bool              `json:"headers_truncated,omitempty"`
	DurationMs       float64           `json:"duration_ms"` // wall time from arrival to the last byte
	// Response is the body sent (for a stream, its events), capped like Body.
	Response          string `json:"response"`
	ResponseTruncated bool   `json:"response_truncated,omitempty"`
}

// journalHeaderBytes bounds the headers one journal record keeps (names plus values).
const journalHeaderBytes = 8 << 10

// redactedHeaders are shown with only enough of their value to tell credentials apart.
var redactedHeaders = map[string]bool{"Authorization": true, "X-Api-Key": true, "Proxy-Authorization": true, "Cookie": true}

// journalHeaders copies a request's headers for the journal: several values of one header
// joined by ", ", credentials redacted ("Bearer sk-…1234"), in sorted order until
// journalHeaderBytes are used. key is the request's bearer key and names its names (namesOf),
// which give the redacted Authorization header without hashing the key again.
func journalHeaders(h http.Header, key string, names *keyNames) (map[string]string, bool) {
	// The usual request has a few short headers that all fit: then the order does not
	// matter, and they are copied without sorting their names.
	type header struct{ name, value string }
	var few [16]header
	if len(h) <= len(few) {
		headers, used := few[:0], 0
		for name, vs := range h {
			v := journalHeaderValue(name, vs, key, names)
			headers = append(headers, header{name, v})
			used += len(name) + len(v)
		}
		if used <= journalHeaderBytes {
			out := make(map[string]string, len(headers))
			for _, hd := range headers {
				out[hd.name] = hd.value
			}
			return out, false
		}
	}
	out := make(map[string]string, len(h))
	used, truncated := 0, false
	for _, name := range slices.Sorted(maps.Keys(h)) {
		v := journalHeaderValue(name, h[name], key, names)
		if used+len(name)+len(v) > journalHeaderBytes {
			truncated = true
			continue
		}
		used += len(name) + len(v)
		out[name] = v
	}
	return out, truncated
}

// journalHeaderValue is the journal's value of header name: its values joined by ", ",
// redacted if it is a credential.
func journalHeaderValue(name string, vs []string, key string, names *keyNames) string {
	v := strings.Join(vs, ", ")
	if !redactedHeaders[name] {
		return v
	}
	if names != nil && name == "Authorization" {
		if scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " "); ok && scheme == "Bearer" && strings.TrimSpace(cred) == key {
			return names.bearer // redactCredential(v), remembered
		}
	}
	return redactCredential(v)
}

// redactCredential keeps an auth scheme and the redacted key: "Bearer sk-…1234".
func redactCredential(v string) string {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return redactKey(scheme)
	}
	return scheme + " " + redactKey(strings.TrimSpace(cred))
}

// String is a one-line summary, used in assertion failures.
func (r RequestRecord) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "#%d %s %s model=%q status=%d", r.Seq, r.Method, r.Path, r.Model, r.Status)
	if r.ErrorCode != "" {
		fmt.Fprintf(&sb, " error=%s", r.ErrorCode)
	}
	if r.Status == 200 {
		fmt.Fprintf(&sb, " tokens=%d+%d finish=%s", r.PromptTokens, r.CompletionTokens, r.FinishReason)
	}
	if r.Stream {
		sb.WriteString(" stream")
	}
	if r.Fixture != "" {
		fmt.Fprintf(&sb, " fixture=%s", r.Fixture)
	}
	if r.Fault != "" {
		fmt.Fprintf(&sb, " fault=%s", r.Fault)
	}
	if r.PrematureRetry {
		sb.WriteString(" premature-retry")
	}
	if r.NeverAdmissible {
		sb.WriteString(" never-admissible")
	}
	if r.Interrupted {
		fmt.Fprintf(&sb, " interrupted(sent %d of %d)", r.CompletionTokens, r.ReplyTokens)
	}
	return sb.String()
}

// RequestFilter selects journal records.
type RequestFilter func(RequestRecord) bool

// ModelIs selects requests for one model.
func ModelIs(model string) RequestFilter {
	return func(r RequestRecord) bool { return r.Model == model }
}

// PathIs selects requests to one path.
func PathIs(path string) RequestFilter { return func(r RequestRecord) bool { return r.Path == path } }

// StatusIs selects requests answered with one HTTP status.
func StatusIs(status int) RequestFilter {
	return func(r RequestRecord) bool { return r.Status == status }
}

// ErrorCodeIs selects requests that failed with one error code (the compatible code).
func ErrorCodeIs(code string) RequestFilter {
	return func(r RequestRecord) bool { return r.ErrorCode == code }
}

// journal is a bounded queue of records, oldest first: at most size records, and at most
// maxBytes of record size (recordSize) in all; the oldest go first when either bound is hit.
type journal struct {
	size     int // most records kept; 0 turns the journal off
	maxBytes int // most bytes kept, see recordSize
	bodyCap  int

	mu     sync.Mutex // guards buf, head, n, bytes, seq, clears
	buf    []RequestRecord
	sizes  []int // recordSize of each record in buf, so that evicting one reads none of it
	head   int   // index of the oldest record
	n      int   // records held
	bytes  int   // total recordSize of the records held
	seq    int64
	clears int64 // times the journal was cleared
}

func newJournal(size, bodyCap, maxBytes int) *journal {
	return &journal{size: size, bodyCap: bodyCap, maxBytes: maxBytes}
}

// journalFieldCap bounds the text fields a client chooses (model, path) in a record.
const journalFieldCap = 1024

// recordSize is what a record is charged against the journal's byte bound: its strings and
// a fixed allowance for the rest.
func recordSize(r *RequestRecord) int {
	return 256 + len(r.Body) + len(r.Path) + len(r.Model) + len(r.Key) + len(r.RequestID) +
		len(r.Method) + len(r.Shape) + len(r.ErrorCode) + len(r.FinishReason) + len(r.Fixture) + len(r.Fault) + len(r.Response)
}

// add records r and returns its sequence number (0 when the journal is off).
func (j *journal) add(r RequestRecord) int64 {
	if j.size == 0 {
		return 0
	}
	r.Model = capField(r.Model, journalFieldCap)
	r.Path = capField(r.Path, journalFieldCap)
	size := recordSize(&r)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	r.Seq = j.seq
	if j.buf == nil {
		j.buf, j.sizes = make([]RequestRecord, j.size), make([]int, j.size)
	}
	for j.n > 0 && (j.n == j.size || (j.maxBytes > 0 && j.bytes+size > j.maxBytes)) {
		j.bytes -= j.sizes[j.head]
		if j.n < j.size { // (a full journal's oldest slot takes the new record next)
			j.buf[j.head] = RequestRecord{}
		}
		j.head = (j.head + 1) % j.size
		j.n--
	}
	at := (j.head + j.n) % j.size
	j.buf[at], j.sizes[at] = r, size
	j.n++
	j.bytes += size
	return r.Seq
}

func (j *journal) list(filters []RequestFilter) []RequestRecord {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]RequestRecord, 0, j.n)
	for i := range j.n {
		r := j.buf[(j.head+i)%j.size]
		if matchAll(r, filters) {
			out = append(out, r)
		}
	}
	return out
}

// page returns up to limit records with after < seq < before (0: no bound) that every
// filter accepts: the newest of them, newest first, or with ascending the oldest, oldest
// first. more says whether other such records were left out.
func (j *journal) page(filters []RequestFilter, after, before int64, limit int, ascending bool) (out []RequestRecord, more bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for k := range j.n {
		i := j.n - 1 - k
		if ascending {
			i = k
		}
		r := &j.buf[(j.head+i)%j.size]
		if r.Seq <= after || (before > 0 && r.Seq >= before) || !matchAll(*r, filters) {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, *r)
	}
	return out, false
}

func (j *journal) clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	clear(j.buf)
	j.head, j.n, j.bytes = 0, 0, 0
	j.clears++
}

// capField keeps at most n bytes of s, cut at a character boundary, marked with "…".
func capField(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return string(s[:completeUTF8Prefix([]byte(s[:n]))]) + "…"
}

func matchAll(r RequestRecord, filters []RequestFilter) bool {
	for _, f := range filters {
		if f != nil && !f(r) {
			return false
		}
	}
	return true
}

// journalBody is what the journal keeps of a request body: the body itself when it has at
// most n bytes and its slice no spare room to speak of (readAll makes it so for a body of
// declared length), since a body is the request's own and never changes after it is read;
// otherwise a copy (capBody), so that the journal never holds more than it counts.
func journalBody(body []byte, n int) (string, bool) {
	if len(body) <= n && cap(body) <= len(body)+1 {
		return unsafe.String(unsafe.SliceData(body), len(body)), false
	}
	return capBody(body, n)
}

// capBody keeps at most n bytes of a body, cut at a character boundary.
func capBody(body []byte, n int) (string, bool) {
	if len(body) <= n {
		return string(body), false
	}
	cut := body[:n]
	return string(cut[:completeUTF8Prefix(cut)]), true
}

// Requests returns the journal, oldest first, keeping the records every filter accepts.
func (s *Server) Requests(filters ...RequestFilter) []RequestRecord { return s.journal.list(filters) }

// LastRequest returns the newest record every filter accepts.
func (s *Server) LastRequest(filters ...RequestFilter) (RequestRecord, bool) {
	all := s.journal.list(filters)
	if len(all) == 0 {
		return RequestRecord{}, false
	}
	return all[len(all)-1], true
}

// ClearRequests empties the journal.
func (s *Server) ClearRequests() { s.journal.clear() }

// ExpectRequests fails the test unless exactly n recorded requests pass the filters; the
// failure lists every request received.
func (ts *TestServer) ExpectRequests(t TestingT, n int, filters ...RequestFilter) []RequestRecord {
	t.Helper()
	got := ts.Requests(filters...)
	if len(got) != n {
		t.Fatalf("qwenmock: want %d matching requests, got %d; received:\n%s", n, len(got), describe(ts.Requests()))
	}
	return got
}

// ExpectLastRequest fails the test unless some request passes the filters, and returns the
// newest one.
func (ts *TestServer) ExpectLastRequest(t TestingT, filters ...RequestFilter) RequestRecord {
	t.Helper()
	r, ok := ts.LastRequest(filters...)
	if !ok {
		t.Fatalf("qwenmock: no matching request; received:\n%s", describe(ts.Requests()))
	}
	return r
}

func describe(rs []RequestRecord) string {
	if len(rs) == 0 {
		return "  (nothing)"
	}
	var sb strings.Builder
	for _, r := range rs {
		sb.WriteString("  ")
		sb.WriteString(r.String())
		sb.WriteByte('\n')
	}
	return strings.TrimSuffix(sb.String(), "\n")
}

// len is the number of records held.
func (j *journal) len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.n
}

// stats returns the number of records held, the sequence number of the newest ever added and
// how many times the journal was cleared.
func (j *journal) stats() (int, int64, int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.n, j.seq, j.clears
}
