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
	IncludeUsage    bool
	MaxTokens       jsonInt
	N               jsonInt
	Seed            jsonInt
	TopLogprobs     jsonInt
	Temperature     *float64
	TopP            *float64
	PresencePenalty *float64
	Stop            []string

	Tools             []toolDef
	ToolChoice        toolChoice
	ParallelToolCalls bool
	ResponseFormat    string // "text" or "json_object"
	EnableThinking    *bool
	ThinkingBudget    jsonInt
	// AnswerOnlyMaxTokens: MaxTokens bounds the answer only, and reasoning is bounded by
	// ThinkingBudget alone (the Anthropic shape, spec/shapes.md §A.3).
	AnswerOnlyMaxTokens bool

	// Fixture names the fixture the client asked for with the X-Mock-Fixture header.
	Fixture string

	// Native shape only: result_format ("text" or "message") and incremental_output.
	Native       bool
	ResultFormat string
	Incremental  bool
}

// chatMessage is one message of the conversation, with its text content flattened.
type chatMessage struct {
	Role       string
	Content    string
	Partial    bool
	ToolCalls  []historyToolCall // assistant messages
	ToolCallID string            // tool messages
}

// historyToolCall is a tool call made by the assistant earlier in the conversation.
type historyToolCall struct {
	ID, Name, Arguments string
}

// jsonInt is an integer request parameter. It accepts only JSON numbers with an integral
// value (5 and 5.0, not "5" or 5.5), and keeps values too large for int64 so that range checks
// answer with the real range message instead of a decoding error.
type jsonInt struct {
	set bool
	v   float64
}

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
	n.set, n.v = true, f
	return nil
}

// intIn reports whether the parameter, if given, lies in [lo, hi].
func (n jsonInt) intIn(lo, hi float64) bool { return !n.set || (n.v >= lo && n.v <= hi) }

// messageContent is a message's content: a string, null, or an array of text parts
// ({"type":"text","text":"…"}), which the Vercel AI SDK always sends.
type messageContent struct {
	text string
}

type contentPart struct {
	Type string  `json:"type"`
	Text *string `json:"text"`
}

// contentError reports a content value the real API does not accept.
type contentError struct{ msg string }

func (e *contentError) Error() string { return e.msg }

func (c *messageContent) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &c.text)
	case len(b) > 0 && b[0] == '[':
		var parts []json.RawMessage
		if err := json.Unmarshal(b, &parts); err != nil {
			return err
		}
		var sb strings.Builder
		for i, raw := range parts {
			var p contentPart
			if err := json.Unmarshal(raw, &p); err != nil {
				return &contentError{fmt.Sprintf("Invalid content part %d: each part must be an object such as {\"type\": \"text\", \"text\": \"...\"}.", i)}
			}
			if p.Type != "text" {
				return &contentError{fmt.Sprintf("Content part %d has type '%s'; this model accepts only parts of type 'text'.", i, p.Type)}
			}
			if p.Text == nil {
				return &contentError{fmt.Sprintf("Content part %d of type 'text' has no 'text' field.", i)}
			}
			sb.WriteString(*p.Text)
		}
		c.text = sb.String()
		return nil
	default:
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[string]()}
	}
}

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
	var ce *contentError
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
