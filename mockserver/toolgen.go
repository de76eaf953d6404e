package mockserver

import (
	"strings"
	"sync"

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
// function's JSON Schema, so they validate against it.
func decideToolCalls(req *chatRequest, f *gofakeit.Faker) []historyToolCall {
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
			return nil
		}
		relevant := relevantTools(req.Tools, viewOf(req).lastUser)
		if len(relevant) == 0 {
			if req.ToolChoice.Mode == "auto" && f.IntN(2) == 0 {
				return nil
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
		calls[i] = historyToolCall{Name: t.Name, Arguments: generateArguments(t, f)}
	}
	return calls
}

// generateArguments makes arguments that validate against the tool's parameters schema,
// written as the model writes JSON. A schema the generator cannot satisfy gets "{}".
func generateArguments(t toolDef, f *gofakeit.Faker) string {
	if len(t.Parameters) == 0 {
		return "{}"
	}
	sch, err := compiledSchema(t.Parameters)
	if err != nil {
		return "{}"
	}
	out, err := sch.Generate(f)
	if err != nil {
		return "{}"
	}
	return pythonJSON(out)
}

// schemaCache keeps compiled parameter schemas: compiling costs most of a generation, and
// test suites send the same tools again and again. It is bounded by dropping everything when
// full.
var schemaCache struct {
	mu sync.Mutex // guards m
	m  map[string]*schemagen.Schema
}

const schemaCacheSize = 512

func compiledSchema(schema []byte) (*schemagen.Schema, error) {
	key := string(schema)
	schemaCache.mu.Lock()
	sch, ok := schemaCache.m[key]
	schemaCache.mu.Unlock()
	if ok {
		return sch, nil
	}
	sch, err := schemagen.Compile(schema)
	if err != nil {
		return nil, err
	}
	schemaCache.mu.Lock()
	if schemaCache.m == nil || len(schemaCache.m) >= schemaCacheSize {
		schemaCache.m = make(map[string]*schemagen.Schema)
	}
	schemaCache.m[key] = sch
	schemaCache.mu.Unlock()
	return sch, nil
}

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
