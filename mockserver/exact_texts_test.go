package mockserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

const algoPrefix = "<400> InternalError.Algo.InvalidParameter: "

// errorCase is one request and the error both endpoints (or one) must answer with.
type errorCase struct {
	name       string
	compat     string // compatible body; "" when the case is native only
	native     string // native body; "" when the case is compatible only
	headers    []string
	status     int
	compatCode string
	compatType string
	nativeCode string
	message    string // compatible message
	nativeMsg  string // native message when it differs ("" = message without the compat prefix)
}

func (tc errorCase) check(t *testing.T, ts *TestServer) {
	t.Helper()
	if tc.compat != "" {
		resp, out := send(t, http.MethodPost, ts.OpenAIBaseURL()+"/chat/completions", tc.compat, append(apiHeaders(), tc.headers...)...)
		var env struct {
			Error struct {
				Message, Type, Code string
				Param               any
			} `json:"error"`
			RequestID string `json:"request_id"`
		}
		if resp.StatusCode != tc.status || json.Unmarshal(out, &env) != nil || env.Error.Message != tc.message ||
			env.Error.Code != tc.compatCode || env.Error.Type != tc.compatType || env.RequestID == "" {
			t.Errorf("compatible: %d %s\nwant %d %s/%s %q", resp.StatusCode, out, tc.status, tc.compatCode, tc.compatType, tc.message)
		}
	}
	if tc.native != "" {
		msg := tc.nativeMsg
		if msg == "" {
			msg = strings.TrimPrefix(tc.message, algoPrefix)
		}
		resp, out := send(t, http.MethodPost, ts.URL+nativePath, tc.native, append(apiHeaders(), tc.headers...)...)
		var env struct{ Code, Message, RequestID string }
		if resp.StatusCode != tc.status || json.Unmarshal(out, &env) != nil || env.Code != tc.nativeCode || env.Message != msg {
			t.Errorf("native: %d %s\nwant %d %s %q", resp.StatusCode, out, tc.status, tc.nativeCode, msg)
		}
	}
}

func compatWith(extra string) string {
	return `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}]` + extra + `}`
}

func nativeWith(params string) string {
	return `{"model":"qwen3-max","input":{"messages":[{"role":"user","content":"hi"}]},"parameters":{` + params + `}}`
}

// TestExactTexts covers the rules and texts of spec/api.md §4.1 on both endpoints.
func TestExactTexts(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	weather := `{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}`
	search := `{"type":"function","function":{"name":"search","parameters":{"type":"object"}}}`
	cases := []errorCase{
		{name: "seed below range", compat: compatWith(`,"seed":-1`), native: nativeWith(`"seed":-1`), status: 400,
			compatCode: "invalid_value", compatType: "invalid_request_error", nativeCode: "InvalidParameter",
			message: "-1 is lesser than the minimum of 0 - 'seed'"},
		{name: "seed above compat range", compat: compatWith(`,"seed":2147483648`), status: 400,
			compatCode: "invalid_value", compatType: "invalid_request_error",
			message: "2147483648 is greater than the maximum of 2147483647 - 'seed'"},
		{name: "seed above native range", native: nativeWith(`"seed":9223372036854775808`), status: 400, nativeCode: "InvalidParameter",
			nativeMsg: "9223372036854775808 is greater than the maximum of 9223372036854775807 - 'seed'"},
		{name: "thinking_budget zero", compat: compatWith(`,"enable_thinking":true,"thinking_budget":0`), native: nativeWith(`"enable_thinking":true,"thinking_budget":0`),
			status: 400, compatCode: "invalid_parameter_error", compatType: "invalid_request_error", nativeCode: "InvalidParameter",
			message: algoPrefix + "The thinking_budget parameter must be a positive integer and not greater than 81920"},
		{name: "thinking_budget too large", compat: compatWith(`,"enable_thinking":true,"thinking_budget":81921`), native: nativeWith(`"enable_thinking":true,"thinking_budget":81921`),
			status: 400, compatCode: "invalid_parameter_error", compatType: "invalid_request_error", nativeCode: "InvalidParameter",
			message: algoPrefix + "The thinking_budget parameter must be a positive integer and not greater than 81920"},
		{name: "json mode with thinking", compat: compatWith(`,"enable_thinking":true,"response_format":{"type":"json_object"}`),
			native: nativeWith(`"enable_thinking":true,"response_format":{"type":"json_object"}`),
			status: 400, compatCode: "invalid_parameter_error", compatType: "invalid_request_error", nativeCode: "InvalidParameter",
			message: algoPrefix + "Json mode response is not supported when enable_thinking is true"},
		{name: "tool_choice required with thinking", compat: compatWith(`,"enable_thinking":true,"tools":[` + weather + `],"tool_choice":"required"`),
			native: nativeWith(`"enable_thinking":true,"tools":[` + weather + `],"tool_choice":"required"`),
			status: 400, compatCode: "invalid_parameter_error", compatType: "invalid_request_error", nativeCode: "InvalidParameter",
			message: algoPrefix + "The tool_choice parameter does not support being set to required or object in thinking mode"},
		{name: "tool_choice object with thinking", compat: compatWith(`,"enable_thinking":true,"tools":[` + weather + `],"tool_choice":{"type":"function","function":{"name":"get_weather"}}`),
			status: 400, compatCode: "invalid_parameter_error", compatType: "invalid_request_error",
			message: algoPrefix + "The tool_choice parameter does not support being set to required or object in thinking mode"},
		{name: "tool named search", compat: compatWith(`,"tools":[` + search + `]`), native: nativeWith(`"tools":[` + search + `]`),
			status: 400, compatCode: "invalid_parameter_error", compatType: "invalid_request_error", nativeCode: "InvalidParameter",
			message: algoPrefix + "Tool names are not allowed to be [search]"},
		{name: "image part on a text model",
			compat: `{"model":"qwen3-max","messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}`,
			native: `{"model":"qwen3-max","input":{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}}`,
			status: 400, compatCode: "invalid_parameter_error", compatType: "invalid_request_error", nativeCode: "InvalidParameter",
			message: algoPrefix + "The provided messages input is invalid. The error info is [Unexpected item type in content.].", nativeMsg: algoPrefix + "The provided messages input is invalid. The error info is [Unexpected item type in content.]."},
		{name: "audio part on a text model",
			compat: `{"model":"qwen3-max","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}`,
			status: 400, compatCode: "invalid_parameter_error", compatType: "invalid_request_error",
			message: algoPrefix + "The provided messages input is invalid. The error info is [Unexpected item type in content.]."},
		{name: "video part on a text model",
			compat: `{"model":"qwen3-max","messages":[{"role":"user","content":[{"type":"video","video":["https://example.com/1.jpg"]}]}]}`,
			status: 400, compatCode: "invalid_parameter_error", compatType: "invalid_request_error",
			message: algoPrefix + "The provided messages input is invalid. The error info is [Unexpected item type in content.]."},
		{name: "image part to an unknown model",
			compat: `{"model":"qwen-vl-nope","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}`,
			status: 404, compatCode: "model_not_found", compatType: "invalid_request_error",
			message: "The model `qwen-vl-nope` does not exist or you do not have access to it."},
		{name: "system not first",
			compat: `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"},{"role":"system","content":"be brief"}]}`,
			native: `{"model":"qwen3-max","input":{"messages":[{"role":"user","content":"hi"},{"role":"system","content":"be brief"}]}}`,
			status: 400, compatCode: "invalid_parameter_error", compatType: "invalid_request_error", nativeCode: "InvalidParameter",
			message: algoPrefix + "The provided messages input is invalid. The error info is [System message must be at the beginning.].", nativeMsg: algoPrefix + "The provided messages input is invalid. The error info is [System message must be at the beginning.]."},
		{name: "second system message",
			compat: `{"model":"qwen3-max","messages":[{"role":"system","content":"a"},{"role":"system","content":"b"},{"role":"user","content":"hi"}]}`,
			status: 400, compatCode: "invalid_parameter_error", compatType: "invalid_request_error",
			message: algoPrefix + "The provided messages input is invalid. The error info is [System message must be at the beginning.]."},
		{name: "native prompt with empty messages",
			native: `{"model":"qwen3-max","input":{"prompt":"hi","messages":[]}}`, status: 400, nativeCode: "InvalidParameter",
			nativeMsg: "Role must be user or assistant and Content length must be greater than 0"},
		{name: "async header", native: nativeWith(``), headers: []string{"X-DashScope-Async", "enable"}, status: 403, nativeCode: "AccessDenied",
			nativeMsg: "current user api does not support asynchronous calls"},
		{name: "native thinking with text result", native: nativeWith(`"enable_thinking":true,"result_format":"text"`),
			status: 400, nativeCode: "InvalidParameter",
			nativeMsg: `The result_format parameter must be "message" when enable_thinking is true`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.check(t, ts)
		})
	}
}

// TestExactTextsAccepted: values at the edges of the ranges pass.
func TestExactTextsAccepted(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	for _, body := range []string{compatWith(`,"seed":0,"max_tokens":2`), compatWith(`,"seed":2147483647,"max_tokens":2`),
		compatWith(`,"enable_thinking":true,"thinking_budget":81920,"max_tokens":2`),
		`{"model":"qwen3-max","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"max_tokens":2}`} {
		if st, out := post(t, ts, body); st != 200 {
			t.Errorf("%s: %d %s", body, st, out)
		}
	}
	for _, body := range []string{nativeWith(`"seed":9223372036854775807,"max_tokens":2`), nativeWith(`"seed":2147483648,"max_tokens":2`),
		`{"model":"qwen3-max","input":{"prompt":"hi"},"parameters":{"max_tokens":2}}`} {
		if resp, out := postNative(t, ts, body); resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", body, resp.StatusCode, out)
		}
	}
}

// TestNativeThinkingStreamNeedsIncremental: the captured text, SSE-framed, before the stream.
func TestNativeThinkingStreamNeedsIncremental(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithRequestIDs(sequentialIDs()))
	resp, out := postNative(t, ts, nativeWith(`"enable_thinking":true,"incremental_output":false`), "X-DashScope-SSE", "enable")
	want := "id:1\nevent:error\n:HTTP_STATUS/400\ndata:" + `{"code":"InvalidParameter","message":"<400> InternalError.Algo.InvalidParameter: The incremental_output parameter must be \"true\" when enable_thinking is true","request_id":"` + firstID + `"}` + "\n\n"
	if resp.StatusCode != 400 || string(out) != want {
		t.Fatalf("%d %q\nwant %q", resp.StatusCode, out, want)
	}
}

// TestNativeURLError: paths under the native base that do not exist, and a text model on the
// multimodal path, answer 400 "url error, please check url!" in the native envelope.
func TestNativeURLError(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithRequestIDs(sequentialIDs()))
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/api/v1/services/aigc/text-generation/nope", nativeWith(``)},
		{http.MethodPost, "/api/v1/services/aigc/multimodal-generation/generation", nativeWith(``)},
		{http.MethodGet, "/api/v1/whatever", ``},
	} {
		resp, out := send(t, tc.method, ts.URL+tc.path, tc.body, apiHeaders()...)
		var env struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			RequestID string `json:"request_id"`
		}
		if resp.StatusCode != 400 || json.Unmarshal(out, &env) != nil || env.Code != "InvalidParameter" ||
			env.Message != "url error, please check url!" || env.RequestID == "" || !strings.HasPrefix(string(out), `{"code":"InvalidParameter","message":"url error, please check url!","request_id":"`) {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, out)
		}
	}
}

// TestNativeStreamNRefused: n > 1 on a native stream is refused before the stream.
func TestNativeStreamNRefused(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	resp, out := postNative(t, ts, nativeWith(`"n":2,"incremental_output":true`), "X-DashScope-SSE", "enable")
	if resp.StatusCode != 400 || !strings.Contains(string(out), `"code":"InvalidParameter","message":"n > 1 is not supported on native streams: each choice would stream without an index. Use stream=false, or the OpenAI-compatible endpoint."`) {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	// Not streamed, n = 2 gives two choices.
	resp, out = postNative(t, ts, nativeWith(`"n":2,"max_tokens":3`))
	if resp.StatusCode != 200 || strings.Count(string(out), `"message":{`) != 2 {
		t.Fatalf("non-stream: %d %s", resp.StatusCode, out)
	}
}
