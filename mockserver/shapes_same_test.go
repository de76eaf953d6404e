package mockserver

import (
	"encoding/json"
	"testing"
)

// TestFourShapesSameConversation sends one conversation through all four wire shapes: the
// same text and the same token counts come back from each, because one pipeline answers them.
func TestFourShapesSameConversation(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	status, out := post(t, ts, `{"model":"qwen3-max","messages":[{"role":"system","content":"You are terse."},`+
		`{"role":"user","content":"Name a colour."},{"role":"assistant","content":"Blue."},{"role":"user","content":"Another?"}],"max_tokens":30}`)
	var c completion
	if status != 200 || json.Unmarshal(out, &c) != nil {
		t.Fatalf("compatible: %d %s", status, out)
	}
	want, prompt, completion := c.Choices[0].Message.Content, c.Usage.PromptTokens, c.Usage.CompletionTokens

	resp, out := postNative(t, ts, `{"model":"qwen3-max","input":{"messages":[{"role":"system","content":"You are terse."},`+
		`{"role":"user","content":"Name a colour."},{"role":"assistant","content":"Blue."},{"role":"user","content":"Another?"}]},`+
		`"parameters":{"max_tokens":30,"result_format":"message"}}`)
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
	if resp.StatusCode != 200 || json.Unmarshal(out, &n) != nil || len(n.Output.Choices) != 1 {
		t.Fatalf("native: %d %s", resp.StatusCode, out)
	}

	r := createResponse(t, ts, `{"model":"qwen3-max","instructions":"You are terse.","input":[`+
		`{"role":"user","content":"Name a colour."},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Blue.","annotations":[]}]},`+
		`{"role":"user","content":"Another?"}],"max_output_tokens":30}`)

	a := anthropicOK(t, ts, `{"model":"qwen3-max","max_tokens":30,"system":"You are terse.","messages":[`+
		`{"role":"user","content":"Name a colour."},{"role":"assistant","content":[{"type":"text","text":"Blue."}]},{"role":"user","content":"Another?"}]}`)

	if n.Output.Choices[0].Message.Content != want || r.text() != want || a.text() != want {
		t.Errorf("text: compatible %q, native %q, responses %q, anthropic %q", want, n.Output.Choices[0].Message.Content, r.text(), a.text())
	}
	if n.Usage.InputTokens != prompt || r.Usage.InputTokens != prompt || a.Usage.InputTokens != prompt {
		t.Errorf("prompt tokens: compatible %d, native %d, responses %d, anthropic %d", prompt, n.Usage.InputTokens, r.Usage.InputTokens, a.Usage.InputTokens)
	}
	if n.Usage.OutputTokens != completion || r.Usage.OutputTokens != completion || a.Usage.OutputTokens != completion {
		t.Errorf("completion tokens: compatible %d, native %d, responses %d, anthropic %d", completion, n.Usage.OutputTokens, r.Usage.OutputTokens, a.Usage.OutputTokens)
	}
	if completion == 0 || want == "" {
		t.Errorf("empty reply: %q, %d tokens", want, completion)
	}
}
