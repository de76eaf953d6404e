package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/qwenmock/qwenmock/mockserver"
)

// settings is the command's configuration after flags and environment.
type settings struct {
	addr            string
	seed            uint64
	apiKeys         []string
	contextWindow   int
	maxInput        int
	maxOutput       int
	maxBodyBytes    int64
	fixtures        string
	fallback        string
	responsesID     string
	rpm, tpm        optionalInt
	tpmEstimate     string
	implicitCache   bool
	perSecond       bool
	burst           bool
	rateHeaders     bool
	redisURL        string
	redisFailOpen   bool
	firstToken      time.Duration
	perToken        time.Duration
	jitter          float64
	faultRate       float64
	faultKinds      string
	adminToken      string
	logFormat       string
	shutdownTimeout time.Duration
	idleTimeout     time.Duration
	readTimeout     time.Duration
	maxConnections  int
	insecureControl bool
	configPath      string
	fileOpts        []mockserver.Option // what only the config file can say
	startFaults     []mockserver.Fault  // faults queued at start (config file)
	version         bool
	anthropicErrors string
}

// optionalInt is an integer flag that remembers whether it was given, so that 0 (unlimited)
// differs from "each model's own".
type optionalInt struct {
	set bool
	v   int
}

func (o *optionalInt) String() string {
	if !o.set {
		return ""
	}
	return strconv.Itoa(o.v)
}

func (o *optionalInt) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("parse error")
	}
	if v < 0 {
		return errors.New("must not be negative (0 means unlimited)")
	}
	o.set, o.v = true, v
	return nil
}

// options turns the settings into mockserver options.
func (s settings) options() []mockserver.Option {
	opts := append([]mockserver.Option{}, s.fileOpts...)
	opts = append(opts, []mockserver.Option{
		mockserver.WithSeed(s.seed),
		mockserver.WithContextWindow(s.contextWindow),
		mockserver.WithMaxInputTokens(s.maxInput),
		mockserver.WithMaxOutputTokens(s.maxOutput),
		mockserver.WithMaxBodyBytes(s.maxBodyBytes),
	}...)
	if len(s.apiKeys) > 0 {
		opts = append(opts, mockserver.WithAPIKeys(s.apiKeys...))
	}
	if s.fixtures != "" {
		opts = append(opts, mockserver.WithFixtureFiles(s.fixtures))
	}
	if s.rpm.set || s.tpm.set {
		// One of the two alone keeps the other at each model's own value.
		opts = append(opts, mockserver.WithRateLimitOverride(optional(s.rpm), optional(s.tpm)))
	}
	opts = append(opts, mockserver.WithTPMEstimate(s.tpmEstimate), mockserver.WithImplicitCache(s.implicitCache))
	if s.perSecond {
		opts = append(opts, mockserver.WithPerSecondLimits())
	}
	if s.burst {
		opts = append(opts, mockserver.WithBurstLimits())
	}
	if s.rateHeaders {
		opts = append(opts, mockserver.WithRateLimitHeaders())
	}
	if s.redisURL != "" {
		opts = append(opts, mockserver.WithRedis(s.redisURL))
		if s.redisFailOpen {
			opts = append(opts, mockserver.WithRedisFailOpen())
		}
	}
	if s.firstToken > 0 || s.perToken > 0 {
		opts = append(opts, mockserver.WithLatency(s.firstToken, s.perToken, s.jitter))
	}
	if s.faultRate > 0 {
		opts = append(opts, mockserver.WithFaultRate(s.faultRate))
	}
	if s.faultKinds != "" {
		opts = append(opts, mockserver.WithFaultKinds(strings.Split(s.faultKinds, ",")...))
	}
	if s.adminToken != "" {
		opts = append(opts, mockserver.WithAdminToken(s.adminToken))
	}
	opts = append(opts, mockserver.WithResponsesID(s.responsesID))
	if s.insecureControl {
		opts = append(opts, mockserver.WithInsecureControlAPI())
	}
	opts = append(opts, mockserver.WithAnthropicErrors(s.anthropicErrors))
	return append(opts, mockserver.WithFallback(s.fallback))
}

// envName is the environment variable of a flag: QWENMOCK_ and the name in upper case with
// underscores. --api-key is the exception: QWENMOCK_API_KEYS, a comma-separated list.
func envName(flagName string) string {
	if flagName == "api-key" {
		return "QWENMOCK_API_KEYS"
	}
	return "QWENMOCK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// load parses the command line, the environment and the config file, a pure function of its
// arguments: a flag wins over its environment variable, which wins over the file, which wins
// over the default.
func load(args []string, getenv func(string) string, readFile func(string) ([]byte, error), usageOut io.Writer) (settings, error) {
	s := settings{}
	fs := flag.NewFlagSet("qwenmock", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	fs.StringVar(&s.addr, "addr", "127.0.0.1:8080", "listen address (host:port; port 0 picks a free one)")
	fs.Uint64Var(&s.seed, "seed", 1, "seed of generated replies: the same request gives the same reply")
	keys := &keyList{}
	fs.Var(keys, "api-key", "accepted API key (repeatable); without it any non-empty key passes")
	fs.IntVar(&s.contextWindow, "context-window", 0, "override every model's context window in tokens (0: each model's own)")
	fs.IntVar(&s.maxInput, "max-input-tokens", 0, "override every model's max input tokens (0: each model's own)")
	fs.IntVar(&s.maxOutput, "max-output-tokens", 0, "override every model's max output tokens (0: each model's own)")
	fs.Int64Var(&s.maxBodyBytes, "max-body-bytes", mockserver.DefaultMaxBodyBytes, "largest request body; larger ones get 413")
	fs.StringVar(&s.fixtures, "fixtures", "", "fixture file or directory (YAML or JSON), tried before the built-in fixtures")
	fs.StringVar(&s.fallback, "fallback", mockserver.FallbackGenerate, "answer when no fixture matches: generate, echo or strict")
	fs.StringVar(&s.responsesID, "responses-id", mockserver.ResponsesIDPrefixed, "form of Responses API ids: resp (resp_<uuid>) or uuid (a bare UUID)")
	fs.Var(&s.rpm, "rpm", "requests per minute of every model (0: unlimited; default: each model's own)")
	fs.Var(&s.tpm, "tpm", "tokens per minute of every model (0: unlimited; default: each model's own)")
	fs.StringVar(&s.tpmEstimate, "tpm-estimate", mockserver.TPMEstimateDeclared, "what a request reserves against TPM before its reply: declared (prompt + its max_tokens, 0 if none) or max-output (prompt + the most output it may produce)")
	fs.BoolVar(&s.implicitCache, "implicit-cache", true, "simulate the implicit context cache (cached_tokens for repeated prompt prefixes of 256+ tokens)")
	fs.BoolVar(&s.perSecond, "per-second-limits", false, "also enforce RPM/60 and TPM/60 in every second, as the real service does")
	fs.BoolVar(&s.burst, "burst-limits", false, "refuse sudden growth with Throttling.BurstRate 429s")
	fs.BoolVar(&s.rateHeaders, "rate-limit-headers", false, "add Retry-After and x-ratelimit-* headers (the real service sends none)")
	fs.StringVar(&s.redisURL, "redis-url", "", "share rate limits and their clock with every qwenmock using this Redis (redis://host:port/db)")
	fs.BoolVar(&s.redisFailOpen, "redis-fail-open", false, "while Redis is unreachable, let requests through unchecked instead of answering 503")
	fs.DurationVar(&s.firstToken, "first-token-latency", 0, "simulated time to the first token (Go duration, e.g. 300ms)")
	fs.DurationVar(&s.perToken, "token-latency", 0, "simulated time between tokens (Go duration, e.g. 20ms)")
	fs.Float64Var(&s.jitter, "latency-jitter", 0, "vary each simulated wait by up to ± this fraction (0 to 1), seeded")
	fs.Float64Var(&s.faultRate, "fault-rate", 0, "fraction of requests (0 to 1) that get a random injected fault, seeded")
	fs.StringVar(&s.faultKinds, "fault-kinds", "", "comma-separated faults that --fault-rate draws from (default: internal,overloaded,timeout,rate_limit_requests)")
	fs.StringVar(&s.adminToken, "admin-token", "", "when set, /_mock/* needs Authorization: Bearer <token>; generated and printed when listening beyond loopback without one")
	fs.StringVar(&s.logFormat, "log-format", "text", "request log format: text or json")
	fs.DurationVar(&s.shutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGINT/SIGTERM, how long in-flight requests and streams may finish")
	fs.DurationVar(&s.idleTimeout, "idle-timeout", defaultIdleTimeout, "close a keep-alive connection idle for this long")
	fs.DurationVar(&s.readTimeout, "read-timeout", defaultReadTimeout, "longest time to read a request's headers, and again its body; slower clients are cut off")
	fs.IntVar(&s.maxConnections, "max-connections", defaultMaxConnections, "most connections open at once; more get 503 and are closed")
	fs.BoolVar(&s.insecureControl, "insecure-control-api", false, "serve /_mock/* to any host and web page without a token (no token is generated)")
	fs.StringVar(&s.configPath, "config", "", "YAML config file: every flag by its name with underscores, plus models, accounts, inline_fixtures and faults")
	fs.StringVar(&s.anthropicErrors, "anthropic-errors", mockserver.AnthropicErrorsDashScope, "error bodies on /apps/anthropic: dashscope (DashScope's own, as the real path) or anthropic (Anthropic's envelope and statuses)")
	fs.BoolVar(&s.version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(usageOut, "Usage: qwenmock [flags]\n\nAn offline stand-in for the Qwen3-Max API (DashScope).\n\nFlags (each also read from the environment variable shown):\n")
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" && f.DefValue != "[]" {
				def = " (default " + f.DefValue + ")"
			}
			fmt.Fprintf(usageOut, "  --%s  [%s]\n      %s%s\n", f.Name, envName(f.Name), f.Usage, def)
		})
	}

	// The config file first, then the environment, then the flags, each overriding the last.
	if path := configPathOf(args, getenv); path != "" {
		data, err := readFile(path)
		if err != nil {
			return s, fmt.Errorf("config: %w", err)
		}
		fc, err := parseFileConfig(path, data)
		if err != nil {
			return s, err
		}
		for name, v := range fc.flagValues() {
			if err := fs.Lookup(name).Value.Set(v); err != nil {
				key, ok := fileKeys[name]
				if !ok {
					key = strings.ReplaceAll(name, "-", "_")
				}
				return s, fmt.Errorf("%s: %s: %q: %v", path, key, v, err)
			}
		}
		if len(fc.APIKeys) > 0 {
			keys.setList(fc.APIKeys)
		}
		if s.fileOpts, err = fc.fileOptions(filepath.Dir(path)); err != nil {
			return s, fmt.Errorf("%s: %v", path, err)
		}
		for _, f := range fc.Faults {
			if !mockserver.IsFaultKind(f.Kind) {
				return s, fmt.Errorf("%s: faults: unknown fault %q", path, f.Kind)
			}
		}
		s.startFaults = fc.Faults
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		v := getenv(envName(f.Name))
		if v == "" || envErr != nil {
			return
		}
		if f.Name == "api-key" {
			keys.setList(strings.Split(v, ","))
			return
		}
		if f.Name == "config" {
			return // read above
		}
		if err := f.Value.Set(v); err != nil {
			envErr = fmt.Errorf("%s=%q: %v", envName(f.Name), v, err)
		}
	})
	if envErr != nil {
		return s, envErr
	}
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	s.apiKeys = keys.keys
	for name, v := range map[string]int{"context-window": s.contextWindow, "max-input-tokens": s.maxInput, "max-output-tokens": s.maxOutput} {
		if v < 0 {
			return s, fmt.Errorf("--%s must not be negative", name)
		}
	}
	if s.firstToken < 0 || s.perToken < 0 {
		return s, errors.New("--first-token-latency and --token-latency must not be negative")
	}
	if !(s.jitter >= 0 && s.jitter <= 1) {
		return s, errors.New("--latency-jitter must be in [0, 1]")
	}
	if !(s.faultRate >= 0 && s.faultRate <= 1) {
		return s, errors.New("--fault-rate must be in [0, 1]")
	}
	if s.faultKinds != "" {
		for _, k := range strings.Split(s.faultKinds, ",") {
			if !mockserver.IsFaultKind(k) {
				return s, fmt.Errorf("--fault-kinds: unknown fault %q", k)
			}
		}
	}
	if s.logFormat != "text" && s.logFormat != "json" {
		return s, fmt.Errorf("--log-format must be text or json, not %q", s.logFormat)
	}
	if s.shutdownTimeout < 0 {
		return s, errors.New("--shutdown-timeout must not be negative")
	}
	if s.idleTimeout <= 0 || s.readTimeout <= 0 {
		return s, errors.New("--idle-timeout and --read-timeout must be positive")
	}
	if s.maxConnections < 1 {
		return s, errors.New("--max-connections must be at least 1")
	}
	switch s.fallback {
	case mockserver.FallbackGenerate, mockserver.FallbackEcho, mockserver.FallbackStrict:
	default:
		return s, fmt.Errorf("--fallback must be generate, echo or strict, not %q", s.fallback)
	}
	if s.responsesID != mockserver.ResponsesIDPrefixed && s.responsesID != mockserver.ResponsesIDUUID {
		return s, fmt.Errorf("--responses-id must be resp or uuid, not %q", s.responsesID)
	}
	if s.tpmEstimate != mockserver.TPMEstimateDeclared && s.tpmEstimate != mockserver.TPMEstimateMaxOutput {
		return s, fmt.Errorf("--tpm-estimate must be declared or max-output, not %q", s.tpmEstimate)
	}
	if s.anthropicErrors != mockserver.AnthropicErrorsDashScope && s.anthropicErrors != mockserver.AnthropicErrorsAnthropic {
		return s, fmt.Errorf("--anthropic-errors must be dashscope or anthropic, not %q", s.anthropicErrors)
	}
	if s.maxBodyBytes <= 0 {
		return s, errors.New("--max-body-bytes must be positive")
	}
	if s.redisFailOpen && s.redisURL == "" {
		return s, errors.New("--redis-fail-open needs --redis-url")
	}
	return s, nil
}

// keyList is the repeatable --api-key flag. Keys from the environment are replaced, not
// extended, by keys given as flags.
type keyList struct {
	keys    []string
	fromEnv bool
}

func (k *keyList) String() string { return strings.Join(k.keys, ",") }

func (k *keyList) Set(v string) error {
	if k.fromEnv {
		k.keys, k.fromEnv = nil, false
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return errors.New("empty key")
	}
	k.keys = append(k.keys, v)
	return nil
}

// setList sets keys from the config file or the environment; keys given as flags replace
// them.
func (k *keyList) setList(list []string) {
	k.keys = nil
	for _, key := range list {
		if key = strings.TrimSpace(key); key != "" {
			k.keys = append(k.keys, key)
		}
	}
	k.fromEnv = true
}

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func optional(o optionalInt) *int {
	if !o.set {
		return nil
	}
	return &o.v
}

// configPathOf finds --config among the arguments, else QWENMOCK_CONFIG.
func configPathOf(args []string, getenv func(string) string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		for _, name := range []string{"--config", "-config"} {
			if a == name && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, name+"="); ok {
				return v
			}
		}
	}
	return getenv("QWENMOCK_CONFIG")
}
