package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

// Fixture decides what the model says to the requests it matches. Fixture files hold a list
// of them under "fixtures:" (YAML or JSON); see the README for the format.
type Fixture struct {
	// Name is unique; it shows in near-miss reports and can be asked for with the request
	// header X-Mock-Fixture.
	Name  string       `yaml:"name" json:"name"`
	Match FixtureMatch `yaml:"match,omitempty" json:"match,omitempty"`
	// Reply is the answer. Replies instead gives one answer per turn of an agent loop: the
	// turn is the number of assistant messages after the last user message, so a tool call
	// can be followed, once the tool result is sent, by a final answer. The last entry
	// repeats for later turns.
	Reply   *FixtureReply  `yaml:"reply,omitempty" json:"reply,omitempty"`
	Replies []FixtureReply `yaml:"replies,omitempty" json:"replies,omitempty"`
	// Error answers with an error kind instead (see ErrorKinds), e.g. "rate_limit_requests".
	Error string `yaml:"error,omitempty" json:"error,omitempty"`
	// Latency overrides the server's simulated latency for the replies of this fixture.
	Latency *FixtureLatency `yaml:"latency,omitempty" json:"latency,omitempty"`

	source  string         // "file:line", for messages
	re      *regexp.Regexp // compiled Match.Regex
	latency *Latency       // parsed Latency
	// literal is the text Match.Regex matches exactly, when the regex is ^text$ with no
	// special character in text (as the built-in fixtures' are): a comparison then
	// decides, without running the regex.
	literal   string
	isLiteral bool
}

// FixtureLatency is a fixture's latency, as Go durations ("200ms", "1.5s").
type FixtureLatency struct {
	FirstToken string `yaml:"first_token,omitempty" json:"first_token,omitempty"`
	PerToken   string `yaml:"per_token,omitempty" json:"per_token,omitempty"`
}

// FixtureMatch lists the conditions a request must meet; every given condition must hold and
// an empty match matches every request.
type FixtureMatch struct {
	// Model is an exact model id or a glob such as "qwen3-*".
	Model string `yaml:"model,omitempty" json:"model,omitempty"`
	// Contains is a substring of the last user message, compared case-insensitively.
	Contains string `yaml:"contains,omitempty" json:"contains,omitempty"`
	// Regex is a Go regular expression matched against the last user message.
	Regex string `yaml:"regex,omitempty" json:"regex,omitempty"`
	// Tools requires the request to carry tools (true) or none (false).
	Tools *bool `yaml:"tools,omitempty" json:"tools,omitempty"`
	// ToolResult requires the last message to be a tool result (true) or not (false).
	ToolResult *bool `yaml:"tool_result,omitempty" json:"tool_result,omitempty"`
}

// FixtureReply is one answer: content, reasoning (shown when thinking is on) and tool calls.
type FixtureReply struct {
	Content   *string           `yaml:"content,omitempty" json:"content,omitempty"`
	Reasoning string            `yaml:"reasoning,omitempty" json:"reasoning,omitempty"`
	ToolCalls []FixtureToolCall `yaml:"tool_calls,omitempty" json:"tool_calls,omitempty"`
}

// FixtureToolCall is a tool call of a fixture reply. Arguments is an object (kept in the order
// written) or a string holding JSON.
type FixtureToolCall struct {
	Name      string `yaml:"name" json:"name"`
	Arguments any    `yaml:"arguments,omitempty" json:"arguments,omitempty"`

	args string // arguments as the model writes them (Python json.dumps style)
}

type fixtureFile struct {
	Fixtures []Fixture `yaml:"fixtures"`
}

// ParseFixtures decodes a fixture file (YAML or JSON) strictly: an unknown field, a bad
// regular expression, an unknown error kind or a duplicate name is an error that names the
// file and the line.
func ParseFixtures(name string, data []byte) ([]Fixture, error) {
	var f fixtureFile
	if err := yaml.UnmarshalWithOptions(data, &f, yaml.Strict(), yaml.UseOrderedMap()); err != nil {
		return nil, fmt.Errorf("%s: %s", name, yaml.FormatError(err, false, true))
	}
	lineOf := fixtureLines(data)
	for i := range f.Fixtures {
		fx := &f.Fixtures[i]
		fx.source = fmt.Sprintf("%s:%d", name, lineOf(fmt.Sprintf("$.fixtures[%d]", i)))
		if err := fx.compile(); err != nil {
			field := fixtureErrorPath(err)
			return nil, fmt.Errorf("%s:%d: fixture %q: %v", name, lineOf(fmt.Sprintf("$.fixtures[%d]%s", i, field)), fx.Name, err)
		}
	}
	return f.Fixtures, nil
}

// fixtureLines returns a function giving the line of a YAML path in data (1 if unknown).
func fixtureLines(data []byte) func(string) int {
	file, err := parser.ParseBytes(data, 0)
	return func(p string) int {
		if err != nil {
			return 1
		}
		yp, perr := yaml.PathString(p)
		if perr != nil {
			return 1
		}
		node, ferr := yp.FilterFile(file)
		if ferr != nil || node == nil || node.GetToken() == nil {
			return 1
		}
		return node.GetToken().Position.Line
	}
}

// fieldError is a fixture error that points at one field.
type fieldError struct {
	path string // e.g. ".match.regex"
	err  error
}

func (e *fieldError) Error() string { return e.err.Error() }

func fixtureErrorPath(err error) string {
	var fe *fieldError
	if errors.As(err, &fe) {
		return fe.path
	}
	return ""
}

// literalRegex returns text when re is ^text$ and text holds no character that is special
// in a regex: then re matches exactly the string text (without the m flag, ^ and $ match only
// at the ends of the text). Text holding U+FFFD is left to the regex, which also matches it
// against an invalid byte.
func literalRegex(re string) (string, bool) {
	inner, ok := strings.CutPrefix(re, "^")
	if !ok {
		return "", false
	}
	inner, ok = strings.CutSuffix(inner, "$")
	if !ok || regexp.QuoteMeta(inner) != inner || strings.ContainsRune(inner, utf8.RuneError) {
		return "", false
	}
	return inner, true
}

// compile checks a fixture and prepares it for matching.
func (fx *Fixture) compile() error {
	if fx.Name == "" {
		return &fieldError{"", errors.New("name is required")}
	}
	if fx.Match.Model != "" {
		if _, err := path.Match(fx.Match.Model, ""); err != nil {
			return &fieldError{".match.model", fmt.Errorf("bad model glob %q: %v", fx.Match.Model, err)}
		}
	}
	if fx.Match.Regex != "" {
		re, err := regexp.Compile(fx.Match.Regex)
		if err != nil {
			return &fieldError{".match.regex", fmt.Errorf("bad regex: %v", err)}
		}
		fx.re = re
		fx.literal, fx.isLiteral = literalRegex(fx.Match.Regex)
	}
	if fx.Latency != nil {
		l := &Latency{}
		for _, d := range []struct {
			text string
			dst  *time.Duration
			at   string
		}{{fx.Latency.FirstToken, &l.FirstToken, ".latency.first_token"}, {fx.Latency.PerToken, &l.PerToken, ".latency.per_token"}} {
			if d.text == "" {
				continue
			}
			v, err := time.ParseDuration(d.text)
			if err != nil || v < 0 {
				return &fieldError{d.at, fmt.Errorf("bad duration %q (use Go durations such as 200ms)", d.text)}
			}
			*d.dst = v
		}
		fx.latency = l
	}
	answers := 0
	if fx.Reply != nil {
		answers++
	}
	if len(fx.Replies) > 0 {
		answers++
	}
	if fx.Error != "" {
		answers++
		if !IsErrorKind(fx.Error) && fx.Error != "context_length" {
			return &fieldError{".error", fmt.Errorf("unknown error kind %q (known: %s, context_length)", fx.Error, strings.Join(ErrorKinds(), ", "))}
		}
	}
	if answers != 1 {
		return &fieldError{"", errors.New("give exactly one of reply, replies or error")}
	}
	replies := fx.Replies
	if fx.Reply != nil {
		replies = []FixtureReply{*fx.Reply}
	}
	for i := range replies {
		for j := range replies[i].ToolCalls {
			tc := &replies[i].ToolCalls[j]
			at := fmt.Sprintf(".reply.tool_calls[%d]", j)
			if fx.Reply == nil {
				at = fmt.Sprintf(".replies[%d].tool_calls[%d]", i, j)
			}
			if tc.Name == "" {
				return &fieldError{at, errors.New("tool call without a name")}
			}
			args, err := argumentsJSON(tc.Arguments)
			if err != nil {
				return &fieldError{at + ".arguments", err}
			}
			tc.args = args
		}
	}
	if fx.Reply != nil {
		*fx.Reply = replies[0]
	}
	return nil
}

// argumentsJSON turns fixture arguments (an object, or a string of JSON) into the JSON text
// the model writes.
func argumentsJSON(v any) (string, error) {
	switch a := v.(type) {
	case nil:
		return "{}", nil
	case string:
		if !json.Valid([]byte(a)) {
			return "", fmt.Errorf("arguments string is not valid JSON: %q", a)
		}
		return pythonJSON([]byte(a)), nil
	default:
		var buf bytes.Buffer
		if err := writeOrderedJSON(&buf, a); err != nil {
			return "", err
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte("{")) {
			return "", fmt.Errorf("arguments must be an object")
		}
		return pythonJSON(buf.Bytes()), nil
	}
}

// writeOrderedJSON encodes a decoded YAML value, keeping the key order of yaml.MapSlice.
func writeOrderedJSON(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case yaml.MapSlice:
		buf.WriteByte('{')
		for i, item := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(marshalJSON(fmt.Sprint(item.Key)))
			buf.WriteByte(':')
			if err := writeOrderedJSON(buf, item.Value); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(marshalJSON(k))
			buf.WriteByte(':')
			if err := writeOrderedJSON(buf, x[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, item := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeOrderedJSON(buf, item); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Errorf("arguments: %v", err)
		}
		buf.Write(b)
	}
	return nil
}

// LoadFixtures reads a fixture file, or every .yaml, .yml and .json file of a directory (in
// name order, recursively).
func LoadFixtures(p string) ([]Fixture, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("fixtures: %w", err)
	}
	var files []string
	if info.IsDir() {
		err = filepath.WalkDir(p, func(fp string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(fp)) {
			case ".yaml", ".yml", ".json":
				if !d.IsDir() {
					files = append(files, fp)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("fixtures: %w", err)
		}
		sort.Strings(files)
	} else {
		files = []string{p}
	}
	var all []Fixture
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("fixtures: %w", err)
		}
		fs, err := ParseFixtures(f, data)
		if err != nil {
			return nil, err
		}
		all = append(all, fs...)
	}
	return all, nil
}
