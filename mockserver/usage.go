package mockserver

import (
	"cmp"
	"slices"
	"sync"
)

// UsageRecord is the tokens and cost of one (key, model) so far, priced with the model's
// tiers (the tier is chosen by each request's input length). Cached input is priced as
// spec/api.md §4.1 says: implicit hits at the model's cache_hit_ratio (20%), explicit hits
// at 10% and explicit cache creation at 125% of the input price.
type UsageRecord struct {
	Key                  string  `json:"key"` // the key's label (see keyLabel), or "(other keys)"
	Model                string  `json:"model"`
	Requests             int     `json:"requests"`
	PromptTokens         int     `json:"prompt_tokens"`
	CompletionTokens     int     `json:"completion_tokens"`
	TotalTokens          int     `json:"total_tokens"`
	CachedTokens         int     `json:"cached_tokens"`          // implicit and explicit hits, part of prompt_tokens
	ExplicitCachedTokens int     `json:"explicit_cached_tokens"` // explicit hits, part of cached_tokens
	CacheCreationTokens  int     `json:"cache_creation_input_tokens"`
	CostUSD              float64 `json:"cost_usd"`
	Priced               bool    `json:"priced"` // false when the model has no price tiers
}

type usageKey struct{ key, model string }

// usageBook accumulates usage per (key, model), at most MaxUsageRecords rows.
type usageBook struct {
	mu sync.Mutex // guards m
	m  map[usageKey]*UsageRecord
}

// add counts one request of the key labelled label (keyLabel).
func (u *usageBook) add(label string, m *Model, modelID string, prompt, completion int, cu cacheUse) {
	k := usageKey{label, modelID}
	price := cost(m, prompt, completion, cu) // outside the lock, which every request takes
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
	r.CachedTokens += cu.cachedTokens()
	r.ExplicitCachedTokens += cu.hit
	r.CacheCreationTokens += cu.created
	r.CostUSD += price
}

// cost prices one request: input and output per million tokens, in the tier of its input
// length (the last tier for longer inputs), cached and cache-creating input at their ratios.
func cost(m *Model, prompt, completion int, cu cacheUse) float64 {
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
	plain := max(0, prompt-cu.implicit-cu.hit-cu.created)
	input := float64(plain) + float64(cu.implicit)*m.Pricing.CacheHitRatio +
		float64(cu.hit)*explicitHitRatio + float64(cu.created)*explicitCreationRatio
	return (input*t.Input + float64(completion)*t.Output) / 1e6
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
