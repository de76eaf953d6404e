// Package docs_test checks the documentation against the code: every Go block of README.md and
// docs/*.md compiles, the Go tests and examples shown are the files of docs/examples that
// go test runs, every JSON block parses, every relative link leads to a file and heading that
// exist, and NOTICE carries the tokenizer's notice. The command's own loader reads the YAML
// examples in cmd/qwenmock/docs_examples_test.go.
package docs_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// block is one fenced code block of a Markdown file.
type block struct {
	file string // relative to the repository root
	line int    // of the opening fence
	lang string // the fence's info string
	text string // the contents, without the fence's indentation
}

func (b block) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

var fenceRE = regexp.MustCompile("^( *)```(\\S*)\\s*$")

// fencedBlocks returns the fenced code blocks of a Markdown text.
func fencedBlocks(file, text string) ([]block, error) {
	var out []block
	lines := strings.SplitAfter(text, "\n")
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(strings.TrimRight(lines[i], "\n"))
		if m == nil {
			continue
		}
		indent, b := m[1], block{file: file, line: i + 1, lang: m[2]}
		var body strings.Builder
		closed := false
		for i++; i < len(lines); i++ {
			l := strings.TrimRight(lines[i], "\n")
			if strings.TrimSpace(l) == "```" {
				closed = true
				break
			}
			body.WriteString(strings.TrimPrefix(lines[i], indent))
		}
		if !closed {
			return nil, fmt.Errorf("%s:%d: the code block is never closed", file, b.line)
		}
		b.text = body.String()
		out = append(out, b)
	}
	return out, nil
}

// root is the repository root, one level above this package.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// pages returns README.md and every docs/*.md, relative to the root.
func pages(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root(t), "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"README.md"}
	for _, d := range docs {
		out = append(out, filepath.Join("docs", filepath.Base(d)))
	}
	return out
}

// allBlocks returns the code blocks of every page.
func allBlocks(t *testing.T) []block {
	t.Helper()
	var out []block
	for _, p := range pages(t) {
		data, err := os.ReadFile(filepath.Join(root(t), p))
		if err != nil {
			t.Fatal(err)
		}
		bs, err := fencedBlocks(p, string(data))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bs...)
	}
	return out
}

func goBlocks(t *testing.T) []block {
	var out []block
	for _, b := range allBlocks(t) {
		if b.lang == "go" {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Fatal("no Go blocks found")
	}
	return out
}

// isTestFile reports whether Go source is a test file: tests or examples that go test runs.
func isTestFile(src string) bool {
	return regexp.MustCompile(`(?m)^func (Test|Example|Benchmark|Fuzz)`).MatchString(src)
}

// TestGoBlocksCompile type-checks every Go block, each a complete file, with one go vet over a
// throwaway module that uses this repository through a replace directive, as a reader's own
// module would.
func TestGoBlocksCompile(t *testing.T) {
	repo := root(t)
	mod := t.TempDir()
	for i, b := range goBlocks(t) {
		f, err := parser.ParseFile(token.NewFileSet(), b.String(), b.text, parser.PackageClauseOnly)
		if err != nil {
			t.Errorf("%s: not a complete Go file (package clause and imports): %v", b, err)
			continue
		}
		name := "snippet.go"
		if isTestFile(b.text) || strings.HasSuffix(f.Name.Name, "_test") {
			name = "snippet_test.go"
		}
		dir := filepath.Join(mod, fmt.Sprintf("s%02d", i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// The source position in compiler messages: a //line directive names the page.
		src := fmt.Sprintf("//line %s:%d\n%s", filepath.Join(repo, b.file), b.line+1, b.text)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if t.Failed() {
		return
	}

	// The module requires what the repository requires, so the repository's go.sum covers it.
	gomod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	const self = "github.com/qwenmock/qwenmock"
	if !bytes.HasPrefix(gomod, []byte("module "+self+"\n")) {
		t.Fatalf("go.mod does not start with module %s", self)
	}
	gomod = bytes.Replace(gomod, []byte("module "+self), []byte("module docsnippets"), 1)
	gomod = fmt.Appendf(gomod, "\nrequire %s v0.0.0\n\nreplace %s => %s\n", self, self, repo)
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), gomod, 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(goTool(t), "vet", "./...")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("go vet of the documentation's Go blocks: %v\n%s", err, out)
	}
}

// goTool is the go command that runs these tests.
func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no go command on PATH or in %s", p)
	}
	return p
}

// TestGoExamplesAreRun: a Go block that holds tests or examples, and every Go block of the
// README, is byte for byte a file of docs/examples, so go test runs what the reader sees. Every
// file of docs/examples is shown somewhere.
func TestGoExamplesAreRun(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root(t), "docs", "examples", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	examples := map[string]string{} // contents → file
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples[string(data)] = filepath.Join("docs", "examples", filepath.Base(f))
	}
	shown := map[string]bool{}
	for _, b := range goBlocks(t) {
		if b.file != "README.md" && !isTestFile(b.text) {
			continue
		}
		f, ok := examples[b.text]
		if !ok {
			t.Errorf("%s: this Go block is not a file of docs/examples; copy it there byte for byte so that go test runs it%s", b, closest(b.text, examples))
			continue
		}
		shown[f] = true
	}
	for _, f := range examples {
		if !shown[f] {
			t.Errorf("%s is shown in no page", f)
		}
	}
}

// closest names the example file that shares the longest prefix with src, and where they part.
func closest(src string, examples map[string]string) string {
	best, bestFile := -1, ""
	for text, f := range examples {
		n := 0
		for n < len(src) && n < len(text) && src[n] == text[n] {
			n++
		}
		if n > best {
			best, bestFile = n, f
		}
	}
	if bestFile == "" {
		return ""
	}
	line := strings.Count(src[:best], "\n") + 1
	return fmt.Sprintf(" (closest: %s, which differs from line %d of the block)", bestFile, line)
}

// TestJSONBlocksParse: every json block is one or more JSON values.
func TestJSONBlocksParse(t *testing.T) {
	n := 0
	for _, b := range allBlocks(t) {
		if b.lang != "json" {
			continue
		}
		n++
		dec := json.NewDecoder(strings.NewReader(b.text))
		for {
			var v any
			err := dec.Decode(&v)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Errorf("%s: %v", b, err)
				break
			}
		}
	}
	if n == 0 {
		t.Fatal("no JSON blocks found")
	}
}

var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestLinks: every relative link of a page leads to a file of the repository and, with a
// #fragment, to a heading of that page.
func TestLinks(t *testing.T) {
	repo := root(t)
	for _, p := range pages(t) {
		data, err := os.ReadFile(filepath.Join(repo, p))
		if err != nil {
			t.Fatal(err)
		}
		text := withoutCode(string(data))
		for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, frag, _ := strings.Cut(target, "#")
			path := filepath.Join(repo, p) // a bare #fragment is on the page itself
			if file != "" {
				path = filepath.Join(repo, filepath.Dir(p), file)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: link %s: no such file", p, target)
				continue
			}
			if frag == "" {
				continue
			}
			page, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !headingAnchors(string(page))[frag] {
				t.Errorf("%s: link %s: no heading with that anchor", p, target)
			}
		}
	}
}

// withoutCode drops fenced blocks, where a "](" is code, not a link.
func withoutCode(text string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.SplitAfter(text, "\n") {
		if fenceRE.MatchString(strings.TrimRight(l, "\n")) || (in && strings.TrimSpace(l) == "```") {
			in = !in
			continue
		}
		if !in {
			b.WriteString(l)
		}
	}
	return b.String()
}

// headingAnchors returns the anchors GitHub gives a page's headings: lower case, punctuation
// dropped, spaces as hyphens.
func headingAnchors(page string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(withoutCode(page), "\n") {
		if !strings.HasPrefix(l, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(l, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(h) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127:
				b.WriteRune(r)
			}
		}
		out[b.String()] = true
	}
	return out
}

// TestNotice: the root NOTICE, which travels with every copy of the project, carries the
// notice of the embedded tokenizer vocabulary word for word, and LICENSE is the Apache License.
func TestNotice(t *testing.T) {
	repo := root(t)
	notice, err := os.ReadFile(filepath.Join(repo, "NOTICE"))
	if err != nil {
		t.Fatal(err)
	}
	vocab, err := os.ReadFile(filepath.Join(repo, "mockserver", "tokenizer", "NOTICE"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(notice, vocab) {
		t.Error("NOTICE does not contain mockserver/tokenizer/NOTICE word for word; copy it there")
	}
	license, err := os.ReadFile(filepath.Join(repo, "LICENSE"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Apache License\n                           Version 2.0, January 2004", "END OF TERMS AND CONDITIONS"} {
		if !bytes.Contains(license, []byte(want)) {
			t.Errorf("LICENSE lacks %q", want)
		}
	}
}

// TestREADME: the README stays short, links every page of docs/, and states the Go version
// that go.mod requires.
func TestREADME(t *testing.T) {
	repo := root(t)
	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(readme, []byte("\n")); n > 300 {
		t.Errorf("README.md has %d lines; keep it to 300 and move depth to a page of docs/", n)
	}
	for _, p := range pages(t)[1:] {
		if !bytes.Contains(readme, []byte("]("+filepath.ToSlash(p)+")")) {
			t.Errorf("README.md does not link %s", p)
		}
	}
	gomod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	for _, want := range []string{"Go " + string(m[1]) + " or newer", "`go " + string(m[1]) + "`"} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("README.md does not say %q, the version go.mod requires", want)
		}
	}
}
