package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/qwenmock/qwenmock/fixtures"
	"github.com/qwenmock/qwenmock/mockserver"
)

// fileConfig is the YAML file of --config: every flag (by its name with underscores) plus
// what has no flag: models, accounts, inline fixtures and faults queued at start. Fields left
// out keep their defaults; flags and environment variables win over the file. The file's
// rpm and tpm change every model of the catalogue, and a model's own rpm or tpm in models
// wins over them (see fileOptions).
type fileConfig struct {
	Addr             *string              `yaml:"addr"`
	Seed             *uint64              `yaml:"seed"`
	APIKeys          []string             `yaml:"api_keys"`
	Accounts         map[string][]string  `yaml:"accounts"`
	ContextWindow    *int                 `yaml:"context_window"`
	MaxInputTokens   *int                 `yaml:"max_input_tokens"`
	MaxOutputTokens  *int                 `yaml:"max_output_tokens"`
	MaxBodyBytes     *int64               `yaml:"max_body_bytes"`
	RPM              *int                 `yaml:"rpm"`
	TPM              *int                 `yaml:"tpm"`
	PerSecondLimits  *bool                `yaml:"per_second_limits"`
	BurstLimits      *bool                `yaml:"burst_limits"`
	RateLimitHeaders *bool                `yaml:"rate_limit_headers"`
	TPMEstimate      *string              `yaml:"tpm_estimate"`
	ImplicitCache    *bool                `yaml:"implicit_cache"`
	RedisURL         *string              `yaml:"redis_url"`
	RedisFailOpen    *bool                `yaml:"redis_fail_open"`
	Models           []modelOverride      `yaml:"models"`
	Fixtures         *string              `yaml:"fixtures"` // a file or directory, relative to the config file
	InlineFixtures   []mockserver.Fixture `yaml:"inline_fixtures"`
	Fallback         *string              `yaml:"fallback"`
	ResponsesID      *string              `yaml:"responses_id"`
	Latency          *struct {
		FirstToken *string  `yaml:"first_token"`
		PerToken   *string  `yaml:"per_token"`
		Jitter     *float64 `yaml:"jitter"`
	} `yaml:"latency"`
	FaultRate       *float64           `yaml:"fault_rate"`
	FaultKinds      []string           `yaml:"fault_kinds"`
	Faults          []mockserver.Fault `yaml:"faults"` // fault, count, model, after_chunks, delay_ms
	AdminToken      *string            `yaml:"admin_token"`
	LogFormat       *string            `yaml:"log_format"`
	ShutdownTimeout *string            `yaml:"shutdown_timeout"`
	IdleTimeout     *string            `yaml:"idle_timeout"`
	ReadTimeout     *string            `yaml:"read_timeout"`
	MaxConnections  *int               `yaml:"max_connections"`
	InsecureControl *bool              `yaml:"insecure_control_api"`
	AnthropicErrors *string            `yaml:"anthropic_errors"`
}

// modelOverride changes the given fields of a catalogue model, or adds a model when its id is
// new (then the limits are required, as in fixtures/models.json).
type modelOverride struct {
	ID                      string              `yaml:"id"`
	AliasOf                 *string             `yaml:"alias_of"`
	Created                 *int64              `yaml:"created"`
	OwnedBy                 *string             `yaml:"owned_by"`
	ContextWindow           *int                `yaml:"context_window"`
	MaxInputTokens          *int                `yaml:"max_input_tokens"`
	MaxOutputTokens         *int                `yaml:"max_output_tokens"`
	MaxOutputTokensThinking *int                `yaml:"max_output_tokens_thinking"`
	MaxReasoningTokens      *int                `yaml:"max_reasoning_tokens"`
	Thinking                *string             `yaml:"thinking"`
	ThinkingDefault         *bool               `yaml:"thinking_default"`
	RPM                     *int                `yaml:"rpm"`
	TPM                     *int                `yaml:"tpm"`
	Pricing                 *mockserver.Pricing `yaml:"pricing"`
}

// parseFileConfig decodes a config file strictly: an unknown key or a wrong type is an error
// with its line.
func parseFileConfig(name string, data []byte) (*fileConfig, error) {
	var fc fileConfig
	if err := yaml.UnmarshalWithOptions(data, &fc, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s: %s", name, yaml.FormatError(err, false, true))
	}
	return &fc, nil
}

// fileKeys names, for error messages, the file key of flags whose key is not the flag name
// with underscores.
var fileKeys = map[string]string{
	"first-token-latency": "latency.first_token",
	"token-latency":       "latency.per_token",
	"latency-jitter":      "latency.jitter",
}

// flagValues returns the file's settings that have a flag, as flag strings.
func (fc *fileConfig) flagValues() map[string]string {
	out := map[string]string{}
	str := func(name string, v *string) {
		if v != nil {
			out[name] = *v
		}
	}
	num := func(name string, v *int) {
		if v != nil {
			out[name] = strconv.Itoa(*v)
		}
	}
	flag := func(name string, v *bool) {
		if v != nil {
			out[name] = strconv.FormatBool(*v)
		}
	}
	str("addr", fc.Addr)
	if fc.Seed != nil {
		out["seed"] = strconv.FormatUint(*fc.Seed, 10)
	}
	num("context-window", fc.ContextWindow)
	num("max-input-tokens", fc.MaxInputTokens)
	num("max-output-tokens", fc.MaxOutputTokens)
	if fc.MaxBodyBytes != nil {
		out["max-body-bytes"] = strconv.FormatInt(*fc.MaxBodyBytes, 10)
	}
	str("tpm-estimate", fc.TPMEstimate)
	flag("implicit-cache", fc.ImplicitCache)
	flag("per-second-limits", fc.PerSecondLimits)
	flag("burst-limits", fc.BurstLimits)
	flag("rate-limit-headers", fc.RateLimitHeaders)
	str("redis-url", fc.RedisURL)
	flag("redis-fail-open", fc.RedisFailOpen)
	str("fallback", fc.Fallback)
	str("responses-id", fc.ResponsesID)
	if fc.Latency != nil {
		str("first-token-latency", fc.Latency.FirstToken)
		str("token-latency", fc.Latency.PerToken)
		if fc.Latency.Jitter != nil {
			out["latency-jitter"] = strconv.FormatFloat(*fc.Latency.Jitter, 'g', -1, 64)
		}
	}
	if fc.FaultRate != nil {
		out["fault-rate"] = strconv.FormatFloat(*fc.FaultRate, 'g', -1, 64)
	}
	if len(fc.FaultKinds) > 0 {
		out["fault-kinds"] = strings.Join(fc.FaultKinds, ",")
	}
	str("admin-token", fc.AdminToken)
	str("log-format", fc.LogFormat)
	str("shutdown-timeout", fc.ShutdownTimeout)
	str("idle-timeout", fc.IdleTimeout)
	str("read-timeout", fc.ReadTimeout)
	num("max-connections", fc.MaxConnections)
	flag("insecure-control-api", fc.InsecureControl)
	str("anthropic-errors", fc.AnthropicErrors)
	return out
}

// fileOptions turns what only the file can say into mockserver options. dir resolves a
// relative fixtures path.
func (fc *fileConfig) fileOptions(dir string) ([]mockserver.Option, error) {
	var opts []mockserver.Option
	if len(fc.Models) > 0 || fc.RPM != nil || fc.TPM != nil {
		for name, v := range map[string]*int{"rpm": fc.RPM, "tpm": fc.TPM} {
			if v != nil && *v < 0 {
				return nil, fmt.Errorf("%s: %d must not be negative (0 means unlimited)", name, *v)
			}
		}
		models, err := mergeModels(fc.RPM, fc.TPM, fc.Models)
		if err != nil {
			return nil, err
		}
		opts = append(opts, mockserver.WithModels(models...))
	}
	for name, keys := range fc.Accounts {
		opts = append(opts, mockserver.WithAccount(name, keys...))
	}
	if fc.Fixtures != nil {
		p := *fc.Fixtures
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		opts = append(opts, mockserver.WithFixtureFiles(p))
	}
	if len(fc.InlineFixtures) > 0 {
		opts = append(opts, mockserver.WithFixtures(fc.InlineFixtures...))
	}
	return opts, nil
}

// mergeModels applies the file's limits to the built-in catalogue: rpm and tpm (when not
// nil) to every model, then each model's overrides, so that a model's own limits win over
// the file's limits for every model.
func mergeModels(rpm, tpm *int, overrides []modelOverride) ([]mockserver.Model, error) {
	models, err := mockserver.ParseModels(fixtures.ModelsJSON)
	if err != nil {
		return nil, err
	}
	for i := range models {
		setIf(&models[i].RPM, rpm)
		setIf(&models[i].TPM, tpm)
	}
	index := map[string]int{}
	for i, m := range models {
		index[m.ID] = i
	}
	for _, o := range overrides {
		if o.ID == "" {
			return nil, fmt.Errorf("config: a model without an id")
		}
		i, ok := index[o.ID]
		if !ok {
			models = append(models, mockserver.Model{ID: o.ID})
			setIf(&models[len(models)-1].RPM, rpm)
			setIf(&models[len(models)-1].TPM, tpm)
			i = len(models) - 1
			index[o.ID] = i
		}
		m := &models[i]
		setIf(&m.AliasOf, o.AliasOf)
		setIf(&m.Created, o.Created)
		setIf(&m.OwnedBy, o.OwnedBy)
		setIf(&m.ContextWindow, o.ContextWindow)
		if o.ContextWindow != nil && o.MaxInputTokens == nil && m.MaxInputTokens > *o.ContextWindow {
			m.MaxInputTokens = *o.ContextWindow // a smaller window lowers the max input, as --context-window does
		}
		setIf(&m.MaxInputTokens, o.MaxInputTokens)
		setIf(&m.MaxOutputTokens, o.MaxOutputTokens)
		setIf(&m.MaxOutputTokensThinking, o.MaxOutputTokensThinking)
		setIf(&m.MaxReasoningTokens, o.MaxReasoningTokens)
		setIf(&m.Thinking, o.Thinking)
		setIf(&m.ThinkingDefault, o.ThinkingDefault)
		setIf(&m.RPM, o.RPM)
		setIf(&m.TPM, o.TPM)
		if o.Pricing != nil {
			m.Pricing = o.Pricing
		}
	}
	return models, nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
