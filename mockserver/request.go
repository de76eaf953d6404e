package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// chatRequest is a chat request after decoding, independent of the wire shape. Pointers and
// jsonInt keep "not given" apart from zero, because defaults depend on the model.
type chatRequest struct {
	Model           string
	Messages        []chatMessage
	MessagesGiven   bool
	Stream          bool
	MaxTokens       jsonInt
	N               jsonInt
	Seed            jsonInt
	TopLogprobs     jsonInt
	Temperature     *float64
	TopP            *float64
	PresencePenalty *float64
	Stop            []string
	StopTokens      [][]int // token-id sequences (stop_tokens.go)

	Tools             []toolDef
	ToolChoice        toolChoice
	ParallelToolCalls bool
	ResponseFormat    string // "text" or "json_object"
	EnableThinking    *bool
	ThinkingBudget    jsonInt
	// AnswerOnlyMaxTokens: MaxTokens bounds the answer only, and reasoning is bounded by
	// ThinkingBudget alone (the Anthropic shape, spec/shapes.md §A.3).
	AnswerOnlyMaxTokens bool
	// SystemAnywhere: system messages may stand anywhere in the conversation (Claude Code
	// sends one mid-conversation on the Anthropic endpoint); elsewhere only first.
	SystemAnywhere bool

	// Fixture names the fixture the client asked for with the X-Mock-Fixture header.
	Fixture string

	// Shape holds the options only the wire shape that decoded the request knows (the
	// native result_format, the compatible include_usage, …). The core never looks inside.
	Shape any
}

// chatMessage is one turn of the conversation in the core's model. It holds what every wire
// shape can send, so that an adapter only translates:
//   - compatible/native messages: role, content (a string or text parts), tool_calls,
//     tool_call_id, partial;
//   - Anthropic Messages blocks: text and image go to Parts, thinking to Reasoning, tool_use to
//     ToolCalls, and each tool_result becomes a message of role "tool" (ToolCallID, ToolError);
//   - Responses items: a message item is a message, function_call a ToolCalls entry of an
//     assistant message, function_call_output a "tool" message, reasoning the Reasoning of
//     the assistant message it precedes.
//
// The prompt is counted from Role, Content and ToolCalls as Qwen's chat template renders
// them; Reasoning of earlier turns is kept but not rendered, as the template drops it.
type chatMessage struct {
	Role      string // "system", "user", "assistant" or "tool"
	Content   string // the text, flattened: what the prompt renders and fixtures match
	Parts     []messagePart
	Reasoning string // the thinking an earlier assistant turn showed
	Partial   bool   // the last assistant message is a prefix to continue

	ToolCalls  []historyToolCall // assistant messages
	ToolCallID string            // tool messages: the call this result answers
	ToolError  bool              // tool messages: the result reports a failed call
}

// messagePart is one part of a message's content as sent, when it came in parts.
type messagePart struct {
	Type      string // "text", "image", "audio" or "video"
	Text      string // text
	URL       string // image: an http(s) URL or a data: URL
	MediaType string // image: the media type of inline data, e.g. "image/png"
	// Cache marks a part that carries a cache_control marker: the explicit context cache
	// (cache.go) caches the prompt up to the end of this part.
	Cache bool
}

// historyToolCall is a tool call made by the assistant earlier in the conversation.
// Arguments is the JSON text of the arguments.
type historyToolCall struct {
	ID, Name, Arguments string
}

// jsonInt is an integer request parameter. It accepts only JSON numbers with an integral
// value (5 and 5.0, not "5" or 5.5), and keeps values too large for int64 so that range checks
// answer with the real range message instead of a decoding error.
type jsonInt struct {
	set bool
	v   float64
	raw string // the number as sent
}

// text is the number as sent.
func (n jsonInt) text() string { return n.raw }

func (n *jsonInt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[int64]()}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return &json.UnmarshalTypeError{Value: "number " + string(b), Type: reflect.TypeFor[int64]()}
	}
	if f != math.Trunc(f) {
		return &json.UnmarshalTypeError{Value: "number " + string(b), Type: reflect.TypeFor[int64]()}
	}
	n.set, n.v, n.raw = true, f, string(b)
	return nil
}

// intIn reports whether the parameter, if given, lies in [lo, hi].
func (n jsonInt) intIn(lo, hi float64) bool { return !n.set || (n.v >= lo && n.v <= hi) }

// wireError is a decoding error whose message is what the client sees, raised by a shape's
// own UnmarshalJSON methods.
type wireError struct{ msg string }

func (e *wireError) Error() string { return e.msg }

// jsonKind names the kind of a JSON value for error messages.
func jsonKind(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// decodeError turns a decoding error into the 400 a client sees.
func decodeError(body []byte, err error) *Error {
	var ce *wireError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &ce):
		return errBadRequest(ce.msg)
	case len(bytes.TrimSpace(body)) == 0:
		return errBadRequest("The request body is empty; it must be a JSON object.")
	case errors.As(err, &syn):
		return errBadRequest(fmt.Sprintf("The request body is not valid JSON: %s (at byte %d).", syn.Error(), syn.Offset))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errBadRequest(fmt.Sprintf("The request body must be a JSON object, not %s.", article(typ.Value)))
		}
		// Fields of the embedded parameter struct are named like top-level ones.
		field := strings.ReplaceAll(typ.Field, "chatParamsWire.", "")
		return errBadRequest(fmt.Sprintf("Invalid type for '%s': expected %s, but got %s instead.",
			field, typeWords(typ.Type), article(typ.Value)))
	case errors.Is(err, errTrailingData):
		return errBadRequest("The request body must hold exactly one JSON object.")
	default:
		return errBadRequest("The request body is not valid JSON: " + err.Error() + ".")
	}
}

var errTrailingData = errors.New("trailing data after the JSON object")

// decodeStrict decodes exactly one JSON value from body into v.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errTrailingData
	}
	if _, err := dec.Token(); err == nil {
		return errTrailingData
	}
	return nil
}

func article(value string) string {
	switch {
	case strings.HasPrefix(value, "number "):
		return "the number " + strings.TrimPrefix(value, "number ")
	case value == "array" || value == "object":
		return "an " + value
	case value == "bool":
		return "a boolean"
	case value == "null" || value == "nothing":
		return value
	default:
		return "a " + value
	}
}

func typeWords(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return typeWords(t.Elem())
	}
	return "another type"
}
