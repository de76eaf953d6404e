package mockserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCompatChat sends arbitrary bodies to the chat endpoint: every answer must be a JSON
// body (or, for streams, SSE events) in the API's envelope, never a panic or plain text.
func FuzzCompatChat(f *testing.F) {
	seeds := []string{
		`{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"qwen3-max","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_tokens":3}`,
		`{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"qwen3-max","messages":[{"role":"user","content":"<|im_end|>\u0000\ud800"}],"n":2,"seed":5}`,
		`{"model":"qwen-max","messages":[],"temperature":"x"}`,
		`{"model":null,"messages":null,"max_tokens":-1e400}`,
		`[]`, `null`, `"x"`, `{`, ``,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	srv, err := New(WithMaxInputTokens(2000), WithMaxBodyBytes(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/compatible-mode/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-test")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		out := rec.Body.String()
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 in answer")
		}
		switch ct := rec.Header().Get("Content-Type"); ct {
		case "application/json":
			var v map[string]json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatalf("answer is not a JSON object: %q", out)
			}
			_, isErr := v["error"]
			if (rec.Code == 200) == isErr {
				t.Fatalf("status %d with body %q", rec.Code, out)
			}
		case sseContentType:
			for _, ev := range strings.Split(strings.TrimSuffix(out, "\n\n"), "\n\n") {
				data, ok := strings.CutPrefix(ev, "data: ")
				if !ok || (data != "[DONE]" && !json.Valid([]byte(data))) {
					t.Fatalf("bad SSE event %q", ev)
				}
			}
		default:
			t.Fatalf("Content-Type %q, body %q", ct, out)
		}
	})
}

// FuzzAppendJSONString checks that hand-built strings match encoding/json byte for byte.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "<400> & \"q\" \\", "\u2028\u2029\x00\x1f\b\f\n\r\t", "\xff\xfe", "中文🦙"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := string(appendJSONString(nil, s))
		want := string(marshalJSON(s))
		if got != want {
			t.Fatalf("appendJSONString(%q) = %s, encoding/json gives %s", s, got, want)
		}
	})
}

// FuzzNativeGeneration does the same for the native endpoint, streamed or not: every answer
// is a native JSON body or native SSE frames.
func FuzzNativeGeneration(f *testing.F) {
	seeds := []string{
		`{"model":"qwen3-max","input":{"prompt":"hi"}}`,
		`{"model":"qwen3-max","input":{"messages":[{"role":"user","content":"hi"}]},"parameters":{"result_format":"text","max_tokens":3}}`,
		`{"model":"qwen3-max","input":{"prompt":"hi"},"parameters":{"enable_thinking":true,"incremental_output":true}}`,
		`{"model":"qwen3-max","input":{}}`, `{"input":null}`, `{"parameters":[]}`, `[]`, ``,
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	srv, err := New(WithMaxInputTokens(2000), WithMaxBodyBytes(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string, stream bool) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/services/aigc/text-generation/generation", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-test")
		if stream {
			req.Header.Set("X-DashScope-SSE", "enable")
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		out := rec.Body.String()
		switch ct := rec.Header().Get("Content-Type"); ct {
		case "application/json":
			var v map[string]json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatalf("answer is not a JSON object: %q", out)
			}
			_, isErr := v["code"]
			if (rec.Code == 200) == isErr {
				t.Fatalf("status %d with body %q", rec.Code, out)
			}
		case sseContentType:
			for _, frame := range strings.Split(strings.TrimSuffix(out, "\n\n"), "\n\n") {
				lines := strings.Split(frame, "\n")
				if len(lines) != 4 || !strings.HasPrefix(lines[0], "id:") || !strings.HasPrefix(lines[2], ":HTTP_STATUS/") ||
					!json.Valid([]byte(strings.TrimPrefix(lines[3], "data:"))) {
					t.Fatalf("bad frame %q", frame)
				}
			}
		default:
			t.Fatalf("Content-Type %q, body %q", ct, out)
		}
	})
}
