package mockserver

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
)

// fixtureSet is the server's ordered list of fixtures: the user's first, then the built-in
// ones. It is immutable after New.
type fixtureSet struct {
	list   []*Fixture
	byName map[string]*Fixture
}

func newFixtureSet(user, builtin []Fixture) (*fixtureSet, error) {
	s := &fixtureSet{byName: map[string]*Fixture{}}
	add := func(group []Fixture, shadowed bool) error {
		for i := range group {
			fx := group[i].clone()
			if fx.source == "" {
				fx.source = "option"
			}
			if err := fx.compile(); err != nil {
				return fmt.Errorf("%s: fixture %q: %v", fx.source, fx.Name, err)
			}
			if prev, dup := s.byName[fx.Name]; dup {
				if shadowed {
					continue // a user fixture of the same name replaces a built-in one
				}
				return fmt.Errorf("%s: fixture name %q is already used at %s", fx.source, fx.Name, prev.source)
			}
			s.list = append(s.list, &fx)
			s.byName[fx.Name] = &fx
		}
		return nil
	}
	if err := add(user, false); err != nil {
		return nil, err
	}
	if err := add(builtin, true); err != nil {
		return nil, err
	}
	return s, nil
}

func isBuiltin(source string) bool { return strings.HasPrefix(source, "builtin:") }

// matchView is what fixtures match against, computed once per request.
type matchView struct {
	model      string
	lastUser   string
	tools      bool
	toolResult bool
}

func viewOf(req *chatRequest) matchView {
	v := matchView{model: req.Model, tools: len(req.Tools) > 0}
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "user" {
			v.lastUser = req.Messages[i].Content
			break
		}
	}
	if n := len(req.Messages); n > 0 {
		v.toolResult = req.Messages[n-1].Role == "tool"
	}
	return v
}

// misses lists why fx does not match v; empty means it matches. held counts the conditions
// that did hold, to rank near misses.
func (fx *Fixture) misses(v matchView) (reasons []string, held int) {
	m := fx.Match
	check := func(ok bool, why string) {
		if ok {
			held++
		} else {
			reasons = append(reasons, why)
		}
	}
	if m.Model != "" {
		ok, _ := path.Match(m.Model, v.model)
		check(ok, fmt.Sprintf("model %q does not match %q", v.model, m.Model))
	}
	if m.Contains != "" {
		check(strings.Contains(strings.ToLower(v.lastUser), strings.ToLower(m.Contains)),
			fmt.Sprintf("the last user message does not contain %q", m.Contains))
	}
	if fx.re != nil {
		check(fx.re.MatchString(v.lastUser), fmt.Sprintf("the last user message does not match /%s/", m.Regex))
	}
	if m.Tools != nil {
		check(*m.Tools == v.tools, fmt.Sprintf("tools: %v wanted, the request has %v", *m.Tools, v.tools))
	}
	if m.ToolResult != nil {
		check(*m.ToolResult == v.toolResult, fmt.Sprintf("tool_result: %v wanted, the last message is %sa tool result", *m.ToolResult, map[bool]string{true: "", false: "not "}[v.toolResult]))
	}
	return reasons, held
}

// find returns the fixture for a request: the one named by X-Mock-Fixture, else the first
// that matches. A name that does not exist is an error.
func (s *fixtureSet) find(req *chatRequest, v matchView) (*Fixture, *Error) {
	if req.Fixture != "" {
		fx, ok := s.byName[req.Fixture]
		if !ok {
			names := make([]string, 0, len(s.byName))
			for n := range s.byName {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, errMock("fixture_not_found",
				fmt.Sprintf("X-Mock-Fixture names %q, which is not a fixture. Fixtures: %s.", req.Fixture, strings.Join(names, ", ")))
		}
		return fx, nil
	}
	for _, fx := range s.list {
		if fx.matches(v) {
			return fx, nil
		}
	}
	return nil, nil
}

// matches reports whether fx matches v: whether misses would list no reason, without
// writing the reasons.
func (fx *Fixture) matches(v matchView) bool {
	m := fx.Match
	if m.Model != "" {
		if ok, _ := path.Match(m.Model, v.model); !ok {
			return false
		}
	}
	if m.Contains != "" && !strings.Contains(strings.ToLower(v.lastUser), strings.ToLower(m.Contains)) {
		return false
	}
	if fx.isLiteral {
		if v.lastUser != fx.literal {
			return false
		}
	} else if fx.re != nil && !fx.re.MatchString(v.lastUser) {
		return false
	}
	if m.Tools != nil && *m.Tools != v.tools {
		return false
	}
	if m.ToolResult != nil && *m.ToolResult != v.toolResult {
		return false
	}
	return true
}

// nearMisses explains, for the strict fallback, which fixtures came closest and why each
// missed.
func (s *fixtureSet) nearMisses(v matchView) string {
	type miss struct {
		fx      *Fixture
		reasons []string
		held    int
	}
	var ms []miss
	for _, fx := range s.list {
		if isBuiltin(fx.source) {
			continue
		}
		r, held := fx.misses(v)
		ms = append(ms, miss{fx, r, held})
	}
	if len(ms) == 0 {
		return "No fixture matches this request (fallback: strict), and no fixtures are loaded."
	}
	sort.SliceStable(ms, func(i, j int) bool {
		if ms[i].held != ms[j].held {
			return ms[i].held > ms[j].held
		}
		return len(ms[i].reasons) < len(ms[j].reasons)
	})
	var sb strings.Builder
	sb.WriteString("No fixture matches this request (fallback: strict). Closest:")
	for i, m := range ms {
		if i == 3 {
			break
		}
		fmt.Fprintf(&sb, " %q (%s): %s;", m.fx.Name, m.fx.source, strings.Join(m.reasons, ", "))
	}
	return strings.TrimSuffix(sb.String(), ";") + "."
}

// clone copies a fixture deeply enough that compiling the copy leaves the original (which
// other servers may share, like the built-in fixtures) untouched.
func (fx Fixture) clone() Fixture {
	cloneReply := func(r FixtureReply) FixtureReply {
		r.ToolCalls = slices.Clone(r.ToolCalls)
		return r
	}
	if fx.Reply != nil {
		r := cloneReply(*fx.Reply)
		fx.Reply = &r
	}
	if fx.Replies != nil {
		replies := make([]FixtureReply, len(fx.Replies))
		for i, r := range fx.Replies {
			replies[i] = cloneReply(r)
		}
		fx.Replies = replies
	}
	return fx
}
