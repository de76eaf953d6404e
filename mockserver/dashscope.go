package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// This file holds what the two DashScope shapes, compatible and native, share on the wire:
// the message and parameter objects (the native shape nests them under "input" and
// "parameters") and the texts of the real service's errors
// (https://www.alibabacloud.com/help/en/model-studio/error-code).

// chatParamsWire holds the generation parameters, which the compatible shape carries at the
// top level and the native shape under "parameters".
type chatParamsWire struct {
	StreamOptions *struct {
		IncludeUsage *bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           jsonInt             `json:"max_tokens"`
	MaxCompletionTokens jsonInt             `json:"max_completion_tokens"`
	Temperature         *float64            `json:"temperature"`
	TopP                *float64            `json:"top_p"`
	PresencePenalty     *float64            `json:"presence_penalty"`
	N                   jsonInt             `json:"n"`
	Seed                jsonInt             `json:"seed"`
	TopLogprobs         jsonInt             `json:"top_logprobs"`
	Logprobs            *bool               `json:"logprobs"`
	Stop                stopParam           `json:"stop"`
	Tools               []json.RawMessage   `json:"tools"`
	ToolChoice          json.RawMessage     `json:"tool_choice"`
	ParallelToolCalls   *bool               `json:"parallel_tool_calls"`
	ResponseFormat      *responseFormatWire `json:"response_format"`
	EnableThinking      *bool               `json:"enable_thinking"`
	ThinkingBudget      jsonInt             `json:"thinking_budget"`
}

type responseFormatWire struct {
	Type string `json:"type"`
}

type messageWire struct {
	Role       string         `json:"role"`
	Content    messageContent `json:"content"`
	Partial    *bool          `json:"partial"`
	ToolCalls  []toolCallWire `json:"tool_calls"`
	ToolCallID *string        `json:"tool_call_id"`
	Name       *string        `json:"name"`
}

// toolCallWire is a tool call in an assistant message of the history.
type toolCallWire struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

// decodeMessages turns the messages of the wire into the core's.
func decodeMessages(ws []messageWire) ([]chatMessage, *Error) {
	msgs := make([]chatMessage, len(ws))
	for i, m := range ws {
		msg, e := m.toMessage(i)
		if e != nil {
			return nil, e
		}
		msgs[i] = msg
	}
	return msgs, nil
}

func (m messageWire) toMessage(i int) (chatMessage, *Error) {
	msg := chatMessage{Role: m.Role, Content: m.Content.text, Parts: m.Content.parts, Partial: m.Partial != nil && *m.Partial}
	if m.ToolCallID != nil {
		msg.ToolCallID = *m.ToolCallID
	}
	for j, tc := range m.ToolCalls {
		args := string(tc.Function.Arguments)
		if kind := jsonKind(tc.Function.Arguments); kind == "string" {
			_ = json.Unmarshal(tc.Function.Arguments, &args)
		} else if kind == "nothing" || kind == "null" {
			args = "{}"
		}
		if tc.Function.Name == "" {
			return msg, errBadRequest(fmt.Sprintf("messages[%d].tool_calls[%d]: function.name is required.", i, j))
		}
		msg.ToolCalls = append(msg.ToolCalls, historyToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: args})
	}
	return msg, nil
}

// apply copies the generation parameters into req, checking the shape of tools, tool_choice
// and response_format.
func (p *chatParamsWire) apply(req *chatRequest) *Error {
	req.MaxTokens = p.MaxTokens
	if !req.MaxTokens.set {
		req.MaxTokens = p.MaxCompletionTokens
	}
	req.N, req.Seed, req.TopLogprobs, req.ThinkingBudget = p.N, p.Seed, p.TopLogprobs, p.ThinkingBudget
	req.Temperature, req.TopP, req.PresencePenalty = p.Temperature, p.TopP, p.PresencePenalty
	req.Stop, req.StopTokens = p.Stop.strings, p.Stop.tokens
	req.EnableThinking = p.EnableThinking
	if p.ParallelToolCalls != nil {
		req.ParallelToolCalls = *p.ParallelToolCalls
	}
	req.ResponseFormat = "text"
	if p.ResponseFormat != nil {
		switch p.ResponseFormat.Type {
		case "text", "json_object":
			req.ResponseFormat = p.ResponseFormat.Type
		default:
			return errBadRequest(fmt.Sprintf("response_format.type must be 'text' or 'json_object', not '%s'.", p.ResponseFormat.Type))
		}
	}
	tools, e := parseTools(p.Tools)
	if e != nil {
		return e
	}
	req.Tools = tools
	choice, e := parseToolChoice(p.ToolChoice, tools)
	if e != nil {
		return e
	}
	req.ToolChoice = choice
	return nil
}

// The texts of the real service's errors that both DashScope shapes use.
const (
	errorDocLink    = "https://www.alibabacloud.com/help/en/model-studio/error-code"
	algoParamPrefix = "<400> InternalError.Algo.InvalidParameter: "

	burstMessage            = "Request rate increased too quickly. To ensure system stability, please adjust your client logic to scale requests more smoothly over time."
	arrearageMessage        = "Access denied, please make sure your account is in good standing. For details, see: " + errorDocLink + "#overdue-payment"
	freeTierMessage         = `The free tier of the model has been exhausted. If you wish to continue access the model on a paid basis, please disable the "use free tier only" mode in the management console.`
	internalMessage         = "<500> InternalError.Algo: An error occurred in model serving, error message is: [Inference engine abort. Finish reason: [UNKNOWN].]"
	overloadedMessage       = "<503> InternalError.Algo: An error occurred in model serving, error message is: [Too many requests. Your requests are being throttled due to system capacity limits. Please try again later.]"
	jsonModeMessage         = "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'."
	inputInspectionMessage  = "Input data may contain inappropriate content."
	outputInspectionMessage = "Output data may contain inappropriate content."
	timeoutMessage          = "Request timed out, please try again later."
	tooLargeMessage         = "Payload Too Large."
	missingModelMessage     = "you must provide a model parameter"
	emptyMessagesMessage    = "[] is too short - 'messages'"
	contextLengthMessage    = "Range of input length should be [1, {0}]"
	notFoundMessage         = "No route for {0} {1}."
	methodNotAllowedMessage = "Method {0} is not allowed on {1}."
	urlErrorMessage         = "url error, please check url!"
	asyncMessage            = "current user api does not support asynchronous calls"
)

// promptDetails is the usage's prompt_tokens_details in both DashScope shapes: cached_tokens
// always; with explicit cache markers also the creation fields and cache_type (spec/api.md
// §4.1).
type promptDetails struct {
	CachedTokens             int                `json:"cached_tokens"`
	CacheCreationInputTokens *int               `json:"cache_creation_input_tokens,omitempty"`
	CacheCreation            *cacheCreationInfo `json:"cache_creation,omitempty"`
	CacheType                string             `json:"cache_type,omitempty"`
}

type cacheCreationInfo struct {
	Ephemeral5mInputTokens int `json:"ephemeral_5m_input_tokens"`
}

// appendPromptDetails appends what marshalJSON makes of d.
func appendPromptDetails(dst []byte, d promptDetails) []byte {
	dst = append(dst, `{"cached_tokens":`...)
	dst = strconv.AppendInt(dst, int64(d.CachedTokens), 10)
	if d.CacheCreationInputTokens != nil {
		dst = append(dst, `,"cache_creation_input_tokens":`...)
		dst = strconv.AppendInt(dst, int64(*d.CacheCreationInputTokens), 10)
	}
	if d.CacheCreation != nil {
		dst = append(dst, `,"cache_creation":{"ephemeral_5m_input_tokens":`...)
		dst = strconv.AppendInt(dst, int64(d.CacheCreation.Ephemeral5mInputTokens), 10)
		dst = append(dst, '}')
	}
	if d.CacheType != "" {
		dst = append(dst, `,"cache_type":`...)
		dst = appendJSONString(dst, d.CacheType)
	}
	return append(dst, '}')
}

func promptDetailsOf(u cacheUse) promptDetails {
	d := promptDetails{CachedTokens: u.cachedTokens()}
	if u.explicit {
		n := u.created
		d.CacheCreationInputTokens = &n
		d.CacheCreation = &cacheCreationInfo{Ephemeral5mInputTokens: n}
		d.CacheType = "ephemeral"
	}
	return d
}

// messageContent is a message's content: a string, null, or an array of parts: text
// ({"type":"text","text":"…"}, which the Vercel AI SDK always sends, optionally with a
// "cache_control" marker for the explicit context cache) or media (image_url, input_audio,
// video, …), which the core refuses for a text model once the model is known.
type messageContent struct {
	text  string
	parts []messagePart // the parts, when the content came as an array
}

type contentPartWire struct {
	Type         string          `json:"type"`
	Text         *string         `json:"text"`
	CacheControl json.RawMessage `json:"cache_control"`
}

// mediaPartTypes are the part types of multimodal models, as messagePart types.
var mediaPartTypes = map[string]string{
	"image_url": "image", "image": "image", "input_image": "image",
	"input_audio": "audio", "audio": "audio",
	"video": "video", "video_url": "video",
}

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
			var p contentPartWire
			if err := json.Unmarshal(raw, &p); err != nil {
				return &wireError{fmt.Sprintf("Invalid content part %d: each part must be an object such as {\"type\": \"text\", \"text\": \"...\"}.", i)}
			}
			if media, ok := mediaPartTypes[p.Type]; ok {
				c.parts = append(c.parts, messagePart{Type: media})
				continue
			}
			if p.Type != "text" {
				return &wireError{fmt.Sprintf("Content part %d has type '%s'; the parts of a message are text, image_url, input_audio or video.", i, p.Type)}
			}
			if p.Text == nil {
				return &wireError{fmt.Sprintf("Content part %d of type 'text' has no 'text' field.", i)}
			}
			sb.WriteString(*p.Text)
			c.parts = append(c.parts, messagePart{Type: "text", Text: *p.Text, Cache: cacheMarked(p.CacheControl)})
		}
		c.text = sb.String()
		return nil
	default:
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[string]()}
	}
}

// toolWire is a tool of the request: {"type":"function","function":{…}}.
type toolWire struct {
	Type     string `json:"type"`
	Function *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

func parseTools(raw []json.RawMessage) ([]toolDef, *Error) {
	var tools []toolDef
	seen := map[string]bool{}
	for i, r := range raw {
		var w toolWire
		if err := json.Unmarshal(r, &w); err != nil || w.Function == nil || w.Function.Name == "" {
			return nil, errBadRequest(fmt.Sprintf("tools[%d] must be an object {\"type\": \"function\", \"function\": {\"name\": ..., \"parameters\": {...}}}.", i))
		}
		if w.Type != "" && w.Type != "function" {
			return nil, errBadRequest(fmt.Sprintf("tools[%d].type must be 'function', not '%s'.", i, w.Type))
		}
		if seen[w.Function.Name] {
			return nil, errBadRequest(fmt.Sprintf("tools[%d]: the function name '%s' is used twice.", i, w.Function.Name))
		}
		seen[w.Function.Name] = true
		params := w.Function.Parameters
		if k := jsonKind(params); k == "null" || k == "nothing" {
			params = nil
		} else if k != "object" && k != "bool" {
			return nil, errBadRequest(fmt.Sprintf("tools[%d].function.parameters must be a JSON Schema object.", i))
		}
		tools = append(tools, toolDef{Name: w.Function.Name, Description: w.Function.Description, Parameters: params, Raw: r})
	}
	return tools, nil
}

func parseToolChoice(raw json.RawMessage, tools []toolDef) (toolChoice, *Error) {
	switch jsonKind(raw) {
	case "nothing", "null":
		return toolChoice{Mode: "auto"}, nil
	case "string":
		var s string
		_ = json.Unmarshal(raw, &s)
		switch s {
		case "auto", "none", "required":
			return toolChoice{Mode: s}, nil
		}
		return toolChoice{}, errBadRequest(fmt.Sprintf("tool_choice must be 'auto', 'none', 'required' or {\"type\": \"function\", \"function\": {\"name\": ...}}, not '%s'.", s))
	case "object":
		var w struct {
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if err := json.Unmarshal(raw, &w); err != nil || w.Function.Name == "" {
			return toolChoice{}, errBadRequest("tool_choice must name a function: {\"type\": \"function\", \"function\": {\"name\": ...}}.")
		}
		for _, t := range tools {
			if t.Name == w.Function.Name {
				return toolChoice{Mode: "function", Name: t.Name}, nil
			}
		}
		return toolChoice{}, errBadRequest(fmt.Sprintf("tool_choice names the function '%s', which is not in tools.", w.Function.Name))
	}
	return toolChoice{}, errBadRequest("tool_choice must be a string or an object.")
}
