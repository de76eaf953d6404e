package mockserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// postResponses sends body to the Responses endpoint of a running server.
func postResponses(t *testing.T, ts *TestServer, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	return send(t, http.MethodPost, ts.ResponsesURL(), body, append(apiHeaders(), headers...)...)
}

// responseBody is the decoded Responses object, for assertions on values.
type responseBody struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Output []struct {
		Type    string `json:"type"`
		ID      string `json:"id"`
		Name    string `json:"name"`
		CallID  string `json:"call_id"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	} `json:"output"`
	Usage struct {
		InputTokens        int `json:"input_tokens"`
		OutputTokens       int `json:"output_tokens"`
		TotalTokens        int `json:"total_tokens"`
		InputTokensDetails struct {
			CachedTokens int `json:"cached_tokens"`
		} `json:"input_tokens_details"`
		XDetails []struct {
			PromptTokensDetails *struct {
				CachedTokens             int `json:"cached_tokens"`
				CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
			} `json:"prompt_tokens_details"`
		} `json:"x_details"`
	} `json:"usage"`
}

func decodeResponse(t *testing.T, status int, out []byte) responseBody {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, out)
	}
	var r responseBody
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return r
}

func (r responseBody) text() string {
	var sb strings.Builder
	for _, it := range r.Output {
		if it.Type == "message" {
			for _, c := range it.Content {
				sb.WriteString(c.Text)
			}
		}
	}
	return sb.String()
}

const responsesWeather = `"tools":[{"type":"function","name":"get_weather","description":"Weather of a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]`

func TestResponsesGolden(t *testing.T) {
	t.Parallel()
	who := `"instructions":"You are a helpful assistant.","input":"你是谁？"`
	cases := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		ct                       string
	}{
		{"responses_create.json", "POST", "", `{"model":"qwen3-max",` + who + `,"metadata":{"k":"v"},"seed_of_my_own":7}`, nil, 200, "application/json"},
		{"responses_incomplete.json", "POST", "", `{"model":"qwen3-max",` + who + `,"max_output_tokens":16}`, nil, 200, "application/json"},
		{"responses_tools.json", "POST", "", `{"model":"qwen3-max","input":"Weather in Paris?",` + responsesWeather + `,"tool_choice":"required"}`, nil, 200, "application/json"},
		{"responses_thinking.json", "POST", "", `{"model":"qwen3-max","input":"hello","reasoning":{"effort":"high","summary":"auto"},"max_output_tokens":40}`, nil, 200, "application/json"},
		{"responses_stream.sse", "POST", "", `{"model":"qwen3-max",` + who + `,"stream":true,"max_output_tokens":20}`, nil, 200, sseContentType},
		{"responses_stream_thinking.sse", "POST", "", `{"model":"qwen3-max","input":"hello","stream":true,"reasoning":{"effort":"low"},"max_output_tokens":24}`, nil, 200, sseContentType},
		{"responses_stream_tools.sse", "POST", "", `{"model":"qwen3-max","input":"Weather in Paris?","stream":true,` + responsesWeather + `,"tool_choice":"required"}`, nil, 200, sseContentType},
		{"responses_stream_fault.sse", "POST", "", `{"model":"qwen3-max",` + who + `,"stream":true}`, []string{"X-Mock-Fault", "internal; after_chunks=3"}, 200, sseContentType},
		{"responses_stream_error.sse", "POST", "", `{"model":"__nope__","input":"hi","stream":true}`, nil, 200, sseContentType},
		{"responses_unknown_model.json", "POST", "", `{"model":"__nope__","input":"hi"}`, nil, 400, "application/json"},
		{"responses_no_key.json", "POST", "", `{"model":"qwen3-max","input":"hi"}`, []string{"Authorization", ""}, 401, "application/json"},
		{"responses_context_length.json", "POST", "", `{"model":"qwen3-max","input":"hi"}`, []string{"X-Mock-Fault", "context_length"}, 400, "application/json"},
		{"responses_get_list.json", "GET", "", ``, nil, 405, "application/json"},
		{"responses_subpath.json", "GET", "/resp_x/input_items/more", ``, nil, 404, "application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := NewTestServer(t, WithClock(FixedClock(testTime)), WithRequestIDs(sequentialIDs()))
			resp, out := send(t, tc.method, ts.ResponsesURL()+tc.path, tc.body, append(apiHeaders(), tc.headers...)...)
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != tc.ct {
				t.Errorf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if resp.Header.Get("X-Request-Id") != firstID {
				t.Errorf("x-request-id %q", resp.Header.Get("X-Request-Id"))
			}
			if strings.HasSuffix(tc.name, ".sse") && strings.Contains(string(out), "[DONE]") {
				t.Error("a Responses stream has no [DONE]")
			}
			golden(t, tc.name, out)
		})
	}
}

// TestResponsesStreamOrder checks the event sequence and the framing of every event.
func TestResponsesStreamOrder(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithClock(FixedClock(testTime)), WithRequestIDs(sequentialIDs()))
	_, out := postResponses(t, ts, `{"model":"qwen3-max","input":"hi","stream":true}`)
	var types []string
	for i, ev := range strings.Split(strings.TrimSuffix(string(out), "\n\n"), "\n\n") {
		lines := strings.Split(ev, "\n")
		if len(lines) != 4 || lines[0] != fmt.Sprintf("id:%d", i+1) || lines[2] != ":HTTP_STATUS/200" || !strings.HasPrefix(lines[3], "data:{\"sequence_number\":"+fmt.Sprint(i)+",") {
			t.Fatalf("event %d framed as %q", i, lines)
		}
		typ := strings.TrimPrefix(lines[1], "event:")
		if !strings.Contains(lines[3], `"type":"`+typ+`"`) {
			t.Fatalf("event %d: data type differs from %q", i, typ)
		}
		if len(types) == 0 || types[len(types)-1] != typ {
			types = append(types, typ)
		}
	}
	want := "response.created response.in_progress response.output_item.added response.content_part.added response.output_text.delta response.output_text.done response.content_part.done response.output_item.done response.completed"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("events\n got  %s\n want %s", got, want)
	}
}

// TestResponsesErrorTexts pins the 400 texts the service answers for documented fields, in
// the flat body.
func TestResponsesErrorTexts(t *testing.T) {
	t.Parallel()
	cases := []struct{ body, message string }{
		{`{"model":"__nope__","input":"hi"}`, `Unsupported model: '__nope__'`},
		{`{"model":"qwen3-max","input":"hi","temperature":5}`, `Invalid 'temperature': 5. Expected a value between [0,2), but got 5 instead.`},
		{`{"model":"qwen3-max","input":"hi","top_p":9}`, `Invalid 'top_p': 9. Expected a value between (0,1], but got 9 instead.`},
		{`{"model":"qwen3-max","input":"hi","max_output_tokens":1}`, `Invalid 'max_output_tokens': must be greater than or equal to 16, got 1.`},
		{`{"model":"qwen3-max","input":"hi","reasoning":{"effort":"bogus_level"}}`, `Invalid 'reasoning.effort': bogus_level. Supported values are: ('none','minimal','low','medium','high','xhigh','max').`},
		{`{"model":"qwen3-max","input":"hi","store":"NOT_A_BOOL"}`, `Invalid 'store': NOT_A_BOOL. Must be a boolean.`},
		{`{"model":"qwen3-max","input":"hi","previous_response_id":"resp_3cad","conversation":"conv_1"}`, `Mutually exclusive parameters: Ensure you are only providing one of: previous_response_id or conversation.`},
		{`{"model":"qwen3-max","input":"hi","previous_response_id":"resp_3cad"}`, `Not found previous_response_id: resp_3cad`},
		{`{"model":"qwen3-max","input":"hi","tools":[{"type":"function","function":{"name":"f","parameters":{}}}]}`, algoParamPrefix + `The parameters, when provided as a dict, must confirm to a valid openai-compatible JSON schema.`},
	}
	ts := NewTestServer(t, WithRequestIDs(sequentialIDs()))
	for _, tc := range cases {
		resp, out := postResponses(t, ts, tc.body)
		var e map[string]string
		if err := json.Unmarshal(out, &e); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if resp.StatusCode != 400 || e["code"] != "InvalidParameter" || e["message"] != tc.message || e["request_id"] == "" || len(e) != 3 {
			t.Errorf("%s\n got %d %s\n want message %s", tc.body, resp.StatusCode, out, tc.message)
		}
	}
	// Unknown fields and tool types are accepted and echoed.
	resp, out := postResponses(t, ts, `{"model":"qwen3-max","input":"hi","metadata":"NOT_AN_OBJECT","tools":[{"type":"bogus_tool_xyz"}],"text":{"format":{"type":"json_schema","strict":true}},"x_custom":[1,2]}`)
	if resp.StatusCode != 200 || !strings.Contains(string(out), `"metadata":"NOT_AN_OBJECT"`) || !strings.Contains(string(out), `"tools":[{"type":"bogus_tool_xyz"}]`) ||
		!strings.Contains(string(out), `"x_custom":[1,2]`) || !strings.Contains(string(out), `"text":{"format":{"type":"json_schema","strict":true}}`) {
		t.Errorf("echo: %d %s", resp.StatusCode, out)
	}
}

// TestResponsesState: store, GET by id, previous_response_id with its token count, store
// false, seven days of server clock, reset, and the bare-UUID id form.
func TestResponsesState(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithClock(FixedClock(testTime)), WithRequestIDs(sequentialIDs()))
	first := createResponse(t, ts, `{"model":"qwen3-max","instructions":"Be brief.","input":"Remember BANANA7.","metadata":{"a":"b"},"extra":1}`)
	if first.ID != "resp_"+firstID {
		t.Fatalf("id %q", first.ID)
	}
	resp, got := send(t, http.MethodGet, ts.ResponsesURL()+"/"+first.ID, "", apiHeaders()...)
	if resp.StatusCode != 200 || !strings.Contains(string(got), `"metadata":{}`) || strings.Contains(string(got), `"extra"`) || decodeResponse(t, 200, got).text() != first.text() {
		t.Errorf("GET: %d %s", resp.StatusCode, got)
	}

	// The second turn re-plays the first (without its instructions): its input tokens are
	// those of the whole conversation sent through the compatible shape.
	second := createResponse(t, ts, `{"model":"qwen3-max","input":"What did I ask you to remember?","previous_response_id":"`+first.ID+`"}`)
	conv := `[{"role":"user","content":"Remember BANANA7."},{"role":"assistant","content":` + string(marshalJSON(first.text())) + `},{"role":"user","content":"What did I ask you to remember?"}]`
	var c completion
	status, out := post(t, ts, `{"model":"qwen3-max","messages":`+conv+`}`)
	if status != 200 || json.Unmarshal(out, &c) != nil {
		t.Fatalf("compatible: %d %s", status, out)
	}
	if second.Usage.InputTokens != c.Usage.PromptTokens || second.text() != c.Choices[0].Message.Content {
		t.Errorf("previous_response_id: %d tokens %q, the whole conversation: %d tokens %q", second.Usage.InputTokens, second.text(), c.Usage.PromptTokens, c.Choices[0].Message.Content)
	}
	// A chain continues from the second turn.
	third := createResponse(t, ts, `{"model":"qwen3-max","input":"And again?","previous_response_id":"`+second.ID+`"}`)
	if third.Usage.InputTokens <= second.Usage.InputTokens+second.Usage.OutputTokens {
		t.Errorf("third turn counts %d input tokens", third.Usage.InputTokens)
	}

	unstored := createResponse(t, ts, `{"model":"qwen3-max","input":"forget me","store":false}`)
	assertNotFound := func(id string) {
		t.Helper()
		resp, out := postResponses(t, ts, `{"model":"qwen3-max","input":"hi","previous_response_id":"`+id+`"}`)
		if resp.StatusCode != 400 || !strings.Contains(string(out), `"message":"Not found previous_response_id: `+id+`"`) {
			t.Errorf("%s: %d %s", id, resp.StatusCode, out)
		}
	}
	assertNotFound(unstored.ID)
	if resp, _ := send(t, http.MethodGet, ts.ResponsesURL()+"/"+unstored.ID, "", apiHeaders()...); resp.StatusCode != 404 {
		t.Errorf("GET of an unstored response: %d", resp.StatusCode)
	}

	// Seven days of server clock keep a response; a second more does not.
	ts.Advance(7 * 24 * time.Hour)
	if resp, _ := postResponses(t, ts, `{"model":"qwen3-max","input":"hi","previous_response_id":"`+first.ID+`"}`); resp.StatusCode != 200 {
		t.Errorf("after 7 days: %d", resp.StatusCode)
	}
	ts.Advance(time.Second)
	assertNotFound(first.ID)

	// Reset forgets every response.
	if n, _ := ts.ResponsesStored(); n == 0 {
		t.Fatal("nothing stored")
	}
	if status, _ := controlCall(t, ts, http.MethodPost, "/_mock/reset", ""); status != 200 {
		t.Fatal(status)
	}
	if n, b := ts.ResponsesStored(); n != 0 || b != 0 {
		t.Errorf("after reset: %d responses, %d bytes", n, b)
	}
	assertNotFound(second.ID)

	// The documented bare-UUID form, on the legacy path.
	bare := NewTestServer(t, WithResponsesID(ResponsesIDUUID), WithRequestIDs(sequentialIDs()))
	resp, out = send(t, http.MethodPost, bare.URL+"/api/v2/apps/protocols/compatible-mode/v1/responses", `{"model":"qwen3-max","input":"hi"}`, apiHeaders()...)
	if r := decodeResponse(t, resp.StatusCode, out); r.ID != firstID {
		t.Errorf("bare id %q", r.ID)
	}
	if resp, _ := send(t, http.MethodGet, bare.URL+"/api/v2/apps/protocols/compatible-mode/v1/responses/"+firstID, "", apiHeaders()...); resp.StatusCode != 200 {
		t.Errorf("legacy GET: %d", resp.StatusCode)
	}
	if _, err := New(WithResponsesID("ulid")); err == nil {
		t.Error("WithResponsesID accepted ulid")
	}
}

// createResponse posts a Responses request that must succeed and decodes its answer.
func createResponse(t *testing.T, ts *TestServer, body string, headers ...string) responseBody {
	t.Helper()
	resp, out := postResponses(t, ts, body, headers...)
	return decodeResponse(t, resp.StatusCode, out)
}

// TestResponsesStoreBound: the store keeps at most its count and bytes, the oldest out first.
func TestResponsesStoreBound(t *testing.T) {
	t.Parallel()
	now := testTime
	st := &responseStore{maxN: 3, maxSize: 10_000}
	entry := func(id string, text int) *storedResponse {
		return &storedResponse{id: id, body: []byte(`{}`), history: []chatMessage{{Role: "user", Content: strings.Repeat("x", text)}}, created: now}
	}
	for i := range 5 {
		st.put(entry(fmt.Sprint("r", i), 10), now)
	}
	if st.get("r0", now) != nil || st.get("r1", now) != nil || st.get("r2", now) == nil || st.get("r4", now) == nil {
		t.Error("count bound: the two oldest should be gone")
	}
	st.put(entry("big", 9_700), now) // pushes out everything older that no longer fits
	if n := len(st.order); n != 1 || st.bytes > 10_000 || st.get("big", now) == nil {
		t.Errorf("byte bound: %d entries, %d bytes", n, st.bytes)
	}
	st.put(entry("huge", 20_000), now) // larger than the bound: not kept
	if st.get("huge", now) != nil || st.get("big", now) == nil {
		t.Error("an entry over the byte bound was kept, or evicted others")
	}
	var sum int64
	for _, e := range st.order {
		sum += e.size
	}
	if sum != st.bytes {
		t.Errorf("bytes %d, entries sum to %d", st.bytes, sum)
	}
}

// TestResponsesToolRoundTrip: a function call, then its output continued through
// previous_response_id, answered in words; and the same history sent as items.
func TestResponsesToolRoundTrip(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithRequestIDs(sequentialIDs()))
	first := createResponse(t, ts, `{"model":"qwen3-max","input":"Weather in Paris?",`+responsesWeather+`}`)
	if len(first.Output) != 1 || first.Output[0].Type != "function_call" || first.Output[0].Name != "get_weather" || !strings.HasPrefix(first.Output[0].CallID, "call_") {
		t.Fatalf("first turn: %+v", first)
	}
	callID := first.Output[0].CallID
	out := `{"type":"function_call_output","call_id":"` + callID + `","output":"{\"temp\":21}"}`
	second := createResponse(t, ts, `{"model":"qwen3-max","previous_response_id":"`+first.ID+`","input":[`+out+`],`+responsesWeather+`}`)
	if second.text() == "" || second.Status != "completed" {
		t.Fatalf("second turn: %+v", second)
	}
	// The same conversation as items, without the store.
	_, raw := postResponses(t, ts, `{"model":"qwen3-max","input":"Weather in Paris?",`+responsesWeather+`}`)
	var full struct{ Output []json.RawMessage }
	_ = json.Unmarshal(raw, &full)
	items := `[{"role":"user","content":"Weather in Paris?"},` + string(full.Output[0]) + `,` + out + `]`
	again := createResponse(t, ts, `{"model":"qwen3-max","store":false,"input":`+items+`,`+responsesWeather+`}`)
	if again.Usage.InputTokens != second.Usage.InputTokens || again.text() != second.text() {
		t.Errorf("items: %d %q, previous_response_id: %d %q", again.Usage.InputTokens, again.text(), second.Usage.InputTokens, second.text())
	}
	resp, msg := postResponses(t, ts, `{"model":"qwen3-max","input":[{"type":"function_call_output","call_id":"call_nope","output":"x"}]}`)
	if resp.StatusCode != 400 || !strings.Contains(string(msg), "No tool call found for function call output with call_id call_nope.") {
		t.Errorf("orphan output: %d %s", resp.StatusCode, msg)
	}
	// allowed_tools leaves the model only the tools it lists.
	two := `"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}},{"type":"function","name":"get_time","parameters":{"type":"object","properties":{}}}]`
	r := createResponse(t, ts, `{"model":"qwen3-max","input":"Weather in Paris?",`+two+`,"tool_choice":{"type":"allowed_tools","mode":"required","tools":[{"type":"function","name":"get_time"}]}}`)
	if len(r.Output) != 1 || r.Output[0].Name != "get_time" {
		t.Errorf("allowed_tools: %+v", r.Output)
	}
}

// TestResponsesSameConversation: one conversation through the compatible, native and
// Responses shapes gives the same text and token counts.
func TestResponsesSameConversation(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithRequestIDs(sequentialIDs()))
	msgs := `[{"role":"system","content":"You are terse."},{"role":"user","content":"Name a colour."},{"role":"assistant","content":"Blue."},{"role":"user","content":"Another?"}]`
	status, out := post(t, ts, `{"model":"qwen3-max","messages":`+msgs+`,"max_tokens":30}`)
	var c completion
	if status != 200 || json.Unmarshal(out, &c) != nil {
		t.Fatalf("compatible: %d %s", status, out)
	}
	resp, out := postNative(t, ts, `{"model":"qwen3-max","input":{"messages":`+msgs+`},"parameters":{"max_tokens":30,"result_format":"message"}}`)
	var n struct {
		Output struct {
			Choices []struct {
				Message struct{ Content string } `json:"message"`
			} `json:"choices"`
		} `json:"output"`
		Usage struct {
			InputTokens  int `json:"input_tokens"`
			OutputTokens int `json:"output_tokens"`
		} `json:"usage"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(out, &n) != nil {
		t.Fatalf("native: %d %s", resp.StatusCode, out)
	}
	items := `[{"role":"developer","content":"You are terse."},{"type":"message","role":"user","content":[{"type":"input_text","text":"Name a colour."}]},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Blue.","annotations":[]}]},{"role":"user","content":"Another?"}]`
	r := createResponse(t, ts, `{"model":"qwen3-max","input":`+items+`,"max_output_tokens":30}`)
	want := c.Choices[0].Message.Content
	if n.Output.Choices[0].Message.Content != want || r.text() != want {
		t.Errorf("text: compatible %q, native %q, responses %q", want, n.Output.Choices[0].Message.Content, r.text())
	}
	if n.Usage.InputTokens != c.Usage.PromptTokens || r.Usage.InputTokens != c.Usage.PromptTokens ||
		n.Usage.OutputTokens != c.Usage.CompletionTokens || r.Usage.OutputTokens != c.Usage.CompletionTokens {
		t.Errorf("tokens: compatible %+v, native %+v, responses %+v", c.Usage, n.Usage, r.Usage)
	}
	// instructions are the same system prompt.
	r2 := createResponse(t, ts, `{"model":"qwen3-max","instructions":"You are terse.","input":`+strings.Replace(items, `{"role":"developer","content":"You are terse."},`, "", 1)+`,"max_output_tokens":30}`)
	if r2.Usage.InputTokens != r.Usage.InputTokens || r2.text() != r.text() {
		t.Errorf("instructions: %d %q vs %d %q", r2.Usage.InputTokens, r2.text(), r.Usage.InputTokens, r.text())
	}
}

// TestResponsesLimitsFaultsFixtures: the shared pipeline's limits, faults and fixtures on
// this shape.
func TestResponsesLimitsFaultsFixtures(t *testing.T) {
	t.Parallel()
	one, greeting := 1, "Hello from a fixture."
	ts := NewTestServer(t, WithRequestIDs(sequentialIDs()), WithRateLimitOverride(&one, nil),
		WithFixtures(Fixture{Name: "greet", Match: FixtureMatch{Contains: "greet me"}, Reply: &FixtureReply{Content: &greeting}}))
	r := createResponse(t, ts, `{"model":"qwen3-max","input":"please greet me"}`)
	if r.text() != "Hello from a fixture." {
		t.Errorf("fixture: %q", r.text())
	}
	resp, out := postResponses(t, ts, `{"model":"qwen3-max","input":"again"}`)
	if resp.StatusCode != 429 || !strings.Contains(string(out), `"code":"Throttling.RateQuota","message":"Requests rate limit exceeded, please try again later."`) {
		t.Errorf("429: %d %s", resp.StatusCode, out)
	}
	resp, out = postResponses(t, ts, `{"model":"qwen3-max","input":"again","stream":true}`)
	if resp.StatusCode != 200 || !strings.HasPrefix(string(out), "id:1\nevent:response.failed\n:HTTP_STATUS/200\ndata:") || strings.Count(string(out), "\n\n") != 1 ||
		!strings.Contains(string(out), `"error":{"message":"Requests rate limit exceeded, please try again later.","code":"Throttling.RateQuota"}`) {
		t.Errorf("429 on a stream: %d %s", resp.StatusCode, out)
	}

	free := NewTestServer(t, WithRequestIDs(sequentialIDs()), WithMaxInputTokens(20))
	resp, out = postResponses(t, free, `{"model":"qwen3-max","input":"`+strings.Repeat("word ", 40)+`"}`)
	if resp.StatusCode != 400 || !strings.Contains(string(out), `"code":"InvalidParameter","message":"Range of input length should be [1, 20]"`) {
		t.Errorf("context overflow: %d %s", resp.StatusCode, out)
	}
	resp, out = postResponses(t, free, `{"model":"qwen3-max","input":"hi"}`, "X-Mock-Fault", "internal")
	if resp.StatusCode != 500 || !strings.Contains(string(out), `"code":"InternalError"`) {
		t.Errorf("fault: %d %s", resp.StatusCode, out)
	}
	recs := free.Requests()
	if len(recs) != 2 || recs[1].Shape != "responses" || recs[1].ErrorCode != "internal_server_error" {
		t.Errorf("journal: %+v", recs)
	}
}

// TestResponsesSessionCache: with x-dashscope-session-cache: enable, a context of 1024 tokens
// or more is cached, and the next turn within five minutes reads it.
func TestResponsesSessionCache(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, WithClock(FixedClock(testTime)), WithRequestIDs(sequentialIDs()))
	long := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 150)
	cache := []string{"X-Dashscope-Session-Cache", "enable"}
	first := createResponse(t, ts, `{"model":"qwen3-max","input":"`+long+`"}`, cache...)
	d := first.Usage.XDetails[0].PromptTokensDetails
	if first.Usage.InputTokens < 1024 || d == nil || d.CachedTokens != 0 || d.CacheCreationInputTokens != first.Usage.InputTokens {
		t.Fatalf("first turn: %+v", first.Usage)
	}
	second := createResponse(t, ts, `{"model":"qwen3-max","input":"more","previous_response_id":"`+first.ID+`"}`, cache...)
	d = second.Usage.XDetails[0].PromptTokensDetails
	if second.Usage.InputTokensDetails.CachedTokens != first.Usage.InputTokens || d.CachedTokens != first.Usage.InputTokens ||
		d.CacheCreationInputTokens != second.Usage.InputTokens-first.Usage.InputTokens {
		t.Errorf("second turn: %+v", second.Usage)
	}
	ts.Advance(6 * time.Minute)
	third := createResponse(t, ts, `{"model":"qwen3-max","input":"more","previous_response_id":"`+second.ID+`"}`, cache...)
	if third.Usage.InputTokensDetails.CachedTokens != 0 {
		t.Errorf("after the cache expired: %+v", third.Usage)
	}
	plain := createResponse(t, ts, `{"model":"qwen3-max","input":"hi"}`)
	if plain.Usage.XDetails[0].PromptTokensDetails != nil {
		t.Errorf("without the header: %+v", plain.Usage)
	}
}

// FuzzResponses sends arbitrary bodies to the Responses endpoint: every answer is a JSON
// object (a response, or the flat error body) or a stream of framed events, never a panic or
// plain text.
func FuzzResponses(f *testing.F) {
	for _, s := range []string{
		`{"model":"qwen3-max","input":"hi"}`,
		`{"model":"qwen3-max","input":[{"role":"developer","content":"x"},{"type":"function_call","name":"f","arguments":"{}","call_id":"c"},{"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"r"}]}],"stream":true}`,
		`{"model":"qwen3-max","input":"hi","tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],"tool_choice":{"type":"allowed_tools","tools":[{"name":"f"}]}}`,
		`{"model":"qwen3-max","input":[{"type":"reasoning","summary":[{"text":"t"}]},{"role":"assistant","content":"a"}],"reasoning":{"effort":"max"},"max_output_tokens":16}`,
		`{"model":"qwen3-max","input":"hi","previous_response_id":"resp_x","store":1,"temperature":"hot"}`,
		`{"model":1,"input":{}}`, `[]`, `null`, `{`, ``,
	} {
		f.Add(s)
	}
	srv, err := New(WithMaxInputTokens(2000), WithMaxBodyBytes(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/compatible-mode/v1/responses", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-test")
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
			if rec.Code != 200 {
				t.Fatalf("stream status %d", rec.Code)
			}
			for i, ev := range strings.Split(strings.TrimSuffix(out, "\n\n"), "\n\n") {
				lines := strings.Split(ev, "\n")
				if len(lines) != 4 || lines[0] != fmt.Sprintf("id:%d", i+1) || !json.Valid([]byte(strings.TrimPrefix(lines[3], "data:"))) {
					t.Fatalf("bad event %q", ev)
				}
			}
		default:
			t.Fatalf("Content-Type %q, body %q", ct, out)
		}
	})
}
