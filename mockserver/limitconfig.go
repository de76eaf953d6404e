package mockserver

import (
	"fmt"
	"maps"
)

// Unlimited, as a field of RateLimits, lifts that limit.
const Unlimited = -1

// RateLimits are requests and tokens per minute, given to WithLimits, WithModelLimits and
// SetLimits. A field left at 0 is not given and keeps the value it had (JSON merge-patch
// semantics, RFC 7396, as PATCH /_mock/config); Unlimited lifts the limit; a positive value
// sets it. RateLimits{RPM: 1} changes the RPM and keeps the TPM.
type RateLimits struct {
	RPM int `json:"rpm"`
	TPM int `json:"tpm"`
}

// TPM estimate modes: what a request reserves against its scope's tokens per minute before
// its reply exists. The reservation is replaced by the real total once the reply is done.
const (
	// TPMEstimateDeclared reserves the prompt plus the max_tokens the request declares, 0
	// when it declares none (the default).
	TPMEstimateDeclared = "declared"
	// TPMEstimateMaxOutput reserves the prompt plus the most output the request may
	// produce: its max_tokens, else the model's max output, bounded by the context left.
	TPMEstimateMaxOutput = "max-output"
)

func validTPMEstimate(mode string) bool {
	return mode == TPMEstimateDeclared || mode == TPMEstimateMaxOutput
}

// LimitOverride is what one source says about a model's limits: nil is not said (the value
// comes from a lower source), 0 is unlimited.
type LimitOverride struct {
	RPM *int `json:"rpm,omitempty"`
	TPM *int `json:"tpm,omitempty"`
}

func (p LimitOverride) empty() bool { return p.RPM == nil && p.TPM == nil }

// over returns p with the fields that q sets replaced by q's.
func (p LimitOverride) over(q LimitOverride) LimitOverride {
	if q.RPM != nil {
		p.RPM = q.RPM
	}
	if q.TPM != nil {
		p.TPM = q.TPM
	}
	return p
}

// limitLayer is what one source (the options at start, or changes at run time) says about
// the limits: for every model, and per model. Per model beats every model within a layer.
type limitLayer struct {
	all    LimitOverride
	models map[string]LimitOverride
}

func (l limitLayer) clone() limitLayer {
	return limitLayer{all: l.all, models: maps.Clone(l.models)}
}

// apply returns base with the layer's settings for model applied.
func (l limitLayer) apply(base RateLimits, model string) RateLimits {
	p := l.all.over(l.models[model])
	if p.RPM != nil {
		base.RPM = *p.RPM
	}
	if p.TPM != nil {
		base.TPM = *p.TPM
	}
	return base
}

func (l *limitLayer) setModel(model string, p LimitOverride) {
	if l.models == nil {
		l.models = map[string]LimitOverride{}
	}
	l.models[model] = l.models[model].over(p)
}

// pairOf converts a RateLimits (0 keeps, Unlimited lifts, positive sets) to a LimitOverride.
func pairOf(name string, l RateLimits) (LimitOverride, error) {
	if l == (RateLimits{}) {
		return LimitOverride{}, fmt.Errorf("%s: no limit given (a zero field keeps its value; use mockserver.Unlimited to lift a limit)", name)
	}
	conv := func(field string, v int) (*int, error) {
		switch {
		case v == 0:
			return nil, nil
		case v == Unlimited:
			zero := 0
			return &zero, nil
		case v < 0:
			return nil, fmt.Errorf("%s: %s %d is negative (use mockserver.Unlimited to lift a limit)", name, field, v)
		}
		return &v, nil
	}
	rpm, err := conv("RPM", l.RPM)
	if err != nil {
		return LimitOverride{}, err
	}
	tpm, err := conv("TPM", l.TPM)
	if err != nil {
		return LimitOverride{}, err
	}
	return LimitOverride{RPM: rpm, TPM: tpm}, nil
}

// limitsFor returns the limits that apply to a model now, from the lowest source to the
// highest: the catalogue, the options given to New (every model, then the model itself),
// then changes at run time (every model, then the model itself).
func (rl *rateLimiter) limitsFor(model string) RateLimits {
	l := rl.catalogued(model)
	rl.mu.RLock()
	defer rl.mu.RUnlock()
	return rl.limitsLocked(l, model)
}

// limitsLocked is limitsFor with the catalogue's limits l; the caller holds rl.mu.
func (rl *rateLimiter) limitsLocked(l RateLimits, model string) RateLimits {
	return rl.run.apply(rl.start.apply(l, model), model)
}

// tpmEstimate returns the estimate mode in force.
func (rl *rateLimiter) tpmEstimate() string {
	rl.mu.RLock()
	defer rl.mu.RUnlock()
	return rl.tpmEstimateLocked()
}

// tpmEstimateLocked is tpmEstimate for a caller that holds rl.mu.
func (rl *rateLimiter) tpmEstimateLocked() string {
	if rl.runEstimate != "" {
		return rl.runEstimate
	}
	return rl.startEstimate
}

// estimateOf is what call c reserves against TPM before its reply (see TPMEstimateDeclared).
func estimateOf(mode string, c *call) int {
	if mode == TPMEstimateMaxOutput {
		return c.promptTokens + c.maxOutput
	}
	if c.req != nil && c.req.MaxTokens.set {
		return c.promptTokens + min(int(c.req.MaxTokens.v), c.maxOutput)
	}
	return c.promptTokens
}

// SetLimits changes the limits of one model ("" for every model) at run time, with the
// merge semantics of RateLimits: a zero field keeps its value. The next request sees them.
// Limits set at run time beat every start-up source; for one model they beat those set for
// every model.
func (s *Server) SetLimits(model string, l RateLimits) error {
	p, err := pairOf("SetLimits", l)
	if err != nil {
		return err
	}
	if model != "" {
		if _, ok := s.models.lookup(model); !ok {
			return fmt.Errorf("SetLimits: unknown model %q", model)
		}
	}
	rl := s.rates
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if model == "" {
		rl.run.all = rl.run.all.over(p)
		return nil
	}
	rl.run.setModel(model, p)
	return nil
}

// ModelLimits is the effective limits of one model, as GET /_mock/limits lists them.
type ModelLimits struct {
	Model string `json:"model"`
	RPM   int    `json:"rpm"` // 0 means unlimited
	TPM   int    `json:"tpm"` // 0 means unlimited
}

// ModelLimits returns the limits in force for every model of the catalogue, sorted by id.
func (s *Server) ModelLimits() []ModelLimits {
	out := make([]ModelLimits, 0, len(s.models.order))
	for _, m := range s.models.order {
		l := s.rates.limitsFor(m.ID)
		out = append(out, ModelLimits{Model: m.ID, RPM: l.RPM, TPM: l.TPM})
	}
	return out
}
