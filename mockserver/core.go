package mockserver

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// call is one chat request on its way through the core, shared by every wire shape:
// auth → validate → count tokens → context and max_tokens checks → reply → truncate.
type call struct {
	id      string    // request id (a UUID); "chatcmpl-"+id in the compatible shape
	start   time.Time // wall time when the request arrived, for req-cost-time
	created int64     // server clock (Unix seconds) for "created"
	req     *chatRequest
	model   *Model
	modelID string // as the client named it (an alias stays an alias)

	promptTokens int
	maxOutput    int // output cap: max_tokens (or the model's max), bounded by the context left
}

// choiceResult is one generated choice after truncation.
type choiceResult struct {
	index  int
	ids    []int  // the tokens returned, counted as completion tokens
	text   string // their text, valid UTF-8 (a token that ends mid-character is counted, not shown)
	finish string // "stop" or "length"
}

// result is the reply to a call.
type result struct {
	choices          []choiceResult
	completionTokens int
}

func (s *Server) newCall(r *http.Request) *call {
	return &call{
		id:      s.cfg.newRequestID(),
		start:   time.Now(),
		created: s.clock.Now().Unix(),
	}
}

// authenticate checks "Authorization: Bearer <key>" (spec/api.md §1).
func (s *Server) authenticate(r *http.Request) *Error {
	key := bearerKey(r.Header.Get("Authorization"))
	if key == "" {
		return errorOf("no_api_key")
	}
	if len(s.cfg.apiKeys) > 0 && !s.cfg.apiKeys[key] {
		return errorOf("invalid_api_key")
	}
	return nil
}

func bearerKey(h string) string {
	h = strings.TrimSpace(h)
	if len(h) >= 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

var validRoles = map[string]bool{"system": true, "user": true, "assistant": true, "tool": true}

// prepare validates the request against the model and counts its prompt: everything that
// decides the HTTP status happens here, before the first byte of the answer.
func (s *Server) prepare(c *call, req *chatRequest) *Error {
	c.req = req
	if req.Model == "" {
		return errorOf("missing_model")
	}
	m, ok := s.models.lookup(req.Model)
	if !ok {
		return errModelNotFound(req.Model)
	}
	c.model, c.modelID = m, req.Model

	if len(req.Messages) == 0 {
		if !req.MessagesGiven {
			return errBadRequest("'messages' is a required property")
		}
		return errorOf("empty_messages")
	}
	for i, msg := range req.Messages {
		if !validRoles[msg.Role] {
			return errBadRequest(fmt.Sprintf("messages[%d]: role must be one of system, user, assistant, tool; got '%s'.", i, msg.Role))
		}
	}
	if e := checkRanges(req, m); e != nil {
		return e
	}

	n, over := s.countPrompt(req.Messages, m.MaxInputTokens)
	if over {
		return errContextLength(m.MaxInputTokens)
	}
	c.promptTokens = n

	c.maxOutput = m.MaxOutputTokens
	if req.MaxTokens.set {
		c.maxOutput = int(req.MaxTokens.v)
	}
	c.maxOutput = max(0, min(c.maxOutput, m.ContextWindow-n))
	return nil
}

// checkRanges applies the parameter ranges of spec/api.md §2.1, with the real messages (§4).
func checkRanges(req *chatRequest, m *Model) *Error {
	switch {
	case !req.MaxTokens.intIn(1, float64(m.MaxOutputTokens)):
		return errInvalidParameter(fmt.Sprintf("Range of max_tokens should be [1, %d]", m.MaxOutputTokens))
	case req.Temperature != nil && !(*req.Temperature >= 0 && *req.Temperature < 2):
		return errInvalidParameter("Temperature should be in [0.0, 2.0)")
	case req.TopP != nil && !(*req.TopP > 0 && *req.TopP <= 1):
		return errInvalidParameter("Range of top_p should be (0.0, 1.0]")
	case req.PresencePenalty != nil && !(*req.PresencePenalty >= -2 && *req.PresencePenalty <= 2):
		return errInvalidParameter("Presence_penalty should be in [-2.0, 2.0]")
	case !req.N.intIn(1, 4):
		return errInvalidParameter("Range of n should be [1, 4]")
	case !req.Seed.intIn(0, 1<<31-1):
		return errInvalidParameter("Range of seed should be [0, 2147483647]")
	case !req.TopLogprobs.intIn(0, 5):
		return errInvalidParameter("Range of top_logprobs should be [0, 5]")
	}
	return nil
}

// countPrompt counts prompt tokens as DashScope does (spec/tokenizer.md): the ChatML rendering
// plus the generation prompt, 3 + Σ(3 + tokens(role "\n" content)). It stops counting once the
// total passes limit, so an oversized body costs no more than the limit's worth of work.
func (s *Server) countPrompt(msgs []chatMessage, limit int) (int, bool) {
	total := 3
	for _, m := range msgs {
		n, over := s.tok.CountLimit(m.Role+"\n"+m.Content, max(0, limit-total-3))
		total += 3 + n
		if over || total > limit {
			return total, true
		}
	}
	return total, false
}

// respond produces the reply: n choices of generated text, each cut to the output cap.
func (s *Server) respond(c *call) *result {
	n := 1
	if c.req.N.set {
		n = int(c.req.N.v)
	}
	res := &result{choices: make([]choiceResult, n)}
	for i := range n {
		text := s.generateReply(c, i)
		ch := s.cut(s.tok.Encode(text), c.maxOutput)
		ch.index = i
		res.choices[i] = ch
		res.completionTokens += len(ch.ids)
	}
	return res
}

// cut keeps at most limit tokens; "length" when it had to cut (spec/api.md §7).
func (s *Server) cut(ids []int, limit int) choiceResult {
	ch := choiceResult{finish: "stop"}
	if len(ids) > limit {
		ids, ch.finish = ids[:limit], "length"
	}
	ch.ids = ids
	ch.text = string(trimIncompleteUTF8(s.appendTokens(nil, ids)))
	return ch
}

func (s *Server) appendTokens(dst []byte, ids []int) []byte {
	for _, id := range ids {
		dst = append(dst, s.tok.TokenBytes(id)...)
	}
	return dst
}
