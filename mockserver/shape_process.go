package mockserver

import (
	"net/http"
)

// processShape serves POST /v1/process, the quick-start route of the page qwenmock's users
// often start from: {"input_text": "…"} with a Bearer key answers {"output_text": …, "usage":
// …}. It runs through the same pipeline as the real shapes (auth, context window, limits,
// fixtures, truncation); errors use the native envelope, never as a stream.
type processShape struct{ s *Server }

func (s *Server) handleProcess(w http.ResponseWriter, r *http.Request) {
	s.serveChat(w, r, processShape{s})
}

func (processShape) name() string { return "process" }

func (processShape) streamRequested(*http.Request, []byte) bool { return false }

type processRequestWire struct {
	InputText *string `json:"input_text"`
	Model     *string `json:"model"`
	MaxTokens jsonInt `json:"max_tokens"`
}

// processDefaultModel answers requests that do not name a model.
const processDefaultModel = "qwen3-max"

func (processShape) decode(r *http.Request, body []byte) (*chatRequest, *Error) {
	var w processRequestWire
	if err := decodeStrict(body, &w); err != nil {
		return nil, decodeError(body, err)
	}
	if w.InputText == nil {
		return nil, errBadRequest(`The body must be {"input_text": "…"} (optionally with "model" and "max_tokens").`)
	}
	req := &chatRequest{
		Model:          processDefaultModel,
		Messages:       []chatMessage{{Role: "user", Content: *w.InputText}},
		MessagesGiven:  true,
		MaxTokens:      w.MaxTokens,
		ResponseFormat: "text",
		ToolChoice:     toolChoice{Mode: "auto"},
	}
	if w.Model != nil {
		req.Model = *w.Model
	}
	return req, nil
}

// check: the process route has no rules of its own.
func (processShape) check(*call) *Error { return nil }

func (a processShape) writeError(w http.ResponseWriter, r *http.Request, e *Error, c *call, _ bool) {
	nativeShape(a).writeError(w, r, e, c, false)
}

type processUsage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

type processBody struct {
	OutputText   string       `json:"output_text"`
	FinishReason string       `json:"finish_reason"`
	Model        string       `json:"model"`
	Usage        processUsage `json:"usage"`
	RequestID    string       `json:"request_id"`
}

func (processShape) writeResult(w http.ResponseWriter, r *http.Request, c *call, res *result) (int, bool) {
	ch := res.choices[0]
	body := processBody{
		OutputText: ch.text, FinishReason: ch.finish, Model: c.modelID,
		Usage:     processUsage{InputTokens: c.promptTokens, OutputTokens: res.completionTokens, TotalTokens: c.promptTokens + res.completionTokens},
		RequestID: c.id,
	}
	c.setHeaders(w, c.start, "application/json", true)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(marshalJSON(body))
	return res.completionTokens, false
}
