package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Model describes one model of the catalogue (https://www.alibabacloud.com/help/en/model-studio/models): its limits, thinking support,
// default rate limits and prices. The built-in catalogue lives in fixtures/models.json; the
// same JSON shape can replace it through WithModelsJSON.
type Model struct {
	// ID is the model name clients send, e.g. "qwen3-max".
	ID string `json:"id"`
	// AliasOf names the snapshot an alias points to ("qwen3-max" → "qwen3-max-2026-01-23").
	// An alias keeps its own rate-limit bucket, as on the real service.
	AliasOf string `json:"alias_of,omitempty"`
	// Created is the Unix time shown by the models endpoint.
	Created int64 `json:"created"`
	// OwnedBy is shown by the models endpoint; "system" when empty.
	OwnedBy string `json:"owned_by,omitempty"`

	ContextWindow           int `json:"context_window"`
	MaxInputTokens          int `json:"max_input_tokens"`
	MaxOutputTokens         int `json:"max_output_tokens"`
	MaxOutputTokensThinking int `json:"max_output_tokens_thinking,omitempty"`
	MaxReasoningTokens      int `json:"max_reasoning_tokens,omitempty"`

	// Thinking is "none" (no thinking mode), "hybrid" (enable_thinking switches it) or
	// "only" (always thinks).
	Thinking        string `json:"thinking"`
	ThinkingDefault bool   `json:"thinking_default,omitempty"`

	// RPM and TPM are the default requests and tokens per minute; 0 means unlimited.
	RPM int `json:"rpm"`
	TPM int `json:"tpm"`

	Pricing *Pricing `json:"pricing,omitempty"`
}

// Pricing holds a model's price tiers, chosen by the request's input length.
type Pricing struct {
	Currency string `json:"currency"`
	// CacheHitRatio is the share of the input price paid for cached input tokens.
	CacheHitRatio float64     `json:"cache_hit_ratio"`
	Tiers         []PriceTier `json:"tiers"`
}

// PriceTier is the price per million tokens for requests whose input is at most
// MaxInputTokens tokens (and above the previous tier's bound).
type PriceTier struct {
	MaxInputTokens int     `json:"max_input_tokens"`
	Input          float64 `json:"input"`
	Output         float64 `json:"output"`
}

// SupportsThinking reports whether the model can produce reasoning content.
func (m *Model) SupportsThinking() bool { return m.Thinking == "hybrid" || m.Thinking == "only" }

type modelFile struct {
	Models []Model `json:"models"`
}

// ParseModels decodes a model catalogue in the shape of fixtures/models.json, strictly: an
// unknown field, a duplicate id, a missing limit or an alias to an unknown model is an error.
func ParseModels(data []byte) ([]Model, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f modelFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("model catalogue: %w", jsonErrorWithLine(data, err))
	}
	if len(f.Models) == 0 {
		return nil, fmt.Errorf("model catalogue: no models")
	}
	seen := make(map[string]bool, len(f.Models))
	for i := range f.Models {
		m := &f.Models[i]
		if err := m.validate(); err != nil {
			return nil, fmt.Errorf("model catalogue: model %d (%q): %w", i, m.ID, err)
		}
		if seen[m.ID] {
			return nil, fmt.Errorf("model catalogue: duplicate model id %q", m.ID)
		}
		seen[m.ID] = true
	}
	for _, m := range f.Models {
		if m.AliasOf != "" && !seen[m.AliasOf] {
			return nil, fmt.Errorf("model catalogue: %q is an alias of unknown model %q", m.ID, m.AliasOf)
		}
	}
	return f.Models, nil
}

func (m *Model) validate() error {
	switch {
	case m.ID == "":
		return fmt.Errorf("id is empty")
	case m.ContextWindow <= 0:
		return fmt.Errorf("context_window must be positive")
	case m.MaxInputTokens <= 0 || m.MaxInputTokens > m.ContextWindow:
		return fmt.Errorf("max_input_tokens must be in [1, context_window]")
	case m.MaxOutputTokens <= 0:
		return fmt.Errorf("max_output_tokens must be positive")
	case m.MaxOutputTokensThinking < 0 || m.MaxReasoningTokens < 0:
		return fmt.Errorf("thinking limits must not be negative")
	case m.RPM < 0 || m.TPM < 0:
		return fmt.Errorf("rpm and tpm must not be negative (0 means unlimited)")
	}
	switch m.Thinking {
	case "":
		m.Thinking = "none"
	case "none", "hybrid", "only":
	default:
		return fmt.Errorf("thinking must be none, hybrid or only, not %q", m.Thinking)
	}
	if m.SupportsThinking() && m.MaxOutputTokensThinking == 0 {
		m.MaxOutputTokensThinking = m.MaxOutputTokens
	}
	if m.OwnedBy == "" {
		m.OwnedBy = "system"
	}
	if m.Pricing != nil {
		prev := 0
		for i, t := range m.Pricing.Tiers {
			if t.MaxInputTokens <= prev {
				return fmt.Errorf("pricing tier %d: max_input_tokens must increase", i)
			}
			if t.Input < 0 || t.Output < 0 {
				return fmt.Errorf("pricing tier %d: prices must not be negative", i)
			}
			prev = t.MaxInputTokens
		}
	}
	return nil
}

// catalogue is the server's immutable view of the models after overrides.
type catalogue struct {
	byID  map[string]*Model
	order []*Model // sorted by id, for the models endpoint
}

// tokenOverrides replaces a token limit (context window, max input, max output) of every
// model when positive.
type tokenOverrides struct {
	contextWindow, maxInput, maxOutput int
}

func newCatalogue(models []Model, o tokenOverrides) *catalogue {
	c := &catalogue{byID: make(map[string]*Model, len(models))}
	for _, m := range models {
		m := m
		if o.contextWindow > 0 {
			m.ContextWindow = o.contextWindow
			m.MaxInputTokens = min(m.MaxInputTokens, o.contextWindow)
		}
		if o.maxInput > 0 {
			m.MaxInputTokens = o.maxInput
		}
		if o.maxOutput > 0 {
			m.MaxOutputTokens = o.maxOutput
			if m.MaxOutputTokensThinking > 0 {
				m.MaxOutputTokensThinking = o.maxOutput
			}
		}
		c.byID[m.ID] = &m
		c.order = append(c.order, &m)
	}
	sort.Slice(c.order, func(i, j int) bool { return c.order[i].ID < c.order[j].ID })
	return c
}

func (c *catalogue) lookup(id string) (*Model, bool) {
	m, ok := c.byID[id]
	return m, ok
}

// intern returns name as a string of its own: the catalogue's id when name is one (no copy),
// else a copy, so that a name decoded in place does not keep its request body.
func (c *catalogue) intern(name string) string {
	if m, ok := c.byID[name]; ok {
		return m.ID
	}
	return strings.Clone(name)
}
