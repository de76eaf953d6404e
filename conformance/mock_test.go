// Package conformance drives the qwenmock binary with real, unmodified client libraries, as
// users' programs do: the official OpenAI Go SDK (openai-go), go-openai and langchaingo here,
// the OpenAI Node SDK, the Vercel AI SDK and LangChain JS in the node/ and langchain/ folders.
// See README.md for what each client is checked for.
package conformance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	model   = "qwen3-max"
	testKey = "sk-conformance"
)

// mockBin is the qwenmock binary under test: $QWENMOCK_BIN when set, else built once by TestMain
// from the working tree.
var mockBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if bin := os.Getenv("QWENMOCK_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
			return 1
		}
		mockBin = abs
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "qwenmock-conformance-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	mockBin = filepath.Join(dir, "qwenmock")
	if err := buildMock(mockBin); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		return 1
	}
	return m.Run()
}

// buildMock runs `go build -o out ./cmd/qwenmock` at the module root.
func buildMock(out string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		// Not on PATH: the toolchain this test binary was built with.
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	gomod, err := exec.Command(goTool, "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		root = ".."
	}
	cmd := exec.Command(goTool, "build", "-o", out, "./cmd/qwenmock")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/qwenmock: %v\n%s", err, b)
	}
	return nil
}

// mockProc is one running qwenmock process.
type mockProc struct {
	URL    string
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	mu     sync.Mutex
	stderr bytes.Buffer
}

func (p *mockProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// launch starts the binary with --addr 127.0.0.1:0 and flags and waits for its listening line.
// When the process exits first, the error carries what it wrote to stderr.
func launch(flags ...string) (*mockProc, error) {
	args := append([]string{"--addr", "127.0.0.1:0"}, flags...)
	cmd := exec.Command(mockBin, args...)
	cmd.Env = cleanEnv()
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &mockProc{cmd: cmd, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			p.mu.Unlock()
			if u, ok := strings.CutPrefix(line, "qwenmock listening on "); ok {
				select {
				case urls <- strings.TrimSpace(u):
				default:
				}
			}
		}
		io.Copy(io.Discard, pipe)
		cmd.Wait()
		close(p.done)
	}()
	select {
	case u := <-urls:
		p.URL = u
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("qwenmock %s exited before listening: %s\n%s",
			strings.Join(flags, " "), cmd.ProcessState, p.output())
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-p.done
		return nil, fmt.Errorf("qwenmock %s printed no listening line in 15 s\n%s", strings.Join(flags, " "), p.output())
	}
}

// stop sends SIGTERM and waits for the exit, killing the process after 15 s.
func (p *mockProc) stop() (exitCode int, err error) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return -1, errors.New("qwenmock did not exit within 15 s of SIGTERM")
	}
	return p.cmd.ProcessState.ExitCode(), nil
}

// cleanEnv is the test's environment without QWENMOCK_* variables, so that only the flags of
// each test configure the server.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "QWENMOCK_") {
			env = append(env, kv)
		}
	}
	return env
}

// startMock starts qwenmock with flags for one test and returns its base URL
// (http://127.0.0.1:PORT); the process gets SIGTERM when the test ends and must exit 0.
func startMock(t testing.TB, flags ...string) string {
	t.Helper()
	p, err := launch(flags...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		code, err := p.stop()
		if err != nil {
			t.Error(err)
		} else if code != 0 {
			t.Errorf("qwenmock exited %d after SIGTERM; stderr:\n%s", code, p.output())
		}
	})
	return p.URL
}

// compatBase is the OpenAI-compatible base URL of a mock.
func compatBase(base string) string { return base + "/compatible-mode/v1" }

// fixturesYAML gives the tool-call and thinking tests deterministic replies.
const fixturesYAML = `fixtures:
  - name: conformance-weather
    match:
      contains: weather in Hangzhou
      tools: true
    replies:
      - tool_calls:
          - name: get_weather
            arguments: {city: Hangzhou, unit: celsius}
      - content: "It is sunny in Hangzhou, 24 °C."
  - name: conformance-prime
    match:
      contains: "Is 17 prime"
    reply:
      content: "Yes, 17 is prime."
      reasoning: "17 is not divisible by 2, 3 or any prime up to its square root, so it is prime."
`

const (
	weatherQuestion = "What is the weather in Hangzhou?"
	weatherArgs     = `{"city": "Hangzhou", "unit": "celsius"}`
	weatherResult   = `{"condition": "sunny", "celsius": 24}`
	weatherAnswer   = "It is sunny in Hangzhou, 24 °C."
	primeQuestion   = "Is 17 prime?"
	primeAnswer     = "Yes, 17 is prime."
	primeReasoning  = "17 is not divisible by 2, 3 or any prime up to its square root, so it is prime."
	weatherToolDesc = "Current weather of a city"
	jsonQuestion    = "List three colours as JSON."
)

// weatherSchema is the parameters schema of the get_weather tool.
var weatherSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"city": map[string]any{"type": "string"},
		"unit": map[string]any{"type": "string", "enum": []any{"celsius", "fahrenheit"}},
	},
	"required": []any{"city", "unit"},
}

// fixtureFile writes fixturesYAML into the test's temporary directory.
func fixtureFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fixtures.yaml")
	if err := os.WriteFile(path, []byte(fixturesYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// longPrompt is well over 100 tokens, for servers started with --max-input-tokens 100.
var longPrompt = strings.Repeat("word ", 200)

const contextMessage = "<400> InternalError.Algo.InvalidParameter: Range of input length should be [1, 100]"

const wrongKeyMessage = "Incorrect API key provided. For details, see: https://www.alibabacloud.com/help/en/model-studio/error-code#apikey-error"

// exchange is one HTTP round trip seen by a recorder.
type exchange struct {
	Method, URL string
	ReqBody     []byte
	Status      int
	Header      http.Header
	RespBody    []byte // complete once the client has read the body to its end
}

// recorder is an http.RoundTripper that keeps every request and response body, so that tests
// can check the bytes on the wire next to what the client made of them. Optional hooks edit the
// outgoing JSON body (clients that cannot send a vendor parameter) and observe responses.
type recorder struct {
	mu        sync.Mutex
	exchanges []*exchange
	// addFields are set at the top level of every JSON request body.
	addFields map[string]any
	// onResponse runs after each response's headers arrive.
	onResponse func(*http.Response)
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	if len(r.addFields) > 0 && len(body) > 0 {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err == nil {
			for k, v := range r.addFields {
				raw, _ := json.Marshal(v)
				m[k] = raw
			}
			body, _ = json.Marshal(m)
		}
	}
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	ex := &exchange{Method: req.Method, URL: req.URL.String(), ReqBody: body, Status: resp.StatusCode, Header: resp.Header.Clone()}
	r.mu.Lock()
	r.exchanges = append(r.exchanges, ex)
	r.mu.Unlock()
	resp.Body = &teeBody{rc: resp.Body, r: r, ex: ex}
	if r.onResponse != nil {
		r.onResponse(resp)
	}
	return resp, nil
}

func (r *recorder) client() *http.Client { return &http.Client{Transport: r} }

// all returns the exchanges so far.
func (r *recorder) all() []*exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*exchange, len(r.exchanges))
	for i, ex := range r.exchanges {
		cp := *ex
		cp.RespBody = bytes.Clone(ex.RespBody)
		out[i] = &cp
	}
	return out
}

// last returns the latest exchange; the test fails when there is none.
func (r *recorder) last(t testing.TB) *exchange {
	t.Helper()
	all := r.all()
	if len(all) == 0 {
		t.Fatal("no request was recorded")
	}
	return all[len(all)-1]
}

type teeBody struct {
	rc io.ReadCloser
	r  *recorder
	ex *exchange
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.r.mu.Lock()
		b.ex.RespBody = append(b.ex.RespBody, p[:n]...)
		b.r.mu.Unlock()
	}
	return n, err
}

func (b *teeBody) Close() error { return b.rc.Close() }

// sseData returns the payloads of the data: lines of a compat SSE body, after checking its
// framing: every event is one data: line ended by a blank line, the last one is [DONE].
func sseData(t testing.TB, body []byte) []string {
	t.Helper()
	s := string(body)
	if !strings.HasSuffix(s, "data: [DONE]\n\n") {
		t.Errorf("stream does not end with \"data: [DONE]\\n\\n\": ...%q", tail(s, 80))
	}
	var out []string
	for _, ev := range strings.Split(strings.TrimSuffix(s, "\n\n"), "\n\n") {
		payload, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(payload, "\n") {
			t.Errorf("event is not one \"data: \" line followed by a blank line: %q", ev)
			continue
		}
		out = append(out, payload)
	}
	return out
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// chunkShape is the part of a compat stream chunk that the clients' quirks depend on.
type chunkShape struct {
	ID      string          `json:"id"`
	Created int64           `json:"created"`
	Model   string          `json:"model"`
	Object  string          `json:"object"`
	Choices json.RawMessage `json:"choices"`
	Usage   json.RawMessage `json:"usage"`
}

// checkChunks checks the stream invariants that clients rely on and returns the parsed chunks
// (without [DONE]): one id on every chunk (openai-go's accumulator), "usage":null on every
// chunk but the usage chunk (openai-go adds usage up), and, when wantUsage, a last chunk with
// "choices":[] (the AI SDK's schema needs an array) and the usage object.
func checkChunks(t testing.TB, body []byte, wantUsage bool) []chunkShape {
	t.Helper()
	data := sseData(t, body)
	if len(data) < 2 || data[len(data)-1] != "[DONE]" {
		t.Fatalf("stream has no [DONE] or no chunks: %q", data)
	}
	var chunks []chunkShape
	for _, d := range data[:len(data)-1] {
		var c chunkShape
		if err := json.Unmarshal([]byte(d), &c); err != nil {
			t.Fatalf("chunk %q: %v", d, err)
		}
		chunks = append(chunks, c)
	}
	for i, c := range chunks {
		if c.ID != chunks[0].ID || !strings.HasPrefix(c.ID, "chatcmpl-") {
			t.Errorf("chunk %d id %q, first chunk %q", i, c.ID, chunks[0].ID)
		}
		if c.Object != "chat.completion.chunk" || c.Created != chunks[0].Created || c.Model != chunks[0].Model {
			t.Errorf("chunk %d: object %q created %d model %q; first chunk created %d model %q",
				i, c.Object, c.Created, c.Model, chunks[0].Created, chunks[0].Model)
		}
		isUsage := wantUsage && i == len(chunks)-1
		if !isUsage && string(c.Usage) != "null" {
			t.Errorf("chunk %d: usage %s, want null before the usage chunk", i, c.Usage)
		}
	}
	if wantUsage {
		lastChunk := chunks[len(chunks)-1]
		if string(lastChunk.Choices) != "[]" {
			t.Errorf(`usage chunk: "choices":%s, want "choices":[]`, lastChunk.Choices)
		}
		if len(lastChunk.Usage) == 0 || string(lastChunk.Usage) == "null" {
			t.Errorf("usage chunk has no usage: %+v", lastChunk)
		}
	}
	return chunks
}

// checkJSONHeaders checks what clients need of a non-stream answer: a JSON content type and an
// x-request-id header equal to the body's request id (the id's UUID for completions).
func checkJSONHeaders(t testing.TB, ex *exchange) {
	t.Helper()
	if ct := ex.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	rid := ex.Header.Get("X-Request-Id")
	if rid == "" {
		t.Errorf("no x-request-id header")
		return
	}
	var body struct {
		ID        string `json:"id"`
		RequestID string `json:"request_id"`
	}
	json.Unmarshal(ex.RespBody, &body)
	if body.ID != "" && body.ID != "chatcmpl-"+rid {
		t.Errorf("id %q, x-request-id %q", body.ID, rid)
	}
	if body.RequestID != "" && body.RequestID != rid {
		t.Errorf("request_id %q, x-request-id %q", body.RequestID, rid)
	}
}

// checkStreamHeaders checks the content type of a stream and its x-request-id, the UUID of
// the chunks' id.
func checkStreamHeaders(t testing.TB, ex *exchange) {
	t.Helper()
	if ct := ex.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("stream Content-Type %q, want text/event-stream", ct)
	}
	rid := ex.Header.Get("X-Request-Id")
	var first chunkShape
	payload, _ := strings.CutPrefix(strings.SplitN(string(ex.RespBody), "\n", 2)[0], "data: ")
	json.Unmarshal([]byte(payload), &first)
	if rid == "" || first.ID != "chatcmpl-"+rid {
		t.Errorf("stream x-request-id %q, chunk id %q", rid, first.ID)
	}
}

// checkErrorEnvelope checks a compat error body: error.message present, error.code a string.
func checkErrorEnvelope(t testing.TB, ex *exchange, wantStatus int, wantCode, wantMessage string) {
	t.Helper()
	if ex.Status != wantStatus {
		t.Errorf("status %d, want %d", ex.Status, wantStatus)
	}
	body := bytes.TrimSpace(ex.RespBody)
	if p, ok := bytes.CutPrefix(body, []byte("data: ")); ok {
		body = p
	}
	var env struct {
		Error map[string]json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Error == nil {
		t.Fatalf("error body %q is not the compat envelope: %v", ex.RespBody, err)
	}
	var msg, code string
	if err := json.Unmarshal(env.Error["message"], &msg); err != nil {
		t.Errorf("error.message missing or not a string: %s", ex.RespBody)
	}
	if err := json.Unmarshal(env.Error["code"], &code); err != nil {
		t.Errorf("error.code missing or not a string: %s", ex.RespBody)
	}
	if code != wantCode || msg != wantMessage {
		t.Errorf("error code %q message %q, want %q %q", code, msg, wantCode, wantMessage)
	}
}

// postJSON sends one raw request to the mock (control API and probes).
func postJSON(ctx context.Context, url, key string, body any) (*http.Response, []byte, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	return resp, rb, err
}
