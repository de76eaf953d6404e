package mockserver

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/brianvoe/gofakeit/v7"
)

// replyPlan is what one choice will say, before truncation.
type replyPlan struct {
	fixture   string
	reasoning string
	content   string
	toolCalls []historyToolCall

	// The token ids of reasoning and content when they are generated prose, known without
	// tokenizing them (generateProseTokens); nil otherwise. They hold only while the text is
	// the generated one, which truncate checks.
	reasoningIDs, contentIDs []int
	generatedReasoning       string
	generatedContent         string
	err                      *Error // no valid tool call could be made (errToolSchema)
}

// respond produces the reply: n choices, each chosen by a fixture or the fallback, then cut to
// the output cap. A fixture that answers with an error, or the strict fallback, returns an
// *Error instead.
func (s *Server) respond(c *call) (*result, *Error) {
	n := 1
	if c.req.N.set {
		n = int(c.req.N.v)
	}
	view := viewOf(c.req)
	fx, e := s.fixtures.find(c.req, view)
	if e != nil {
		return nil, e
	}
	if fx != nil && fx.Error != "" {
		if fx.Error == "context_length" {
			return nil, errContextLength(c.model.MaxInputTokens)
		}
		return nil, errorOf(fx.Error)
	}
	if fx == nil && s.cfg.fallback == FallbackStrict {
		return nil, errMock("no_fixture_matched", s.fixtures.nearMisses(view))
	}
	var res *result
	var sc *replyScratch // where generated text goes: the request's state, or new memory
	if c.pooled && n == 1 {
		st := c.st
		st.res = result{choices: st.choice[:1], fixture: fx}
		res, sc = &st.res, &st.gen
	} else {
		res = &result{choices: make([]choiceResult, n), fixture: fx}
	}
	for i := range n {
		var f *gofakeit.Faker
		if c.st != nil {
			// The Faker is used only here: the state's serves every shape.
			f = c.st.gen.source(s.replySeed(&c.st.gen.feed, c, i))
		} else {
			f = gofakeit.NewFaker(s.replySource(c, i), false)
		}
		p := s.plan(c, fx, f, sc)
		if p.err != nil {
			return nil, p.err
		}
		ch := s.truncate(c, p)
		ch.index = i
		for j := range ch.toolCalls {
			ch.toolCalls[j].ID = callID(f)
		}
		res.choices[i] = ch
		res.completionTokens += ch.completionTokens()
		res.reasoningTokens += len(ch.reasoningIDs)
	}
	return res, nil
}

// plan decides what a choice says: the fixture's reply for this turn, or the fallback; then
// tool calls, JSON mode and reasoning as the request asks.
func (s *Server) plan(c *call, fx *Fixture, f *gofakeit.Faker, sc *replyScratch) replyPlan {
	req := c.req
	var p replyPlan
	var fromFixture *FixtureReply
	if fx != nil {
		p.fixture = fx.Name
		fromFixture = fx.replyForTurn(turnOf(req.Messages))
	}

	switch {
	case fromFixture != nil:
		if fromFixture.Content != nil {
			p.content = *fromFixture.Content
		}
		for _, tc := range fromFixture.ToolCalls {
			p.toolCalls = append(p.toolCalls, historyToolCall{Name: tc.Name, Arguments: tc.args})
		}
		if len(p.toolCalls) == 0 && fromFixture.Content == nil {
			p.setProse(f, s, sc)
		}
	case s.cfg.fallback == FallbackEcho:
		p.content = viewOf(req).lastUser
	default:
		p.setProse(f, s, sc)
	}

	switch {
	case len(req.Tools) == 0 || req.ToolChoice.Mode == "none":
		if len(p.toolCalls) > 0 {
			// The request offers no tools (or forbids them): answer in words.
			p.toolCalls = nil
			if p.content == "" {
				p.setProse(f, s, sc)
			}
		}
	case len(p.toolCalls) > 0:
		// The fixture decided.
	case fromFixture != nil && req.ToolChoice.Mode == "auto":
		// A fixture with only content answers in words.
	default:
		p.toolCalls, p.err = decideToolCalls(req, f)
	}
	if len(p.toolCalls) > 0 {
		p.content = ""
	}

	if req.ResponseFormat == "json_object" && len(p.toolCalls) == 0 && (fromFixture == nil || fromFixture.Content == nil) {
		p.content = generateJSONObject(f)
	}
	if c.thinking {
		if fromFixture != nil && fromFixture.Reasoning != "" {
			p.reasoning = fromFixture.Reasoning
		} else {
			p.reasoning, p.reasoningIDs = generateReasoningInto(f, s.tok, sc)
			p.generatedReasoning = p.reasoning
		}
	}
	if isPartial(req) && p.content != "" {
		p.content = continuation(req.Messages[len(req.Messages)-1].Content, p.content)
	}
	return p
}

// truncate cuts a plan to the output cap and counts its tokens. Reasoning
// comes first and stops at thinking_budget; a cap that lands inside the reasoning leaves the
// content empty. Stop sequences cut the content before their first match.
func (s *Server) truncate(c *call, p replyPlan) choiceResult {
	ch := choiceResult{finish: "stop", fixture: p.fixture}
	budget := c.maxOutput

	if p.reasoning != "" {
		ids := p.reasoningIDs
		if ids == nil || p.reasoning != p.generatedReasoning {
			ids = s.tok.Encode(p.reasoning)
		}
		whole := len(ids)
		if c.req.ThinkingBudget.set && len(ids) > int(c.req.ThinkingBudget.v) {
			ids = ids[:int(c.req.ThinkingBudget.v)]
		}
		if len(ids) >= budget && len(ids) > 0 && !c.req.AnswerOnlyMaxTokens {
			ch.reasoningIDs = ids[:budget]
			ch.reasoning = s.textOf(ch.reasoningIDs)
			ch.finish = "length"
			return ch
		}
		ch.reasoningIDs = ids
		if len(ids) == whole && utf8.ValidString(p.reasoning) {
			ch.reasoning = p.reasoning // the tokens of valid UTF-8 decode to it
		} else {
			ch.reasoning = s.textOf(ids)
		}
		if !c.req.AnswerOnlyMaxTokens {
			budget -= len(ids)
		}
	}

	if len(p.toolCalls) > 0 {
		n := s.tok.Count(renderToolCalls(p.toolCalls))
		if n > budget {
			// The calls do not fit: the output stops mid-call, which no client can use.
			ch.toolTokens = budget
			ch.finish = "length"
			return ch
		}
		ch.toolTokens = n
		for _, tc := range p.toolCalls {
			ch.toolCalls = append(ch.toolCalls, toolCallOut{Name: tc.Name, Arguments: tc.Arguments})
		}
		ch.finish = "tool_calls"
		return ch
	}

	content := p.content
	ids := p.contentIDs
	if cut, ok := cutAtStop(content, c.req.Stop); ok {
		content, ids = cut, nil
	}
	if ids == nil || content != p.generatedContent {
		ids = s.tok.Encode(content)
	}
	ids, stopped := cutAtStopTokens(ids, c.req.StopTokens)
	if len(ids) > budget {
		ids, ch.finish = ids[:budget], "length"
		ch.text = s.textOf(ids)
	} else if !stopped && utf8.ValidString(content) {
		ch.text = content // the tokens of valid UTF-8 decode to it
	} else {
		ch.text = s.textOf(ids)
	}
	ch.ids = ids
	return ch
}

// setProse makes the plan's content generated prose, with its token ids (in sc's buffers when
// sc is given).
func (p *replyPlan) setProse(f *gofakeit.Faker, s *Server, sc *replyScratch) {
	p.content, p.contentIDs = generateProseInto(f, s.tok, sc)
	p.generatedContent = p.content
}

func (s *Server) textOf(ids []int) string {
	return string(trimIncompleteUTF8(s.appendTokens(nil, ids)))
}

// cutAtStop returns text before the earliest match of any stop sequence.
func cutAtStop(text string, stops []string) (string, bool) {
	best := -1
	for _, stop := range stops {
		if stop == "" {
			continue
		}
		if i := strings.Index(text, stop); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	if best < 0 {
		return text, false
	}
	return text[:best], true
}

// turnOf is the number of assistant messages after the last user message: 0 for a new
// question, 1 after one tool call and its result, and so on.
func turnOf(msgs []chatMessage) int {
	turn := 0
	for i := len(msgs) - 1; i >= 0; i-- {
		switch msgs[i].Role {
		case "user":
			return turn
		case "assistant":
			if !msgs[i].Partial {
				turn++
			}
		}
	}
	return turn
}

// replyForTurn picks the reply of a turn; the last one repeats.
func (fx *Fixture) replyForTurn(turn int) *FixtureReply {
	if fx.Reply != nil {
		return fx.Reply
	}
	if len(fx.Replies) == 0 {
		return nil
	}
	return &fx.Replies[min(turn, len(fx.Replies)-1)]
}

func isPartial(req *chatRequest) bool {
	n := len(req.Messages)
	return n > 0 && req.Messages[n-1].Partial
}

// continuation joins a generated continuation to the prefix the client gave: a space between
// words, nothing after whitespace.
func continuation(prefix, text string) string {
	if prefix == "" || strings.HasSuffix(prefix, " ") || strings.HasSuffix(prefix, "\n") ||
		strings.HasPrefix(text, " ") || strings.HasPrefix(text, "\n") {
		return text
	}
	return " " + text
}

// callID makes a tool call id as the real service does: "call_" and 24 hex digits.
func callID(f *gofakeit.Faker) string {
	return fmt.Sprintf("call_%08x%08x%08x", f.Uint32(), f.Uint32(), f.Uint32())
}
