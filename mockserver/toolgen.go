package mockserver

import (
	"strings"

	"github.com/brianvoe/gofakeit/v7"

	"github.com/qwenmock/qwenmock/mockserver/schemagen"
)

// decideToolCalls makes the tool calls of a reply that no fixture decided:
//   - tool_choice naming a function calls it;
//   - "required" always calls a tool;
//   - "auto" answers in words after a tool result (so agent loops end); otherwise it calls the
//     tools whose names appear in the last user message (get_weather for "weather?"), and when
//     none does, calls one in half the cases, decided by the seeded Faker.
//
// parallel_tool_calls lets one reply call up to three tools. Arguments are generated from each
// function's JSON Schema, so they validate against it; a schema for which no valid arguments
// can be made within the generator's budget is a 400 (errToolSchema), never invalid arguments.
func decideToolCalls(req *chatRequest, f *gofakeit.Faker) ([]historyToolCall, *Error) {
	var chosen []toolDef
	switch req.ToolChoice.Mode {
	case "function":
		for _, t := range req.Tools {
			if t.Name == req.ToolChoice.Name {
				chosen = []toolDef{t}
			}
		}
	case "auto", "required":
		if req.ToolChoice.Mode == "auto" && viewOf(req).toolResult {
			return nil, nil
		}
		relevant := relevantTools(req.Tools, viewOf(req).lastUser)
		if len(relevant) == 0 {
			if req.ToolChoice.Mode == "auto" && f.IntN(2) == 0 {
				return nil, nil
			}
			relevant = []toolDef{req.Tools[f.IntN(len(req.Tools))]}
		}
		chosen = relevant
		if !req.ParallelToolCalls {
			chosen = chosen[:1]
		} else if len(chosen) > 3 {
			chosen = chosen[:3]
		}
	}
	calls := make([]historyToolCall, len(chosen))
	for i, t := range chosen {
		args, err := generateArguments(t, f)
		if err != nil {
			return nil, errToolSchema(t.Name, err)
		}
		calls[i] = historyToolCall{Name: t.Name, Arguments: args}
	}
	return calls, nil
}

// generateArguments makes arguments that validate against the tool's parameters schema,
// written as the model writes JSON. When generation fails (unsatisfiable, or over budget),
// "{}" is the answer if it validates; otherwise the error.
func generateArguments(t toolDef, f *gofakeit.Faker) (string, error) {
	if len(t.Parameters) == 0 {
		return "{}", nil
	}
	sch, err := schemaCache.Compile(t.Parameters)
	if err != nil {
		return "", err
	}
	out, err := sch.Generate(f)
	if err != nil {
		if sch.Valid([]byte("{}")) {
			return "{}", nil
		}
		return "", err
	}
	return pythonJSON(out), nil
}

// SchemaCacheBytes bounds the process-wide cache of compiled tool schemas (estimated
// compiled size, see schemagen.CostOf). Server.Reset empties it.
const SchemaCacheBytes = 8 << 20

// schemaCache keeps compiled parameter schemas: compiling costs most of a generation, and
// test suites send the same tools again and again. Keyed by a hash of the compact schema,
// bounded in bytes, least recently used out.
var schemaCache = schemagen.NewCache(SchemaCacheBytes)

// relevantTools returns the tools with a name word (of three letters or more, other than
// get/set/list-like verbs) found in text.
func relevantTools(tools []toolDef, text string) []toolDef {
	text = strings.ToLower(text)
	var out []toolDef
	for _, t := range tools {
		for _, w := range schemagen.NameWords(t.Name) {
			if len(w) >= 3 && !commonVerbs[w] && strings.Contains(text, w) {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

var commonVerbs = map[string]bool{"get": true, "set": true, "list": true, "find": true, "fetch": true, "create": true, "update": true, "delete": true, "search": false, "the": true, "for": true}
