package mockserver

import (
	"cmp"
	"slices"
	"sync"
)

// UsageRecord is the tokens and cost of one (key, model) so far, priced with the model's
// tiers (the tier is chosen by each request's input length; cached tokens are not modelled).
type UsageRecord struct {
	Key              string  `json:"key"` // the key's label (see keyLabel), or "(other keys)"
	Model            string  `json:"model"`
	Requests         int     `json:"requests"`
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	TotalTokens      int     `json:"total_tokens"`
	CostUSD          float64 `json:"cost_usd"`
	Priced           bool    `json:"priced"` // false when the model has no price tiers
}

type usageKey struct{ key, model string }

// usageBook accumulates usage per (key, model), at most MaxUsageRecords rows.
type usageBook struct {
	mu sync.Mutex // guards m
	m  map[usageKey]*UsageRecord
}

func (u *usageBook) add(key string, m *Model, modelID string, prompt, completion int) {
	k := usageKey{keyLabel(key), modelID}
	u.mu.Lock()
	defer u.mu.Unlock()
	r, ok := u.m[k]
	if !ok && len(u.m) >= MaxUsageRecords {
		k.key = otherKeys
		r, ok = u.m[k]
	}
	if !ok {
		r = &UsageRecord{Key: k.key, Model: modelID, Priced: m.Pricing != nil && len(m.Pricing.Tiers) > 0}
		u.m[k] = r
	}
	r.Requests++
	r.PromptTokens += prompt
	r.CompletionTokens += completion
	r.TotalTokens += prompt + completion
	r.CostUSD += cost(m, prompt, completion)
}

// cost prices one request: input and output per million tokens, in the tier of its input
// length (the last tier for longer inputs).
func cost(m *Model, prompt, completion int) float64 {
	if m.Pricing == nil || len(m.Pricing.Tiers) == 0 {
		return 0
	}
	tiers := m.Pricing.Tiers
	t := tiers[len(tiers)-1]
	for _, tier := range tiers {
		if prompt <= tier.MaxInputTokens {
			t = tier
			break
		}
	}
	return (float64(prompt)*t.Input + float64(completion)*t.Output) / 1e6
}

// Usage returns the tokens and cost so far per (key, model), sorted.
func (s *Server) Usage() []UsageRecord {
	s.usage.mu.Lock()
	defer s.usage.mu.Unlock()
	out := make([]UsageRecord, 0, len(s.usage.m))
	for _, r := range s.usage.m {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b UsageRecord) int { return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.Model, b.Model)) })
	return out
}

func (s *Server) clearUsage() {
	s.usage.mu.Lock()
	clear(s.usage.m)
	s.usage.mu.Unlock()
}
