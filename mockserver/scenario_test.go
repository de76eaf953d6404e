package mockserver

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// reply is a chat completion reduced to what a client sees, from either a non-stream body or
// a reassembled stream, so that the two can be compared.
type reply struct {
	Status  int
	Choices []replyChoice `json:"-"`
	Usage   struct {
		PromptTokens            int `json:"prompt_tokens"`
		CompletionTokens        int `json:"completion_tokens"`
		TotalTokens             int `json:"total_tokens"`
		CompletionTokensDetails *struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		} `json:"completion_tokens_details"`
	}
	Error *struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	}
	Raw string
}

type replyChoice struct {
	Content   string
	Reasoning *string
	ToolCalls []replyToolCall
	Finish    string
}

type replyToolCall struct {
	ID, Name, Arguments string
}

// complete sends a non-stream request and decodes the reply.
func complete(t *testing.T, ts *TestServer, body string, headers ...string) reply {
	t.Helper()
	status, out := post(t, ts, body, headers...)
	r := reply{Status: status, Raw: string(out)}
	var wire struct {
		Choices []struct {
			Message struct {
				Content          string  `json:"content"`
				ReasoningContent *string `json:"reasoning_content"`
				ToolCalls        []struct {
					ID       string `json:"id"`
					Type     string `json:"type"`
					Function struct {
						Name      string `json:"name"`
						Arguments string `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(out, &wire); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	for _, c := range wire.Choices {
		rc := replyChoice{Content: c.Message.Content, Reasoning: c.Message.ReasoningContent, Finish: c.FinishReason}
		for _, tc := range c.Message.ToolCalls {
			if tc.Type != "function" {
				t.Errorf("tool call type %q", tc.Type)
			}
			rc.ToolCalls = append(rc.ToolCalls, replyToolCall{tc.ID, tc.Function.Name, tc.Function.Arguments})
		}
		r.Choices = append(r.Choices, rc)
	}
	return r
}

// stream sends the same request with stream and include_usage, checks the framing rules of
// the real service and reassembles the reply.
func stream(t *testing.T, ts *TestServer, body string, headers ...string) reply {
	t.Helper()
	body = strings.TrimSuffix(strings.TrimSpace(body), "}") + `,"stream":true,"stream_options":{"include_usage":true}}`
	status, out := post(t, ts, body, headers...)
	r := reply{Status: status, Raw: string(out)}
	events := sseEvents(t, bytes.NewReader(out))
	if status != 200 {
		if len(events) != 1 {
			t.Fatalf("error stream with %d events: %s", len(events), out)
		}
		var env struct {
			Error *struct {
				Message string `json:"message"`
				Code    string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(events[0]), &env); err != nil || env.Error == nil {
			t.Fatalf("error event %s: %v", events[0], err)
		}
		r.Error = env.Error
		return r
	}
	if events[len(events)-1] != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %s", out)
	}
	id := ""
	byIndex := map[int]*replyChoice{}
	var order []int
	for _, ev := range events[:len(events)-1] {
		var chunk struct {
			ID      string          `json:"id"`
			Usage   json.RawMessage `json:"usage"`
			Choices []struct {
				Index int `json:"index"`
				Delta struct {
					Content          *string `json:"content"`
					ReasoningContent *string `json:"reasoning_content"`
					ToolCalls        []struct {
						Index    int    `json:"index"`
						ID       string `json:"id"`
						Type     string `json:"type"`
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(ev), &chunk); err != nil {
			t.Fatalf("chunk %s: %v", ev, err)
		}
		if id == "" {
			id = chunk.ID
		} else if chunk.ID != id {
			t.Fatalf("chunk id changed from %s to %s", id, chunk.ID)
		}
		if string(chunk.Usage) != "null" {
			if len(chunk.Choices) != 0 || !strings.Contains(ev, `"choices":[]`) {
				t.Fatalf("usage on a chunk with choices: %s", ev)
			}
			if err := json.Unmarshal(chunk.Usage, &r.Usage); err != nil {
				t.Fatal(err)
			}
			continue
		}
		for _, c := range chunk.Choices {
			rc, ok := byIndex[c.Index]
			if !ok {
				rc = &replyChoice{}
				byIndex[c.Index] = rc
				order = append(order, c.Index)
			}
			if c.Delta.Content != nil {
				rc.Content += *c.Delta.Content
			}
			if c.Delta.ReasoningContent != nil {
				if rc.Reasoning == nil {
					rc.Reasoning = new(string)
				}
				*rc.Reasoning += *c.Delta.ReasoningContent
			}
			for _, tc := range c.Delta.ToolCalls {
				if tc.Type != "function" {
					t.Fatalf("tool call delta without type function: %s", ev)
				}
				if tc.ID != "" {
					rc.ToolCalls = append(rc.ToolCalls, replyToolCall{ID: tc.ID, Name: tc.Function.Name})
					continue
				}
				last := &rc.ToolCalls[len(rc.ToolCalls)-1]
				last.Arguments += tc.Function.Arguments
			}
			if c.FinishReason != nil {
				rc.Finish = *c.FinishReason
			}
		}
	}
	for _, i := range order {
		r.Choices = append(r.Choices, *byIndex[i])
	}
	return r
}

// bothWays runs a request non-stream and streamed and fails unless the client would see the
// same reply, usage included. It returns the non-stream reply.
func bothWays(t *testing.T, ts *TestServer, body string, headers ...string) reply {
	t.Helper()
	a := complete(t, ts, body, headers...)
	b := stream(t, ts, body, headers...)
	if a.Status != b.Status {
		t.Fatalf("status %d non-stream, %d stream", a.Status, b.Status)
	}
	if a.Status != 200 {
		if a.Error == nil || b.Error == nil || *a.Error != *b.Error {
			t.Fatalf("errors differ:\n%s\n%s", a.Raw, b.Raw)
		}
		return a
	}
	if len(a.Choices) != len(b.Choices) {
		t.Fatalf("%d choices non-stream, %d stream", len(a.Choices), len(b.Choices))
	}
	for i := range a.Choices {
		x, y := a.Choices[i], b.Choices[i]
		if x.Content != y.Content || x.Finish != y.Finish || (x.Reasoning == nil) != (y.Reasoning == nil) ||
			(x.Reasoning != nil && *x.Reasoning != *y.Reasoning) || len(x.ToolCalls) != len(y.ToolCalls) {
			t.Fatalf("choice %d differs:\nnon-stream %+v\nstream     %+v", i, x, y)
		}
		for j := range x.ToolCalls {
			if x.ToolCalls[j] != y.ToolCalls[j] {
				t.Fatalf("tool call %d differs: %+v vs %+v", j, x.ToolCalls[j], y.ToolCalls[j])
			}
		}
	}
	if a.Usage.PromptTokens != b.Usage.PromptTokens || a.Usage.CompletionTokens != b.Usage.CompletionTokens {
		t.Fatalf("usage differs: %+v vs %+v", a.Usage, b.Usage)
	}
	return a
}
