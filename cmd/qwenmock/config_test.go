package main

import (
	"errors"
	"flag"
	"io"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qwenmock/qwenmock/mockserver"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestLoadPrecedence checks flag > environment > default for every setting.
func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	defaults := settings{addr: "127.0.0.1:8080", seed: 1, maxBodyBytes: mockserver.DefaultMaxBodyBytes, fallback: "generate", responsesID: "resp",
		logFormat: "text", shutdownTimeout: 10 * time.Second, tpmEstimate: "declared", implicitCache: true,
		idleTimeout: defaultIdleTimeout, readTimeout: defaultReadTimeout, maxConnections: defaultMaxConnections,
		anthropicErrors: mockserver.AnthropicErrorsDashScope}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want func(s *settings)
	}{
		{"defaults", nil, nil, func(s *settings) {}},
		{"env", nil, map[string]string{
			"QWENMOCK_ADDR": "0.0.0.0:9000", "QWENMOCK_SEED": "7", "QWENMOCK_API_KEYS": "sk-a, sk-b",
			"QWENMOCK_CONTEXT_WINDOW": "131072", "QWENMOCK_MAX_INPUT_TOKENS": "100",
			"QWENMOCK_MAX_OUTPUT_TOKENS": "50", "QWENMOCK_MAX_BODY_BYTES": "1000",
			"QWENMOCK_FIXTURES": "/f.yaml", "QWENMOCK_FALLBACK": "echo",
			"QWENMOCK_FIRST_TOKEN_LATENCY": "300ms", "QWENMOCK_TOKEN_LATENCY": "20ms", "QWENMOCK_LATENCY_JITTER": "0.1",
			"QWENMOCK_FAULT_RATE": "0.05", "QWENMOCK_ADMIN_TOKEN": "adm", "QWENMOCK_RPM": "0", "QWENMOCK_TPM": "5000",
			"QWENMOCK_PER_SECOND_LIMITS": "true", "QWENMOCK_RATE_LIMIT_HEADERS": "1", "QWENMOCK_BURST_LIMITS": "true",
			"QWENMOCK_TPM_ESTIMATE": "max-output", "QWENMOCK_IMPLICIT_CACHE": "false", "QWENMOCK_FAULT_KINDS": "empty_reply,hang",
			"QWENMOCK_ANTHROPIC_ERRORS": "anthropic",
			"QWENMOCK_RESPONSES_ID":     "uuid",
		}, func(s *settings) {
			s.anthropicErrors = mockserver.AnthropicErrorsAnthropic
			s.faultKinds = "empty_reply,hang"
			s.responsesID = "uuid"
			s.tpmEstimate, s.implicitCache = "max-output", false
			s.firstToken, s.perToken, s.jitter = 300*time.Millisecond, 20*time.Millisecond, 0.1
			s.faultRate, s.adminToken = 0.05, "adm"
			s.rpm, s.tpm = optionalInt{true, 0}, optionalInt{true, 5000}
			s.perSecond, s.rateHeaders, s.burst = true, true, true
			s.addr, s.seed, s.apiKeys = "0.0.0.0:9000", 7, []string{"sk-a", "sk-b"}
			s.fixtures, s.fallback = "/f.yaml", "echo"
			s.contextWindow, s.maxInput, s.maxOutput, s.maxBodyBytes = 131072, 100, 50, 1000
		}},
		{"flags", []string{"--addr", "127.0.0.1:0", "--seed=9", "--api-key", "sk-x", "--api-key", "sk-y",
			"--context-window", "1000", "--max-input-tokens", "900", "--max-output-tokens", "10", "--max-body-bytes", "2048", "--fixtures", "dir", "--fallback", "strict",
			"--tpm-estimate", "max-output", "--implicit-cache=false"}, nil,
			func(s *settings) {
				s.tpmEstimate, s.implicitCache = "max-output", false
				s.fixtures, s.fallback = "dir", "strict"
				s.addr, s.seed, s.apiKeys = "127.0.0.1:0", 9, []string{"sk-x", "sk-y"}
				s.contextWindow, s.maxInput, s.maxOutput, s.maxBodyBytes = 1000, 900, 10, 2048
			}},
		{"flag beats env", []string{"--seed", "3", "--api-key", "sk-flag"},
			map[string]string{"QWENMOCK_SEED": "7", "QWENMOCK_API_KEYS": "sk-env", "QWENMOCK_ADDR": "127.0.0.1:1"},
			func(s *settings) { s.seed, s.apiKeys, s.addr = 3, []string{"sk-flag"}, "127.0.0.1:1" }},
		{"version", []string{"--version"}, nil, func(s *settings) { s.version = true }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := load(tc.args, envOf(tc.env), noFiles, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			want := defaults
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad env number", nil, map[string]string{"QWENMOCK_SEED": "x"}, `QWENMOCK_SEED="x": parse error`},
		{"bad flag number", []string{"--max-input-tokens", "lots"}, nil, `invalid value "lots" for flag -max-input-tokens: parse error`},
		{"negative", []string{"--max-output-tokens", "-1"}, nil, "--max-output-tokens must not be negative"},
		{"zero body", []string{"--max-body-bytes", "0"}, nil, "--max-body-bytes must be positive"},
		{"unknown flag", []string{"--nope"}, nil, "flag provided but not defined: -nope"},
		{"argument", []string{"serve"}, nil, `unexpected argument "serve"`},
		{"empty key", []string{"--api-key", ""}, nil, `invalid value "" for flag -api-key: empty key`},
		{"bad fallback", []string{"--fallback", "guess"}, nil, `--fallback must be generate, echo or strict, not "guess"`},
		{"bad responses id", []string{"--responses-id", "ulid"}, nil, `--responses-id must be resp or uuid, not "ulid"`},
		{"bad log format", []string{"--log-format", "xml"}, nil, `--log-format must be text or json, not "xml"`},
		{"bad anthropic errors", []string{"--anthropic-errors", "openai"}, nil, `--anthropic-errors must be dashscope or anthropic, not "openai"`},
		{"missing config", []string{"--config", "/nope.yaml"}, nil, `config: open /nope.yaml: file does not exist`},
		{"negative rpm", []string{"--rpm", "-1"}, nil, `invalid value "-1" for flag -rpm: must not be negative (0 means unlimited)`},
		{"bad jitter", []string{"--latency-jitter", "2"}, nil, `--latency-jitter must be in [0, 1]`},
		{"bad fault kind", []string{"--fault-kinds", "internal,gremlins"}, nil, `--fault-kinds: unknown fault "gremlins"`},
		{"bad tpm estimate", []string{"--tpm-estimate", "guess"}, nil, `--tpm-estimate must be declared or max-output, not "guess"`},
		{"bad fault rate", []string{"--fault-rate", "1.5"}, nil, `--fault-rate must be in [0, 1]`},
		{"bad latency", []string{"--token-latency", "fast"}, nil, `invalid value "fast" for flag -token-latency: parse error`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(tc.args, envOf(tc.env), noFiles, io.Discard)
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := load([]string{"-h"}, envOf(nil), noFiles, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func noFiles(name string) ([]byte, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func filesOf(files map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if data, ok := files[name]; ok {
			return []byte(data), nil
		}
		return noFiles(name)
	}
}

const testConfig = `
addr: 0.0.0.0:9999
seed: 5
api_keys: [sk-file]
rpm: 100
tpm: 100000
fallback: echo
responses_id: uuid
latency: {first_token: 1s, per_token: 5ms, jitter: 0.5}
fault_rate: 0.25
log_format: json
shutdown_timeout: 3s
anthropic_errors: anthropic
accounts:
  team: [sk-a, sk-b]
models:
  - id: qwen3-max
    context_window: 131072
    rpm: 500
  - id: my-model
    context_window: 8192
    max_input_tokens: 6144
    max_output_tokens: 2048
    rpm: 10
    tpm: 10000
inline_fixtures:
  - name: hello
    match: {contains: hello}
    reply: {content: "Hi from the config file."}
faults:
  - {fault: internal, count: 2}
`

// TestLoadConfigFilePrecedence: flag > env > file > default, field by field.
func TestLoadConfigFilePrecedence(t *testing.T) {
	t.Parallel()
	files := filesOf(map[string]string{"/etc/qwenmock.yaml": testConfig})
	s, err := load([]string{"--config", "/etc/qwenmock.yaml"}, envOf(nil), files, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// The file's rpm and tpm go into the catalogue (below each model's own), not into --rpm/--tpm.
	if s.addr != "0.0.0.0:9999" || s.seed != 5 || !reflect.DeepEqual(s.apiKeys, []string{"sk-file"}) || s.rpm.set ||
		s.tpm.set || s.fallback != "echo" || s.responsesID != "uuid" || s.firstToken != time.Second || s.perToken != 5*time.Millisecond ||
		s.jitter != 0.5 || s.faultRate != 0.25 || s.logFormat != "json" || s.shutdownTimeout != 3*time.Second || s.anthropicErrors != "anthropic" ||
		len(s.fileOpts) != 3 || len(s.startFaults) != 1 {
		t.Fatalf("from the file: %+v", s)
	}
	// The environment beats the file; flags beat both. The path may come from the env too.
	env := envOf(map[string]string{"QWENMOCK_CONFIG": "/etc/qwenmock.yaml", "QWENMOCK_SEED": "6", "QWENMOCK_API_KEYS": "sk-env", "QWENMOCK_RPM": "7"})
	s, err = load([]string{"--rpm", "8", "--api-key", "sk-flag"}, env, files, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if s.seed != 6 || s.rpm != (optionalInt{true, 8}) || !reflect.DeepEqual(s.apiKeys, []string{"sk-flag"}) || s.addr != "0.0.0.0:9999" {
		t.Fatalf("precedence: %+v", s)
	}
	s, err = load(nil, env, files, io.Discard)
	if err != nil || !reflect.DeepEqual(s.apiKeys, []string{"sk-env"}) || s.rpm != (optionalInt{true, 7}) {
		t.Fatalf("env over file: %+v %v", s, err)
	}
}

func TestLoadConfigFileErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ file, want string }{
		{"seed: 1\nrpn: 5\n", `c.yaml: [2:1] unknown field "rpn"`},
		{"seed: many\n", "c.yaml: [1:7] cannot unmarshal string into Go struct field"},
		{"latency: {first_token: soon}\n", `c.yaml: latency.first_token: "soon": parse error`},
		{"faults: [{fault: gremlins}]\n", `c.yaml: faults: unknown fault "gremlins"`},
		{"models: [{context_window: 5}]\n", "c.yaml: config: a model without an id"},
	}
	for _, tc := range cases {
		_, err := load([]string{"--config=c.yaml"}, envOf(nil), filesOf(map[string]string{"c.yaml": tc.file}), io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: %v\nwant prefix %s", tc.file, err, tc.want)
		}
	}
}
