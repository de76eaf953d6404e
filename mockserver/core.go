package mockserver

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unsafe"
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
	maxOutput    int  // output cap: max_tokens (or the model's max), bounded by the context left
	thinking     bool // the request runs in thinking mode

	ctx       context.Context // the request's: done when the client goes away
	cache     cacheUse        // what the context cache did (cache.go)
	semantic  *Fault          // a semantic fault that rewrites the reply (faults_semantic.go)
	pace      *pacer          // simulated latency; nil when there is none
	fault     *Fault          // a fault to inject mid-stream (after fault.AfterChunks events)
	faultErr  *Error          // the error it answers with; nil for stream_drop
	admission *admission      // the rate limiter's answer, once asked; its headers go out with the answer
	stats     callStats       // what the metrics need to know of the answer

	// st is the request's pooled memory (chatstate.go) while serveChat runs it, nil for a
	// call made elsewhere. With pooled the result and the generated text live in it too:
	// the compatible shape's non-stream answer keeps nothing of them once written.
	st     *chatState
	pooled bool
}

// choiceResult is one choice of the reply after truncation. Reasoning comes first, then
// either content or tool calls; completion tokens count all three.
type choiceResult struct {
	index        int
	reasoningIDs []int
	reasoning    string
	ids          []int  // content tokens (counted even when cut inside a character)
	text         string // content, valid UTF-8
	toolCalls    []toolCallOut
	toolTokens   int
	finish       string // "stop", "length" or "tool_calls"
	fixture      string // the fixture that chose the reply, if any
}

// toolCallOut is a tool call of the reply.
type toolCallOut struct {
	ID, Name, Arguments string
}

// completionTokens counts what the choice produced.
func (ch *choiceResult) completionTokens() int {
	return len(ch.reasoningIDs) + len(ch.ids) + ch.toolTokens
}

// result is the reply to a call.
type result struct {
	choices          []choiceResult
	completionTokens int
	reasoningTokens  int
	fixture          *Fixture // the fixture that chose the reply, if any
}

func (r *result) fixtureName() string {
	if r.fixture == nil {
		return ""
	}
	return r.fixture.Name
}

func (s *Server) newCall(r *http.Request) *call {
	c := new(call)
	s.initCall(c, r)
	return c
}

// initCall starts call c of request r, a zero call.
func (s *Server) initCall(c *call, r *http.Request) {
	c.id = s.cfg.newRequestID()
	c.start = time.Now()
	c.created = s.clock.Now().Unix()
	c.ctx = r.Context()
}

// authenticate checks "Authorization: Bearer <key>".
func (s *Server) authenticate(r *http.Request) *Error {
	key := bearerKey(r.Header.Get("Authorization"))
	if key == "" {
		return errorOf("no_api_key")
	}
	if len(key) > MaxAPIKeyBytes {
		return errKeyTooLong()
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
func (s *Server) prepare(c *call, req *chatRequest, shape wireShape) *Error {
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
	last := len(req.Messages) - 1
	for i, msg := range req.Messages {
		if msg.Partial && (i != last || msg.Role != "assistant") {
			return errBadRequest(fmt.Sprintf("messages[%d]: only the last message, from the assistant, can be partial.", i))
		}
	}

	if e := checkMedia(req.Messages); e != nil {
		return e
	}
	if !req.SystemAnywhere {
		if e := checkSystemFirst(req.Messages); e != nil {
			return e
		}
	}
	c.thinking = thinkingOn(req, m)
	maxOut := m.MaxOutputTokens
	if c.thinking {
		maxOut = m.MaxOutputTokensThinking
	}
	if e := checkRanges(req, maxOut); e != nil {
		return e
	}
	if e := checkFeatures(req, m, c.thinking); e != nil {
		return e
	}
	if e := shape.check(c); e != nil {
		return e
	}

	var n int
	var over bool
	if c.st != nil {
		n, over = s.countPromptIn(&c.st.block, req, m.MaxInputTokens)
	} else {
		n, over = s.countPrompt(req, m.MaxInputTokens)
	}
	if over {
		return errContextLength(m.MaxInputTokens)
	}
	c.promptTokens = n

	c.maxOutput = maxOut
	if req.MaxTokens.set {
		c.maxOutput = int(req.MaxTokens.v)
	}
	c.maxOutput = max(0, min(c.maxOutput, m.ContextWindow-n))
	return nil
}

// thinkingOn reports whether the request runs in thinking mode: always for thinking-only
// models, as enable_thinking says (else the model's default) for hybrid ones, never for others.
func thinkingOn(req *chatRequest, m *Model) bool {
	switch m.Thinking {
	case "only":
		return true
	case "hybrid":
		if req.EnableThinking != nil {
			return *req.EnableThinking
		}
		return m.ThinkingDefault
	}
	return false
}

// checkFeatures validates the parameters that depend on each other: tools, JSON mode and
// thinking, as the real service does.
func checkFeatures(req *chatRequest, m *Model, thinking bool) *Error {
	if e := checkThinkingRules(req, m, thinking); e != nil {
		return e
	}
	if e := checkToolNames(req.Tools); e != nil {
		return e
	}
	if len(req.Tools) > 0 && req.N.set && req.N.v != 1 {
		return errInvalidParameter("n should be 1 when tools are provided")
	}
	if req.ResponseFormat == "json_object" {
		mentioned := false
		for _, msg := range req.Messages {
			if strings.Contains(strings.ToLower(msg.Content), "json") {
				mentioned = true
				break
			}
		}
		if !mentioned {
			return errorOf("json_mode_without_json")
		}
	}
	return nil
}

// checkRanges applies the parameter ranges the real service checks, with its messages.
func checkRanges(req *chatRequest, maxOutput int) *Error {
	switch {
	case !req.MaxTokens.intIn(1, float64(maxOutput)):
		return errInvalidParameter(fmt.Sprintf("Range of max_tokens should be [1, %d]", maxOutput))
	case req.Temperature != nil && !(*req.Temperature >= 0 && *req.Temperature < 2):
		return errInvalidParameter("Temperature should be in [0.0, 2.0)")
	case req.TopP != nil && !(*req.TopP > 0 && *req.TopP <= 1):
		return errInvalidParameter("Range of top_p should be (0.0, 1.0]")
	case req.PresencePenalty != nil && !(*req.PresencePenalty >= -2 && *req.PresencePenalty <= 2):
		return errInvalidParameter("Presence_penalty should be in [-2.0, 2.0]")
	case !req.N.intIn(1, 4):
		return errInvalidParameter("Range of n should be [1, 4]")
	case !req.TopLogprobs.intIn(0, 5):
		return errInvalidParameter("Range of top_logprobs should be [0, 5]")
	}
	return nil
}

// countPrompt counts prompt tokens as DashScope does: the ChatML
// rendering of the conversation plus the generation prompt, which for plain messages sums to
// 3 + Σ(3 + tokens(role "\n" content)). Tools, tool calls and tool results are rendered as
// Qwen's chat template renders them (promptBlocks). Counting stops once the total passes
// limit, so an oversized body costs no more than the limit's worth of work.
func (s *Server) countPrompt(req *chatRequest, limit int) (int, bool) {
	var buf []byte
	return s.countPromptIn(&buf, req, limit)
}

// countPromptIn is countPrompt rendering each block in *buf, which it may grow.
func (s *Server) countPromptIn(buf *[]byte, req *chatRequest, limit int) (total int, over bool) {
	*buf = appendPromptBlocks((*buf)[:0], req.Messages, req.Tools, func(block []byte) bool {
		text := unsafe.String(unsafe.SliceData(block), len(block))
		var n int
		var o bool
		if text == generationPrompt {
			n = s.genTokens // counted once, in New
			o = n > max(0, limit-total)
		} else {
			// The tokenizer keeps nothing of the text it is given (its cache copies).
			n, o = s.tok.CountLimit(text, max(0, limit-total))
		}
		total += n
		over = o || total > limit
		return !over
	})
	return total, over
}

// promptBlocks renders the prompt in pieces that each start and end at a special token, so
// that their counts add up to the count of the whole rendering.
func promptBlocks(msgs []chatMessage, tools []toolDef) []string {
	blocks := make([]string, 0, len(msgs)+1)
	appendPromptBlocks(nil, msgs, tools, func(block []byte) bool {
		blocks = append(blocks, string(block))
		return true
	})
	return blocks
}

// appendPromptBlocks renders the blocks of promptBlocks one at a time into buf (from its
// start) and calls each with it, until each returns false; it returns buf for reuse.
func appendPromptBlocks(buf []byte, msgs []chatMessage, tools []toolDef, each func(block []byte) bool) []byte {
	start := 0
	if len(tools) > 0 {
		system, has := "", false
		if len(msgs) > 0 && msgs[0].Role == "system" {
			system, has, start = msgs[0].Content, true, 1
		}
		buf = append(buf[:0], toolsSystemBlock(system, has, tools)...)
		if !each(buf) {
			return buf
		}
	}
	last := len(msgs) - 1
	partial := last >= 0 && msgs[last].Partial
	for i := start; i <= last; i++ {
		m := &msgs[i]
		buf = buf[:0]
		switch m.Role {
		case "tool":
			if i == start || msgs[i-1].Role != "tool" {
				buf = append(buf, "<|im_start|>user"...)
			}
			buf = append(buf, "\n<tool_response>\n"...)
			buf = append(buf, m.Content...)
			buf = append(buf, "\n</tool_response>"...)
			if i == last || msgs[i+1].Role != "tool" {
				buf = append(buf, "<|im_end|>\n"...)
			}
		case "assistant":
			buf = append(buf, "<|im_start|>assistant\n"...)
			buf = append(buf, m.Content...)
			if len(m.ToolCalls) > 0 {
				if m.Content != "" {
					buf = append(buf, '\n')
				}
				buf = append(buf, renderToolCalls(m.ToolCalls)...)
			}
			if !(partial && i == last) {
				buf = append(buf, "<|im_end|>\n"...)
			}
		default:
			buf = append(buf, "<|im_start|>"...)
			buf = append(buf, m.Role...)
			buf = append(buf, '\n')
			buf = append(buf, m.Content...)
			buf = append(buf, "<|im_end|>\n"...)
		}
		if !each(buf) {
			return buf
		}
	}
	if !partial {
		buf = append(buf[:0], generationPrompt...)
		each(buf)
	}
	return buf
}

// generationPrompt ends the prompt: the assistant's turn, to be generated.
const generationPrompt = "<|im_start|>assistant\n"

func (s *Server) appendTokens(dst []byte, ids []int) []byte {
	for _, id := range ids {
		dst = append(dst, s.tok.TokenBytes(id)...)
	}
	return dst
}
