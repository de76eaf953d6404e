package mockserver

import (
	"net/http"
	"strings"
	"testing"
)

// TestCompatErrors checks the exact status and body of every validation error of
// the real service in the compatible shape.
func TestCompatErrors(t *testing.T) {
	t.Parallel()
	const algo = "<400> InternalError.Algo.InvalidParameter: "
	user := `"messages":[{"role":"user","content":"hi"}]`
	invalid := func(msg string) string {
		return `{"error":{"message":"` + algo + msg + `","type":"invalid_request_error","param":null` +
			`,"code":"invalid_parameter_error"},"id":"chatcmpl-` + firstID + `","request_id":"` + firstID + `"}`
	}
	badRequest := func(msg string) string {
		return `{"error":{"message":"` + msg + `","type":"invalid_request_error","param":null` +
			`,"code":"invalid_parameter_error"},"request_id":"` + firstID + `"}`
	}
	cases := []struct {
		name   string
		key    string
		body   string
		status int
		want   string
	}{
		{"no key", "", `{"model":"qwen3-max",` + user + `}`, 401,
			`{"error":{"message":"No API-key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"},"request_id":"` + firstID + `"}`},
		{"missing model", "sk-test", `{` + user + `}`, 400,
			`{"error":{"message":"you must provide a model parameter","type":"invalid_request_error","param":null,"code":"invalid_request_error"},"request_id":"` + firstID + `"}`},
		{"unknown model", "sk-test", `{"model":"gpt-4o",` + user + `}`, 404,
			"{\"error\":{\"message\":\"The model `gpt-4o` does not exist or you do not have access to it.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"model_not_found\"},\"request_id\":\"" + firstID + `"}`},
		{"empty messages", "sk-test", `{"model":"qwen3-max","messages":[]}`, 400,
			`{"error":{"message":"[] is too short - 'messages'","type":"invalid_request_error","param":null,"code":"invalid_parameter_error"},"request_id":"` + firstID + `"}`},
		{"missing messages", "sk-test", `{"model":"qwen3-max"}`, 400, badRequest("'messages' is a required property")},
		{"max_tokens 0", "sk-test", `{"model":"qwen3-max",` + user + `,"max_tokens":0}`, 400, invalid("Range of max_tokens should be [1, 65536]")},
		{"max_tokens too big", "sk-test", `{"model":"qwen3-max",` + user + `,"max_tokens":65537}`, 400, invalid("Range of max_tokens should be [1, 65536]")},
		{"max_tokens huge", "sk-test", `{"model":"qwen3-max",` + user + `,"max_tokens":1e300}`, 400, invalid("Range of max_tokens should be [1, 65536]")},
		{"max_completion_tokens", "sk-test", `{"model":"qwen-max",` + user + `,"max_completion_tokens":9000}`, 400, invalid("Range of max_tokens should be [1, 8192]")},
		{"temperature 2", "sk-test", `{"model":"qwen3-max",` + user + `,"temperature":2}`, 400, invalid("Temperature should be in [0.0, 2.0)")},
		{"temperature negative", "sk-test", `{"model":"qwen3-max",` + user + `,"temperature":-0.1}`, 400, invalid("Temperature should be in [0.0, 2.0)")},
		{"top_p 0", "sk-test", `{"model":"qwen3-max",` + user + `,"top_p":0}`, 400, invalid("Range of top_p should be (0.0, 1.0]")},
		{"top_p above 1", "sk-test", `{"model":"qwen3-max",` + user + `,"top_p":1.01}`, 400, invalid("Range of top_p should be (0.0, 1.0]")},
		{"presence_penalty", "sk-test", `{"model":"qwen3-max",` + user + `,"presence_penalty":2.5}`, 400, invalid("Presence_penalty should be in [-2.0, 2.0]")},
		{"n 5", "sk-test", `{"model":"qwen3-max",` + user + `,"n":5}`, 400, invalid("Range of n should be [1, 4]")},
		{"n 0", "sk-test", `{"model":"qwen3-max",` + user + `,"n":0}`, 400, invalid("Range of n should be [1, 4]")},
		{"seed negative", "sk-test", `{"model":"qwen3-max",` + user + `,"seed":-1}`, 400,
			`{"error":{"message":"-1 is lesser than the minimum of 0 - 'seed'","type":"invalid_request_error","param":null,"code":"invalid_value"},"request_id":"` + firstID + `"}`},
		{"seed too big", "sk-test", `{"model":"qwen3-max",` + user + `,"seed":2147483648}`, 400,
			`{"error":{"message":"2147483648 is greater than the maximum of 2147483647 - 'seed'","type":"invalid_request_error","param":null,"code":"invalid_value"},"request_id":"` + firstID + `"}`},
		{"top_logprobs", "sk-test", `{"model":"qwen3-max",` + user + `,"top_logprobs":6}`, 400, invalid("Range of top_logprobs should be [0, 5]")},
		{"malformed JSON", "sk-test", `{"model":"qwen3-max",`, 400, badRequest("The request body is not valid JSON: unexpected EOF.")},
		{"syntax error", "sk-test", `{"model":qwen3-max}`, 400, badRequest("The request body is not valid JSON: invalid character 'q' looking for beginning of value (at byte 10).")},
		{"empty body", "sk-test", ``, 400, badRequest("The request body is empty; it must be a JSON object.")},
		{"not an object", "sk-test", `[1,2]`, 400, badRequest("The request body must be a JSON object, not an array.")},
		{"trailing data", "sk-test", `{"model":"qwen3-max",` + user + `} {}`, 400, badRequest("The request body must hold exactly one JSON object.")},
		{"temperature string", "sk-test", `{"model":"qwen3-max",` + user + `,"temperature":"hot"}`, 400, badRequest("Invalid type for 'temperature': expected a number, but got a string instead.")},
		{"max_tokens string", "sk-test", `{"model":"qwen3-max",` + user + `,"max_tokens":"5"}`, 400, badRequest("Invalid type for 'max_tokens': expected an integer, but got a string instead.")},
		{"max_tokens fraction", "sk-test", `{"model":"qwen3-max",` + user + `,"max_tokens":5.5}`, 400, badRequest("Invalid type for 'max_tokens': expected an integer, but got the number 5.5 instead.")},
		{"model number", "sk-test", `{"model":7,` + user + `}`, 400, badRequest("Invalid type for 'model': expected a string, but got a number instead.")},
		{"content number", "sk-test", `{"model":"qwen3-max","messages":[{"role":"user","content":7}]}`, 400, badRequest("Invalid type for 'messages.content': expected a string, but got a number instead.")},
		{"content image part", "sk-test", `{"model":"qwen3-max","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`, 400,
			invalid("The provided messages input is invalid. The error info is [Unexpected item type in content.].")},
		{"content unknown part", "sk-test", `{"model":"qwen3-max","messages":[{"role":"user","content":[{"type":"hologram"}]}]}`, 400,
			badRequest("Content part 0 has type 'hologram'; the parts of a message are text, image_url, input_audio or video.")},
		{"bad role", "sk-test", `{"model":"qwen3-max","messages":[{"role":"developer","content":"x"}]}`, 400,
			badRequest("messages[0]: role must be one of system, user, assistant, tool; got 'developer'.")},
		{"messages object", "sk-test", `{"model":"qwen3-max","messages":{}}`, 400, badRequest("Invalid type for 'messages': expected an array, but got an object instead.")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestHandler(t)
			rec := do(t, srv, http.MethodPost, "/compatible-mode/v1/chat/completions", tc.key, tc.body)
			if rec.Code != tc.status {
				t.Errorf("status = %d, want %d", rec.Code, tc.status)
			}
			if got := rec.Body.String(); got != tc.want {
				t.Errorf("body:\n got  %s\n want %s", got, tc.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if id := rec.Header().Get("X-Request-Id"); id != firstID {
				t.Errorf("x-request-id = %q", id)
			}
		})
	}
}

func TestWrongKey(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t, WithAPIKeys("sk-good", "sk-other"))
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}]}`
	rec := do(t, srv, http.MethodPost, "/compatible-mode/v1/chat/completions", "sk-bad", body)
	want := `{"error":{"message":"Incorrect API key provided. For details, see: https://www.alibabacloud.com/help/en/model-studio/error-code#apikey-error","type":"invalid_request_error","param":null,"code":"invalid_api_key"},"request_id":"` + firstID + `"}`
	if rec.Code != 401 || rec.Body.String() != want {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	for _, key := range []string{"sk-good", "sk-other"} {
		if rec := do(t, srv, http.MethodPost, "/compatible-mode/v1/chat/completions", key, body); rec.Code != 200 {
			t.Errorf("key %s: status %d %s", key, rec.Code, rec.Body)
		}
	}
}

func TestBodyTooLarge(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t, WithMaxBodyBytes(1000))
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"` + strings.Repeat("a", 1000) + `"}]}`
	rec := chat(t, srv, body)
	want := `{"error":{"message":"Payload Too Large.","type":"BadRequest.TooLarge","param":null,"code":"BadRequest.TooLarge"},"request_id":"` + firstID + `"}`
	if rec.Code != http.StatusRequestEntityTooLarge || rec.Body.String() != want {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	// Also when the length is unknown in advance (chunked upload).
	req := strings.NewReader(body)
	r := newChunkedRequest(t, req)
	rec2 := recorderFor(srv, r)
	if rec2.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: got %d %s", rec2.Code, rec2.Body)
	}
}

func TestNotFoundAndMethod(t *testing.T) {
	t.Parallel()
	srv := newTestHandler(t)
	rec := do(t, srv, http.MethodPost, "/compatible-mode/v1/completions", "sk-test", `{}`)
	want := `{"error":{"message":"No route for POST /compatible-mode/v1/completions.","type":"invalid_request_error","param":null,"code":"not_found"},"request_id":"` + firstID + `"}`
	if rec.Code != 404 || rec.Body.String() != want {
		t.Errorf("404: got %d %s", rec.Code, rec.Body)
	}
	rec = do(t, srv, http.MethodGet, "/compatible-mode/v1/chat/completions", "sk-test", ``)
	if rec.Code != 405 || !strings.Contains(rec.Body.String(), `"code":"method_not_allowed"`) {
		t.Errorf("405: got %d %s", rec.Code, rec.Body)
	}
}

func TestErrorKindsComplete(t *testing.T) {
	t.Parallel()
	for k := range errorKinds {
		e := newError(k, "a", "b")
		if e.Status == 0 {
			t.Errorf("%s has no status", k)
		}
		if row := compatErrorOf(e); row.code == "" || row.typ == "" || row.message == "" {
			t.Errorf("%s is incomplete in the compatible table: %+v", k, row)
		}
		if row := nativeErrorOf(e); row.code == "" || row.message == "" {
			t.Errorf("%s is incomplete in the native table: %+v", k, row)
		}
		if row := responsesErrorOf(e); row.code == "" || row.message == "" {
			t.Errorf("%s is incomplete in the responses table: %+v", k, row)
		}
	}
}
