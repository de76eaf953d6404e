package mockserver

import (
	"encoding/json"
	"fmt"
	"strings"
)

// toolDef is one function tool of a request ({"type":"function","function":{...}}).
type toolDef struct {
	Name        string
	Description string
	Parameters  json.RawMessage // the JSON Schema of the arguments; may be empty
	Raw         json.RawMessage // the tool object as sent, for the prompt rendering
}

// toolChoice is the request's tool_choice: "auto" (the default), "none", "required", or one
// function by name.
type toolChoice struct {
	Mode string // "auto", "none", "required" or "function"
	Name string // for "function"
}

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
