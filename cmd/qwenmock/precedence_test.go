package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/qwenmock/qwenmock/mockserver"
)

// limitSource is one row of the precedence table of rate limits, lowest first:
// catalogue < global file < per-model file < env < flag < run time (every model, then one
// model).
type limitSource struct {
	name  string
	model bool // sets qwen3-max only
	set   func(c *precedenceCase, v int)
}

type precedenceCase struct {
	file  []string
	env   map[string]string
	args  []string
	patch []string
}

var limitSources = []limitSource{
	{"global file", false, func(c *precedenceCase, v int) {
		c.file = append(c.file, fmt.Sprintf("rpm: %d\ntpm: %d", v, v*1000))
	}},
	{"per-model file", true, func(c *precedenceCase, v int) {
		c.file = append(c.file, fmt.Sprintf("models:\n  - {id: qwen3-max, rpm: %d, tpm: %d}", v, v*1000))
	}},
	{"env", false, func(c *precedenceCase, v int) {
		c.env["QWENMOCK_RPM"], c.env["QWENMOCK_TPM"] = fmt.Sprint(v), fmt.Sprint(v*1000)
	}},
	{"flag", false, func(c *precedenceCase, v int) {
		c.args = append(c.args, "--rpm", fmt.Sprint(v), "--tpm", fmt.Sprint(v*1000))
	}},
	{"run time, every model", false, func(c *precedenceCase, v int) {
		c.patch = append(c.patch, fmt.Sprintf(`{"rate_limits":{"rpm":%d,"tpm":%d}}`, v, v*1000))
	}},
	{"run time, one model", true, func(c *precedenceCase, v int) {
		c.patch = append(c.patch, fmt.Sprintf(`{"rate_limits":{"models":{"qwen3-max":{"rpm":%d,"tpm":%d}}}}`, v, v*1000))
	}},
}

// startConfigured loads a configuration as the command does, serves it on a real HTTP
// server and applies the run-time patches.
func startConfigured(t *testing.T, c precedenceCase) *httptest.Server {
	t.Helper()
	files := map[string]string{}
	args := c.args
	if len(c.file) > 0 {
		files["/q.yaml"] = strings.Join(c.file, "\n") + "\n"
		args = append([]string{"--config", "/q.yaml"}, args...)
	}
	s, err := load(args, envOf(c.env), filesOf(files), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mockserver.New(s.options()...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	for _, p := range c.patch {
		req, _ := http.NewRequest(http.MethodPatch, ts.URL+"/_mock/config", strings.NewReader(p))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("PATCH %s: %d %s", p, resp.StatusCode, out)
		}
	}
	return ts
}

// effectiveLimits reads GET /_mock/limits: model → [rpm, tpm].
func effectiveLimits(t *testing.T, ts *httptest.Server) map[string][2]int {
	t.Helper()
	resp, err := http.Get(ts.URL + "/_mock/limits")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Models []mockserver.ModelLimits `json:"models"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	out := map[string][2]int{}
	for _, m := range body.Models {
		out[m.Model] = [2]int{m.RPM, m.TPM}
	}
	return out
}

// TestLimitPrecedenceTable sets every combination of the six sources above the catalogue,
// source i with the value 101+i: for qwen3-max the highest source given wins; qwen-max sees
// only the sources for every model. Every cell of the table (each source against each
// lower one, and each alone against the catalogue) is among the 64 combinations.
func TestLimitPrecedenceTable(t *testing.T) {
	t.Parallel()
	for mask := range 1 << len(limitSources) {
		c := precedenceCase{env: map[string]string{}}
		var names []string
		want3, wantQ := [2]int{600, 1000000}, [2]int{1200, 1000000} // the catalogue
		for i, src := range limitSources {
			if mask&(1<<i) == 0 {
				continue
			}
			v := 101 + i
			src.set(&c, v)
			names = append(names, src.name)
			want3 = [2]int{v, v * 1000}
			if !src.model {
				wantQ = [2]int{v, v * 1000}
			}
		}
		name := strings.Join(names, " + ")
		if name == "" {
			name = "catalogue"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := effectiveLimits(t, startConfigured(t, c))
			if got["qwen3-max"] != want3 || got["qwen-max"] != wantQ {
				t.Errorf("qwen3-max %v (want %v), qwen-max %v (want %v)", got["qwen3-max"], want3, got["qwen-max"], wantQ)
			}
		})
	}
}

// TestTPMEstimatePrecedence: default (declared) < file < env < flag < run time, each source
// against each lower one.
func TestTPMEstimatePrecedence(t *testing.T) {
	t.Parallel()
	sources := []func(c *precedenceCase, v string){
		func(c *precedenceCase, v string) { c.file = append(c.file, "tpm_estimate: "+v) },
		func(c *precedenceCase, v string) { c.env["QWENMOCK_TPM_ESTIMATE"] = v },
		func(c *precedenceCase, v string) { c.args = append(c.args, "--tpm-estimate", v) },
		func(c *precedenceCase, v string) {
			c.patch = append(c.patch, `{"rate_limits":{"tpm_estimate":"`+v+`"}}`)
		},
	}
	for j := range sources {
		for i := -1; i < j; i++ { // i = -1: the default
			c := precedenceCase{env: map[string]string{}}
			want := "max-output"
			if i >= 0 {
				sources[i](&c, "max-output")
				want = "declared"
			}
			sources[j](&c, want)
			t.Run(fmt.Sprintf("%d over %d", j, i), func(t *testing.T) {
				t.Parallel()
				ts := startConfigured(t, c)
				resp, err := http.Get(ts.URL + "/_mock/config")
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var cfg mockserver.RuntimeConfig
				if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil {
					t.Fatal(err)
				}
				if cfg.RateLimits.TPMEstimate != want {
					t.Errorf("tpm_estimate %q, want %q", cfg.RateLimits.TPMEstimate, want)
				}
			})
		}
	}
}

// TestConfigFileModelLimitWins runs the command with a config file that limits every model
// to 600 RPM and qwen3-max to 1: the second qwen3-max request in a minute gets the 429.
func TestConfigFileModelLimitWins(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/qwenmock.yaml"
	if err := os.WriteFile(path, []byte("rpm: 600\nmodels:\n  - {id: qwen3-max, rpm: 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	url, cancel, done := startRun(t, "--config", path)
	defer func() { cancel(); <-done }()
	post := func(model string) int {
		req, _ := http.NewRequest(http.MethodPost, url+"/compatible-mode/v1/chat/completions",
			strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`))
		req.Header.Set("Authorization", "Bearer sk-test")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if a, b := post("qwen3-max"), post("qwen3-max"); a != 200 || b != 429 {
		t.Fatalf("qwen3-max: %d then %d, want 200 then 429", a, b)
	}
	if a, b := post("qwen-max"), post("qwen-max"); a != 200 || b != 200 {
		t.Fatalf("qwen-max (600 RPM): %d, %d", a, b)
	}
}
