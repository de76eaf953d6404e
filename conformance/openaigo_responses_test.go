package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
)

// The official OpenAI Go SDK's Responses client against qwenmock's
// /compatible-mode/v1/responses, which DashScope serves statefully with its own stream framing
// and flat error bodies.

var respID = regexp.MustCompile(`^resp_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func responsesWeatherTool() []responses.ToolUnionParam {
	tool := responses.ToolParamOfFunction("get_weather", weatherSchema, false)
	tool.OfFunction.Description = openai.String(weatherToolDesc)
	return []responses.ToolUnionParam{tool}
}

func inputText(s string) responses.ResponseNewParamsInputUnion {
	return responses.ResponseNewParamsInputUnion{OfString: openai.String(s)}
}

// flatError checks what openai-go makes of a flat DashScope error body
// {"request_id","code","message"}: an *openai.Error with the status, and empty Code and
// Message, since it reads only a nested "error" object (RawJSON is empty too); the body is
// checked on the wire.
func flatError(t *testing.T, err error, ex *exchange, status int, code, message string) {
	t.Helper()
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not an *openai.Error", err)
	}
	if apiErr.StatusCode != status || apiErr.Code != "" || apiErr.Message != "" {
		t.Errorf("status %d, code %q, message %q", apiErr.StatusCode, apiErr.Code, apiErr.Message)
	}
	var body map[string]string
	if jerr := json.Unmarshal(ex.RespBody, &body); jerr != nil || ex.Status != status || len(body) != 3 || body["code"] != code || body["message"] != message || body["request_id"] == "" {
		t.Errorf("wire: %d %s", ex.Status, ex.RespBody)
	}
}

func TestOpenAIGoResponses(t *testing.T) {
	t.Parallel()
	base := startMock(t, "--fixtures", fixtureFile(t))
	ctx := context.Background()

	t.Run("CreateGetAndPrevious", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newOpenAIGo(base, testKey, rec)
		first, err := client.Responses.New(ctx, responses.ResponseNewParams{
			Model: shared.ResponsesModel(model), Instructions: openai.String("You are a helpful assistant."), Input: inputText("Remember BANANA7."),
		})
		if err != nil {
			t.Fatal(err)
		}
		if !respID.MatchString(first.ID) || first.Status != "completed" || first.OutputText() == "" ||
			first.Usage.TotalTokens != first.Usage.InputTokens+first.Usage.OutputTokens {
			t.Fatalf("first: %s", first.RawJSON())
		}
		if xd := first.Usage.JSON.ExtraFields["x_details"]; !strings.Contains(xd.Raw(), `"x_billing_type":"response_api"`) {
			t.Errorf("x_details %q", xd.Raw())
		}
		got, err := client.Responses.Get(ctx, first.ID, responses.ResponseGetParams{})
		if err != nil || got.ID != first.ID || got.OutputText() != first.OutputText() {
			t.Fatalf("get: %v %+v", err, got)
		}
		second, err := client.Responses.New(ctx, responses.ResponseNewParams{
			Model: shared.ResponsesModel(model), Input: inputText("What did I ask you to remember?"), PreviousResponseID: openai.String(first.ID),
		})
		if err != nil {
			t.Fatal(err)
		}
		// The history is re-played: more input tokens than the first turn's whole exchange.
		if second.PreviousResponseID != first.ID || second.Usage.InputTokens <= first.Usage.InputTokens+first.Usage.OutputTokens-20 {
			t.Errorf("second: previous %q, input tokens %d after %d+%d", second.PreviousResponseID, second.Usage.InputTokens, first.Usage.InputTokens, first.Usage.OutputTokens)
		}
		// store:false leaves nothing to continue: the flat 400.
		gone, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: shared.ResponsesModel(model), Input: inputText("hi"), Store: openai.Bool(false)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = client.Responses.New(ctx, responses.ResponseNewParams{Model: shared.ResponsesModel(model), Input: inputText("hi"), PreviousResponseID: openai.String(gone.ID)})
		flatError(t, err, rec.last(t), 400, "InvalidParameter", "Not found previous_response_id: "+gone.ID)
	})

	t.Run("Stream", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newOpenAIGo(base, testKey, rec)
		params := responses.ResponseNewParams{Model: shared.ResponsesModel(model), Input: inputText("Tell me a short story."), Store: openai.Bool(false)}
		want, err := client.Responses.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		stream := client.Responses.NewStreaming(ctx, params)
		var text strings.Builder
		var types []string
		var final responses.Response
		for stream.Next() {
			ev := stream.Current()
			if len(types) == 0 || types[len(types)-1] != ev.Type {
				types = append(types, ev.Type)
			}
			if ev.Type == "response.output_text.delta" {
				text.WriteString(ev.Delta)
			}
			if ev.Type == "response.completed" {
				final = ev.Response
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		wantTypes := "response.created response.in_progress response.output_item.added response.content_part.added response.output_text.delta response.output_text.done response.content_part.done response.output_item.done response.completed"
		if strings.Join(types, " ") != wantTypes {
			t.Errorf("events %v", types)
		}
		if text.String() != want.OutputText() || final.OutputText() != want.OutputText() || final.Usage.OutputTokens != want.Usage.OutputTokens {
			t.Errorf("stream %q (final %q, %d tokens), non-stream %q (%d tokens)", text.String(), final.OutputText(), final.Usage.OutputTokens, want.OutputText(), want.Usage.OutputTokens)
		}
		body := string(rec.last(t).RespBody)
		if !strings.HasPrefix(body, "id:1\nevent:response.created\n:HTTP_STATUS/200\ndata:{") || strings.Contains(body, "[DONE]") {
			t.Errorf("framing: %.120q", body)
		}
	})

	t.Run("FunctionCallRoundTrip", func(t *testing.T) {
		t.Parallel()
		client := newOpenAIGo(base, testKey, &recorder{})
		first, err := client.Responses.New(ctx, responses.ResponseNewParams{
			Model: shared.ResponsesModel(model), Input: inputText(weatherQuestion), Tools: responsesWeatherTool(),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(first.Output) != 1 || first.Output[0].Type != "function_call" {
			t.Fatalf("first: %s", first.RawJSON())
		}
		call := first.Output[0].AsFunctionCall()
		if call.Name != "get_weather" || call.Arguments != weatherArgs || !toolCallID.MatchString(call.CallID) {
			t.Fatalf("call %+v", call)
		}
		output := responses.ResponseInputItemParamOfFunctionCallOutput(weatherResult)
		output.OfFunctionCallOutput.CallID = openai.String(call.CallID)
		second, err := client.Responses.New(ctx, responses.ResponseNewParams{
			Model: shared.ResponsesModel(model), Tools: responsesWeatherTool(), PreviousResponseID: openai.String(first.ID),
			Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{output}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if second.OutputText() != weatherAnswer || second.Status != "completed" {
			t.Errorf("second: %s", second.RawJSON())
		}
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newOpenAIGo(base, testKey, rec)
		params := responses.ResponseNewParams{Model: "__nope__", Input: inputText("hi")}
		_, err := client.Responses.New(ctx, params)
		flatError(t, err, rec.last(t), 400, "InvalidParameter", "Unsupported model: '__nope__'")

		// On a stream the error is HTTP 200 and one response.failed event: openai-go yields it
		// and reports no error.
		stream := client.Responses.NewStreaming(ctx, params)
		var events []responses.ResponseStreamEventUnion
		for stream.Next() {
			events = append(events, stream.Current())
		}
		if stream.Err() != nil || len(events) != 1 || events[0].Type != "response.failed" ||
			events[0].Response.Error.Message != "Unsupported model: '__nope__'" || events[0].Response.Error.Code != "InvalidParameter" {
			t.Errorf("stream: err %v, %d events %+v", stream.Err(), len(events), events)
		}
		if ex := rec.last(t); ex.Status != 200 {
			t.Errorf("stream status %d", ex.Status)
		}
	})
}

func TestOpenAIGoResponsesLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("ContextWindow", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newOpenAIGo(startMock(t, "--max-input-tokens", "100"), testKey, rec)
		_, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: shared.ResponsesModel(model), Input: inputText(longPrompt)})
		flatError(t, err, rec.last(t), 400, "InvalidParameter", "Range of input length should be [1, 100]")
	})
	t.Run("WrongKey", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newOpenAIGo(startMock(t, "--api-key", "sk-good"), "sk-wrong", rec)
		_, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: shared.ResponsesModel(model), Input: inputText("hi")})
		flatError(t, err, rec.last(t), 401, "InvalidApiKey", "Invalid API-key provided.")
	})
	t.Run("RateLimit", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		client := newOpenAIGo(startMock(t, "--rpm", "1"), testKey, rec)
		params := responses.ResponseNewParams{Model: shared.ResponsesModel(model), Input: inputText("hi")}
		if _, err := client.Responses.New(ctx, params); err != nil {
			t.Fatal(err)
		}
		_, err := client.Responses.New(ctx, params)
		flatError(t, err, rec.last(t), 429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.")
	})
}
