package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/qwenmock/qwenmock/mockserver"
)

// settings is the command's configuration after flags and environment.
type settings struct {
	addr          string
	seed          uint64
	apiKeys       []string
	contextWindow int
	maxInput      int
	maxOutput     int
	maxBodyBytes  int64
	version       bool
}

// options turns the settings into mockserver options.
func (s settings) options() []mockserver.Option {
	opts := []mockserver.Option{
		mockserver.WithSeed(s.seed),
		mockserver.WithContextWindow(s.contextWindow),
		mockserver.WithMaxInputTokens(s.maxInput),
		mockserver.WithMaxOutputTokens(s.maxOutput),
		mockserver.WithMaxBodyBytes(s.maxBodyBytes),
	}
	if len(s.apiKeys) > 0 {
		opts = append(opts, mockserver.WithAPIKeys(s.apiKeys...))
	}
	return opts
}

// envName is the environment variable of a flag: QWENMOCK_ and the name in upper case with
// underscores. --api-key is the exception: QWENMOCK_API_KEYS, a comma-separated list.
func envName(flagName string) string {
	if flagName == "api-key" {
		return "QWENMOCK_API_KEYS"
	}
	return "QWENMOCK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// errHelp is returned by load when -h or --help was asked for; usage is already printed.
var errHelp = flag.ErrHelp

// load parses the command line and the environment, a pure function of its arguments:
// a flag wins over its environment variable, which wins over the default.
func load(args []string, getenv func(string) string, usageOut io.Writer) (settings, error) {
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

	// Environment first, so that flags parsed afterwards override it.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		v := getenv(envName(f.Name))
		if v == "" || envErr != nil {
			return
		}
		if f.Name == "api-key" {
			keys.setFromEnv(v)
			return
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
	if s.maxBodyBytes <= 0 {
		return s, errors.New("--max-body-bytes must be positive")
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

func (k *keyList) setFromEnv(v string) {
	k.keys = nil
	for _, key := range strings.Split(v, ",") {
		if key = strings.TrimSpace(key); key != "" {
			k.keys = append(k.keys, key)
		}
	}
	k.fromEnv = true
}

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"
