package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// yamlExample is a YAML block of the documentation. Its first line is a comment naming the
// file it shows ("# mock/qwenmock.yaml"), so that examples can refer to each other by path.
type yamlExample struct {
	page, path, text string
	line             int
}

var (
	docFenceRE  = regexp.MustCompile("^( *)```(\\S*)\\s*$")
	yamlLabelRE = regexp.MustCompile(`^# (\S+\.ya?ml)\n`)
)

// docYAMLExamples returns the YAML blocks of README.md and docs/*.md, and the text of each
// page.
func docYAMLExamples(t *testing.T) ([]yamlExample, map[string]string) {
	t.Helper()
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	pages, err := filepath.Glob(filepath.Join(repo, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append([]string{filepath.Join(repo, "README.md")}, pages...)
	var out []yamlExample
	texts := map[string]string{}
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(repo, p)
		texts[rel] = string(data)
		lines := strings.SplitAfter(string(data), "\n")
		for i := 0; i < len(lines); i++ {
			m := docFenceRE.FindStringSubmatch(strings.TrimRight(lines[i], "\n"))
			if m == nil {
				continue
			}
			start := i + 1
			var body strings.Builder
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
				body.WriteString(strings.TrimPrefix(lines[i], m[1]))
			}
			if m[2] != "yaml" {
				continue
			}
			label := yamlLabelRE.FindStringSubmatch(body.String())
			if label == nil {
				t.Errorf("%s:%d: a YAML example must start with a comment naming its file, such as # mock/qwenmock.yaml", rel, start)
				continue
			}
			out = append(out, yamlExample{page: rel, line: start, path: label[1], text: body.String()})
		}
	}
	if len(out) == 0 {
		t.Fatal("no YAML examples found")
	}
	return out, texts
}

// TestDocYAMLExamples writes every YAML example of the documentation to a folder, at the path
// its first line names, and has the command start with each as it would from that folder:
// config files with --config, fixture files with --fixtures, both must start (and stop at once);
// a bad*.yaml fixture file must fail with the message the documentation shows. Compose files
// and workflows must be valid YAML.
func TestDocYAMLExamples(t *testing.T) {
	examples, pageText := docYAMLExamples(t)
	dir := t.TempDir()
	written := map[string]yamlExample{}
	shownIn := map[string][]string{} // path → pages
	for _, ex := range examples {
		shownIn[ex.path] = append(shownIn[ex.path], ex.page)
		if prev, ok := written[ex.path]; ok {
			if prev.text != ex.text {
				t.Errorf("%s:%d and %s:%d both show %s, differently", prev.page, prev.line, ex.page, ex.line, ex.path)
			}
			continue
		}
		written[ex.path] = ex
		p := filepath.Join(dir, filepath.FromSlash(ex.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(ex.text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir) // paths in messages are then the ones the documentation shows

	for _, ex := range written {
		where := fmt.Sprintf("%s:%d (%s)", ex.page, ex.line, ex.path)
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(ex.text), &doc); err != nil {
			t.Errorf("%s: not valid YAML: %v", where, err)
			continue
		}
		_, fixtureList := doc["fixtures"].([]any)
		base := filepath.Base(ex.path)
		switch {
		case strings.HasPrefix(ex.path, ".github/") || strings.HasPrefix(base, "docker-compose") || strings.HasPrefix(base, "compose"):
			// Not qwenmock's to load: valid YAML is all that can be checked.
		case strings.HasPrefix(base, "bad"):
			code, stderr := startOnce(t, "--fixtures", ex.path)
			if code != 2 {
				t.Errorf("%s: qwenmock --fixtures %s exited %d, want 2; stderr:\n%s", where, ex.path, code, stderr)
				continue
			}
			msg := strings.TrimSpace(stderr)
			for _, page := range shownIn[ex.path] {
				if !strings.Contains(pageText[page], "\n"+msg+"\n") {
					t.Errorf("%s shows %s but not the message qwenmock prints for it:\n%s", page, ex.path, msg)
				}
			}
		case fixtureList:
			if code, stderr := startOnce(t, "--fixtures", ex.path); code != 0 {
				t.Errorf("%s: qwenmock --fixtures %s exited %d:\n%s", where, ex.path, code, stderr)
			}
		default:
			if code, stderr := startOnce(t, "--config", ex.path); code != 0 {
				t.Errorf("%s: qwenmock --config %s exited %d:\n%s", where, ex.path, code, stderr)
			}
		}
	}
}

// startOnce runs the command with args on a free loopback port and stops it as soon as it
// listens, returning its exit code and standard error.
func startOnce(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // shut down right after start-up
	var stdout, stderr bytes.Buffer
	args = append(args, "--addr", "127.0.0.1:0")
	code := run(ctx, args, func(string) string { return "" }, &stdout, &stderr)
	return code, stderr.String()
}
