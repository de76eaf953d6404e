package mockserver

import (
	"encoding/json"
	"strings"
)

// toolDef is one function tool of a request ({"type":"function","function":{...}}).
type toolDef struct {
	Name        string
	Description string
	Parameters  json.RawMessage // the JSON Schema of the arguments; may be empty
	// Raw is the tool as Qwen's chat template renders it: the compatible
	// {"type":"function","function":{…}} object as sent, key order kept. Shapes whose tools
	// look otherwise build it with newToolDef.
	Raw json.RawMessage
}

// newToolDef builds a tool from its parts, with Raw in the compatible form the chat template
// renders: {"type": "function", "function": {"name", "description", "parameters"}}.
func newToolDef(name, description string, parameters json.RawMessage) toolDef {
	fn := struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
	}{name, description, parameters}
	raw := marshalJSON(struct {
		Type     string `json:"type"`
		Function any    `json:"function"`
	}{"function", fn})
	return toolDef{Name: name, Description: description, Parameters: parameters, Raw: raw}
}

// toolChoice is the request's tool_choice: "auto" (the default), "none", "required", or one
// function by name.
type toolChoice struct {
	Mode string // "auto", "none", "required" or "function"
	Name string // for "function"
}

// toolsSystemBlock renders the tool definitions as Qwen's chat template places them in the
// system block (the system message, if any, comes first). This is how prompt tokens of a
// request with tools are counted: the open template's rendering, with each tool serialised as
// Python's json.dumps does (", " and ": " separators, keys in the order sent, non-ASCII kept).
func toolsSystemBlock(system string, hasSystem bool, tools []toolDef) string {
	var sb strings.Builder
	sb.WriteString("<|im_start|>system\n")
	if hasSystem {
		sb.WriteString(system)
		sb.WriteString("\n\n")
	}
	sb.WriteString("# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>")
	for _, t := range tools {
		sb.WriteByte('\n')
		sb.WriteString(pythonJSON(t.Raw))
	}
	sb.WriteString("\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n")
	return sb.String()
}

// renderToolCalls renders tool calls as the model writes them (and as the chat template
// renders them in the history): <tool_call>\n{"name": …, "arguments": …}\n</tool_call>, one
// per line.
func renderToolCalls(calls []historyToolCall) string {
	var sb strings.Builder
	for i, c := range calls {
		if i > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString("<tool_call>\n{\"name\": \"")
		sb.WriteString(c.Name)
		sb.WriteString("\", \"arguments\": ")
		sb.WriteString(c.Arguments)
		sb.WriteString("}\n</tool_call>")
	}
	return sb.String()
}
