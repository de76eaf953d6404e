package mockserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testTime is the fixed clock of most tests: created = 1735120033.
var testTime = time.Unix(1735120033, 0)

// sequentialIDs returns request ids "00000000-0000-4000-8000-00000000000N", N = 1, 2, …
func sequentialIDs() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n.Add(1)) }
}

const firstID = "00000000-0000-4000-8000-000000000001"

// newTestHandler builds a Server with a fixed clock and sequential ids.
func newTestHandler(t *testing.T, opts ...Option) *Server {
	t.Helper()
	base := []Option{WithClock(FixedClock(testTime)), WithRequestIDs(sequentialIDs())}
	srv, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return srv
}

// do sends one request to h in process and returns the recorded response.
func do(t *testing.T, h http.Handler, method, path, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host = "127.0.0.1" // a local client, as the control API requires without a token
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func chat(t *testing.T, h http.Handler, body string) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, h, http.MethodPost, "/compatible-mode/v1/chat/completions", "sk-test", body)
}

// completion is the decoded non-stream body, for assertions on values.
type completion struct {
	Choices []struct {
		Message struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
		Index        int    `json:"index"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
	ID    string `json:"id"`
	Model string `json:"model"`
}

func decodeCompletion(t *testing.T, rec *httptest.ResponseRecorder) completion {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	var c completion
	if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return c
}

// sseEvents splits an SSE body into the payloads of its "data: " lines, checking that every
// event ends with a blank line.
func sseEvents(t *testing.T, r io.Reader) []string {
	t.Helper()
	var events []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	expectBlank := false
	for sc.Scan() {
		line := sc.Text()
		if expectBlank {
			if line != "" {
				t.Fatalf("event not followed by a blank line: %q", line)
			}
			expectBlank = false
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("unexpected SSE line %q", line)
		}
		events = append(events, data)
		expectBlank = true
	}
	if expectBlank {
		t.Fatalf("last event not terminated by a blank line")
	}
	return events
}

// newChunkedRequest builds a request whose body length is unknown (ContentLength -1).
func newChunkedRequest(t *testing.T, body io.Reader) *http.Request {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/compatible-mode/v1/chat/completions", io.NopCloser(body))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer sk-test")
	return req
}

func recorderFor(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// apiHeaders are the headers of an API request from a well-behaved client.
func apiHeaders() []string {
	return []string{"Authorization", "Bearer sk-test", "Content-Type", "application/json"}
}

// send makes one request to a running server and reads the whole answer. Header pairs are
// set in order, so later ones override earlier ones.
func send(t *testing.T, method, url, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, out
}

// sleepLog is a sleeper for a test server: it records the simulated waits instead of
// spending them, so that pacing is tested without the wall clock. With a gate, the first
// wait holds until the gate is closed.
type sleepLog struct {
	mu    sync.Mutex // guards waits
	waits []time.Duration
	gate  chan struct{}
	once  sync.Once
}

func (l *sleepLog) option() Option {
	return func(c *config) error { c.sleep = l.sleep; return nil }
}

func (l *sleepLog) sleep(ctx context.Context, d time.Duration) error {
	l.mu.Lock()
	l.waits = append(l.waits, d)
	l.mu.Unlock()
	if l.gate != nil {
		l.once.Do(func() {
			select {
			case <-l.gate:
			case <-ctx.Done():
			}
		})
	}
	return ctx.Err()
}

func (l *sleepLog) get() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.waits)
}

func sumDurations(ds []time.Duration) time.Duration {
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	return total
}

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got  %s\n want %s", name, got, want)
	}
}

// postNative sends a native request to a running server; header pairs follow the body.
func postNative(t *testing.T, ts *TestServer, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	return send(t, http.MethodPost, ts.URL+nativePath, body, append(apiHeaders(), headers...)...)
}

// post sends body to the compatible endpoint of a running server.
func post(t *testing.T, ts *TestServer, body string, headers ...string) (int, []byte) {
	t.Helper()
	resp, out := send(t, http.MethodPost, ts.OpenAIBaseURL()+"/chat/completions", body, append(apiHeaders(), headers...)...)
	return resp.StatusCode, out
}

func postStream(t *testing.T, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/compatible-mode/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk-test")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// controlCall sends a control request and returns the status and body.
func controlCall(t *testing.T, ts *TestServer, method, path, body string, headers ...string) (int, string) {
	t.Helper()
	if body != "" {
		headers = append([]string{"Content-Type", "application/json"}, headers...)
	}
	resp, out := send(t, method, ts.URL+path, body, headers...)
	return resp.StatusCode, string(out)
}

func chatAs(t *testing.T, h http.Handler, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, h, http.MethodPost, "/compatible-mode/v1/chat/completions", key, body)
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	var v json.RawMessage
	dec := json.NewDecoder(resp.Body)
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return string(v)
}

func writeFixtures(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fixtures.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
