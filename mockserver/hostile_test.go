package mockserver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// The hostile-input regression suite: requests a hostile or broken client sends, each
// answered through a real HTTP server with the API's own error envelope (or a valid reply),
// never a panic, a plain-text body or a header the client wrote.

const (
	compatChat = "/compatible-mode/v1/chat/completions"
	nativeGen  = "/api/v1/services/aigc/text-generation/generation"
)

// envelope checks that an answer is the JSON envelope of its shape and returns the error
// code ("" for a success).
func envelope(t *testing.T, name string, resp *http.Response, body []byte, native bool) string {
	t.Helper()
	if !utf8.Valid(body) {
		t.Errorf("%s: invalid UTF-8 in the answer", name)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		if ct == sseContentType && resp.StatusCode == 200 {
			return ""
		}
		if ct == sseContentType && !native {
			// A stream refused before it started: one "data: " event holding the error.
			data, ok := strings.CutPrefix(string(body), "data: ")
			if !ok || !strings.HasSuffix(data, "\n\n") {
				t.Errorf("%s: refused stream %.200q", name, body)
				return ""
			}
			body = []byte(strings.TrimSuffix(data, "\n\n"))
			goto compat
		}
		t.Errorf("%s: Content-Type %q, body %.200q", name, ct, body)
		return ""
	}
	if native {
		var e struct {
			Code      *string `json:"code"`
			Message   *string `json:"message"`
			RequestID string  `json:"request_id"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.RequestID == "" {
			t.Errorf("%s: not a native body: %.200q", name, body)
			return ""
		}
		if resp.StatusCode == 200 {
			return ""
		}
		if e.Code == nil || e.Message == nil || *e.Code == "" {
			t.Errorf("%s: native error without code or message: %.200q", name, body)
			return ""
		}
		return *e.Code
	}
compat:
	var e struct {
		Error *struct {
			Message *string `json:"message"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Errorf("%s: not JSON: %.200q", name, body)
		return ""
	}
	if resp.StatusCode == 200 {
		if e.Error != nil {
			t.Errorf("%s: 200 with an error body", name)
		}
		return ""
	}
	if e.Error == nil || e.Error.Message == nil || e.Error.Code == nil {
		t.Errorf("%s: %d without a compatible error object: %.200q", name, resp.StatusCode, body)
		return ""
	}
	return *e.Error.Code
}

func TestHostileBodies(t *testing.T) {
	ts := NewTestServer(t, WithMaxBodyBytes(1<<20))
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	deepObj := strings.Repeat(`{"a":`, 20_000) + "1" + strings.Repeat("}", 20_000)
	manyMsgs := "[" + strings.TrimSuffix(strings.Repeat(`{"role":"user","content":""},`, 20_000), ",") + "]"
	manyStops := `["` + strings.Repeat(`a","`, 50_000) + `b"]`
	manyTools := "[" + strings.TrimSuffix(strings.Repeat(`{"type":"function","function":{"name":"f"}},`, 2), ",") + "]"
	cases := []struct {
		name   string
		body   string
		status int // 0: any 4xx
		code   string
	}{
		{"empty", ``, 400, "invalid_parameter_error"},
		{"truncated", `{"model":`, 400, "invalid_parameter_error"},
		{"not an object", `[1,2]`, 400, "invalid_parameter_error"},
		{"trailing data", `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}]} {}`, 400, "invalid_parameter_error"},
		{"NaN literal", `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"temperature":NaN}`, 400, "invalid_parameter_error"},
		{"1e400 max_tokens", `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":1e400}`, 400, "invalid_parameter_error"},
		{"1e400 temperature", `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"temperature":1e400}`, 400, "invalid_parameter_error"},
		{"-1e400 seed", `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"seed":-1e400}`, 400, ""},
		{"model a number", `{"model":5,"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_parameter_error"},
		{"messages a string", `{"model":"qwen3-max","messages":"hi"}`, 400, "invalid_parameter_error"},
		{"message a number", `{"model":"qwen3-max","messages":[5]}`, 400, "invalid_parameter_error"},
		{"max_tokens a string", `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":"3"}`, 400, "invalid_parameter_error"},
		{"stream a string", `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"stream":"yes"}`, 400, "invalid_parameter_error"},
		{"content an object", `{"model":"qwen3-max","messages":[{"role":"user","content":{}}]}`, 400, "invalid_parameter_error"},
		{"invalid UTF-8", "{\"model\":\"qwen3-max\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\xc0\"}],\"max_tokens\":2}", 200, ""},
		{"lone surrogate", `{"model":"qwen3-max","messages":[{"role":"user","content":"\ud800x\udfff"}],"max_tokens":2}`, 200, ""},
		{"surrogate model", `{"model":"\ud800","messages":[{"role":"user","content":"hi"}]}`, 404, "model_not_found"},
		{"invalid UTF-8 model", "{\"model\":\"q\xff\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 404, "model_not_found"},
		{"deep arrays", `{"model":"qwen3-max","messages":` + deep + `}`, 400, "invalid_parameter_error"},
		{"deep objects", `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"x":` + deepObj + `}`, 400, "invalid_parameter_error"},
		{"deep tool schema", `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"tool_choice":"required","tools":[{"type":"function","function":{"name":"f","parameters":` + strings.Repeat(`{"properties":{"a":`, 2000) + "{}" + strings.Repeat("}}", 2000) + `}}]}`, 0, ""},
		{"many messages", `{"model":"qwen3-max","messages":` + manyMsgs + `,"max_tokens":2}`, 200, ""},
		{"many stops", `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"stop":` + manyStops + `,"max_tokens":2}`, 200, ""},
		{"duplicate tools", `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"tools":` + manyTools + `}`, 400, "invalid_parameter_error"},
		{"over-size", `{"model":"qwen3-max","messages":[{"role":"user","content":"` + strings.Repeat("a", 1<<20) + `"}]}`, 413, "BadRequest.TooLarge"},
		{"control characters", "{\"model\":\"qwen3-max\",\"messages\":[{\"role\":\"user\",\"content\":\"\x00\x01\"}]}", 400, "invalid_parameter_error"},
	}
	for _, c := range cases {
		for _, native := range []bool{false, true} {
			path, body := compatChat, c.body
			if native {
				path, body = nativeGen, nativeOf(c.body)
			}
			name := fmt.Sprintf("%s (native %v)", c.name, native)
			resp, out := send(t, http.MethodPost, ts.URL+path, body, apiHeaders()...)
			code := envelope(t, name, resp, out, native)
			if native {
				// The native shape validates its own fields; any answer but a 5xx passes,
				// in its envelope (checked above).
				if resp.StatusCode >= 500 {
					t.Errorf("%s: %d %.200s", name, resp.StatusCode, out)
				}
				continue
			}
			switch {
			case c.status == 0 && (resp.StatusCode < 400 || resp.StatusCode >= 500) && resp.StatusCode != 200:
				t.Errorf("%s: %d %.200s", name, resp.StatusCode, out)
			case c.status != 0 && resp.StatusCode != c.status:
				t.Errorf("%s: %d %.200s; want %d", name, resp.StatusCode, out, c.status)
			case c.code != "" && code != c.code:
				t.Errorf("%s: code %q; want %q", name, code, c.code)
			}
		}
	}
	if resp, out := send(t, http.MethodGet, ts.URL+"/_mock/health", ""); resp.StatusCode != 200 {
		t.Fatalf("server after the hostile bodies: %d %s", resp.StatusCode, out)
	}
}

// nativeOf moves a compatible body's messages under "input" and its other fields under
// "parameters", as the native endpoint takes them. Bodies that are not objects pass as sent.
func nativeOf(body string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(body), &m) != nil {
		return body
	}
	out := map[string]any{}
	params := map[string]json.RawMessage{}
	for k, v := range m {
		switch k {
		case "model":
			out["model"] = v
		case "messages":
			out["input"] = map[string]json.RawMessage{"messages": v}
		default:
			params[k] = v
		}
	}
	out["parameters"] = params
	b, _ := json.Marshal(out)
	return string(b)
}

// Chunked bodies over the limit get a 413 too, and a chunked body is read whole.
func TestHostileChunkedBodies(t *testing.T) {
	ts := NewTestServer(t, WithMaxBodyBytes(1<<16))
	for _, c := range []struct {
		body   string
		status int
	}{
		{`{"model":"qwen3-max","messages":[{"role":"user","content":"` + strings.Repeat("a", 1<<17) + `"}]}`, 413},
		{`{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`, 200},
	} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+compatChat, io.MultiReader(strings.NewReader(c.body)))
		req.ContentLength = -1 // chunked
		req.Header.Set("Authorization", "Bearer sk-test")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || len(resp.TransferEncoding) > 0 && resp.StatusCode != 200 {
			t.Errorf("chunked %d bytes: %d %.200s", len(c.body), resp.StatusCode, out)
		}
		envelope(t, "chunked", resp, out, false)
	}
}

// Paths that try to escape or confuse the route table get the compatible 404 or 405.
func TestHostilePaths(t *testing.T) {
	ts := NewTestServer(t)
	host := strings.TrimPrefix(ts.URL, "http://")
	for _, p := range []struct {
		path   string
		status int
	}{
		{"/compatible-mode/v1/../v1/chat/completions", 404},
		{"//compatible-mode/v1/chat/completions", 404},
		{"/compatible-mode/v1/chat/completions/", 404},
		{"/compatible-mode/v1/chat/%2e%2e/completions", 404},
		{"/compatible-mode/v1/chat/completions%00", 404},
		{"/_mock/../_mock/requests", 404},
		{"/_mock/%72equests", 200}, // an escaped letter is the same path
		{"/" + strings.Repeat("a/", 2000), 404},
	} {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer sk-test\r\nConnection: close\r\n\r\n", p.path, host)
		resp, err := http.ReadResponse(bufioReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", p.path, err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		c.Close()
		if resp.StatusCode != p.status {
			t.Errorf("%s: %d %.200s; want %d", p.path, resp.StatusCode, out, p.status)
		}
		envelope(t, p.path, resp, out, false)
	}
}

// A model name, fixture name or fault header carrying CR LF never becomes a header of the
// answer.
func TestHostileHeaderInjection(t *testing.T) {
	ts := NewTestServer(t)
	for _, body := range []string{
		`{"model":"qwen3-max\r\nX-Evil: 1","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"qwen3-max\nX-Evil: 1","messages":[{"role":"user","content":"hi"}],"stream":true}`,
	} {
		for _, path := range []string{compatChat, nativeGen} {
			b := body
			if path == nativeGen {
				b = nativeOf(body)
			}
			resp, out := send(t, http.MethodPost, ts.URL+path, b, apiHeaders()...)
			if resp.Header.Get("X-Evil") != "" || resp.StatusCode != 404 {
				t.Errorf("%s %q: %d %v %.200s", path, body, resp.StatusCode, resp.Header, out)
			}
			envelope(t, path, resp, out, path == nativeGen)
		}
	}
	resp, out := send(t, http.MethodPost, ts.URL+compatChat, `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}]}`,
		append(apiHeaders(), "X-Mock-Fault", "internal; delay_ms=1\tX-Evil: 1")...)
	if resp.Header.Get("X-Evil") != "" || resp.StatusCode != 400 {
		t.Errorf("fault header: %d %v %s", resp.StatusCode, resp.Header, out)
	}
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }
