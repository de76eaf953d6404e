package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// RuntimeConfig is what GET /_mock/config shows and PATCH /_mock/config changes: the
// settings in force, start-up values merged with run-time changes.
type RuntimeConfig struct {
	RateLimits    RuntimeRateLimits `json:"rate_limits"`
	Latency       RuntimeLatency    `json:"latency"`
	FaultRate     float64           `json:"fault_rate"`
	FaultKinds    []string          `json:"fault_kinds"` // what fault_rate draws from
	ImplicitCache bool              `json:"implicit_cache"`
}

// RuntimeRateLimits: RPM and TPM of every model (null: each model's own), per model (only
// the fields set), and the TPM estimate mode.
type RuntimeRateLimits struct {
	RPM         *int                     `json:"rpm"`
	TPM         *int                     `json:"tpm"`
	TPMEstimate string                   `json:"tpm_estimate"`
	Models      map[string]LimitOverride `json:"models"`
}

// RuntimeLatency is the simulated latency in milliseconds.
type RuntimeLatency struct {
	FirstTokenMs float64 `json:"first_token_ms"`
	PerTokenMs   float64 `json:"per_token_ms"`
	Jitter       float64 `json:"jitter"`
}

// Config returns the settings that can change at run time, as they are now.
func (s *Server) Config() RuntimeConfig {
	rl := s.rates
	rl.mu.Lock()
	all := rl.start.all.over(rl.run.all)
	models := map[string]LimitOverride{}
	for m, p := range rl.start.models {
		models[m] = p
	}
	for m, p := range rl.run.models {
		models[m] = models[m].over(p)
	}
	est := rl.startEstimate
	if rl.runEstimate != "" {
		est = rl.runEstimate
	}
	rl.mu.Unlock()
	out := RuntimeConfig{RateLimits: RuntimeRateLimits{RPM: cloneInt(all.RPM), TPM: cloneInt(all.TPM), TPMEstimate: est, Models: models}}
	l := s.latency.get()
	out.Latency = RuntimeLatency{FirstTokenMs: ms(l.FirstToken), PerTokenMs: ms(l.PerToken), Jitter: l.Jitter}
	s.faults.mu.Lock()
	out.FaultRate = s.faults.rate
	out.FaultKinds = append([]string(nil), s.faults.kinds...)
	s.faults.mu.Unlock()
	out.ImplicitCache = s.cache.implicitOn()
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (s *Server) handleGetConfig(w http.ResponseWriter, r *http.Request) {
	writeControl(w, http.StatusOK, s.Config())
}

func (s *Server) handlePatchConfig(w http.ResponseWriter, r *http.Request) {
	body, err := readAllLimited(w, r, 1<<20)
	if err == nil {
		err = s.PatchConfig(body)
	}
	if err != nil {
		s.controlError(w, r, strings.TrimSuffix(err.Error(), ".")+".")
		return
	}
	writeControl(w, http.StatusOK, s.Config())
}

func readAllLimited(w http.ResponseWriter, r *http.Request, n int64) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, n)); err != nil {
		return nil, fmt.Errorf("the body could not be read: %v", err)
	}
	return buf.Bytes(), nil
}

// PatchConfig changes the run-time settings with a JSON merge patch (RFC 7396), as PATCH
// /_mock/config does: a field the patch leaves out keeps its value, null restores the
// start-up value (what the options, flags, environment, config file and catalogue said), at
// every level — a whole patch of null restores every setting. Limits set at run time beat
// every start-up source. Nothing changes unless the whole patch is valid.
func (s *Server) PatchConfig(patch []byte) error {
	root, err := decodePatch(patch)
	if err != nil {
		return err
	}
	rl := s.rates
	rl.mu.Lock()
	run, runEst := rl.run.clone(), rl.runEstimate
	rl.mu.Unlock()
	lat := s.latency.get()
	s.faults.mu.Lock()
	faultRate, faultKinds := s.faults.rate, s.faults.kinds
	s.faults.mu.Unlock()
	startKinds := s.cfg.faultKinds
	if startKinds == nil {
		startKinds = DefaultFaultKinds
	}
	implicit := s.cache.implicitOn()

	if root == nil {
		run, runEst = limitLayer{}, ""
		lat, faultRate, implicit, faultKinds = s.cfg.latency, s.cfg.faultRate, s.cfg.implicitCache, startKinds
	}
	obj, _ := root.(map[string]any)
	for _, k := range sortedKeys(obj) {
		v := obj[k]
		switch k {
		case "rate_limits":
			if v == nil {
				run, runEst = limitLayer{}, ""
				continue
			}
			if err := s.patchRateLimits(&run, &runEst, v); err != nil {
				return err
			}
		case "latency":
			if v == nil {
				lat = s.cfg.latency
				continue
			}
			if lat, err = patchLatency(lat, s.cfg.latency, v); err != nil {
				return err
			}
		case "fault_rate":
			if v == nil {
				faultRate = s.cfg.faultRate
				continue
			}
			f, ok := number(v)
			if !ok || !(f >= 0 && f <= 1) {
				return fmt.Errorf("fault_rate must be a number in [0, 1] or null, not %s", shown(v))
			}
			faultRate = f
		case "fault_kinds":
			if v == nil {
				faultKinds = startKinds
				continue
			}
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				return fmt.Errorf("fault_kinds must be a non-empty array of fault kinds or null, not %s", shown(v))
			}
			faultKinds = nil
			for _, item := range list {
				k, _ := item.(string)
				if err := (Fault{Kind: k}).validate(); err != nil {
					return fmt.Errorf("fault_kinds: %v", err)
				}
				faultKinds = append(faultKinds, k)
			}
		case "implicit_cache":
			if v == nil {
				implicit = s.cfg.implicitCache
				continue
			}
			b, ok := v.(bool)
			if !ok {
				return fmt.Errorf("implicit_cache must be true, false or null, not %s", shown(v))
			}
			implicit = b
		default:
			return fmt.Errorf("unknown field %q (known: rate_limits, latency, fault_rate, fault_kinds, implicit_cache)", k)
		}
	}
	if err := lat.validate(); err != nil {
		return fmt.Errorf("latency: %v", err)
	}
	rl.mu.Lock()
	rl.run, rl.runEstimate = run, runEst
	rl.mu.Unlock()
	_ = s.SetLatency(lat)
	_ = s.SetFaultRate(faultRate)
	s.faults.mu.Lock()
	s.faults.kinds = faultKinds
	s.faults.mu.Unlock()
	s.cache.setImplicit(implicit)
	return nil
}

func (s *Server) patchRateLimits(run *limitLayer, runEst *string, v any) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("rate_limits must be an object or null, not %s", shown(v))
	}
	for _, k := range sortedKeys(obj) {
		v := obj[k]
		switch k {
		case "rpm", "tpm":
			p, err := patchLimit("rate_limits."+k, v)
			if err != nil {
				return err
			}
			if k == "rpm" {
				run.all.RPM = p
			} else {
				run.all.TPM = p
			}
		case "tpm_estimate":
			if v == nil {
				*runEst = ""
				continue
			}
			mode, ok := v.(string)
			if !ok || !validTPMEstimate(mode) {
				return fmt.Errorf("rate_limits.tpm_estimate must be %q, %q or null, not %s", TPMEstimateDeclared, TPMEstimateMaxOutput, shown(v))
			}
			*runEst = mode
		case "models":
			if v == nil {
				run.models = nil
				continue
			}
			models, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("rate_limits.models must be an object or null, not %s", shown(v))
			}
			if run.models == nil {
				run.models = map[string]LimitOverride{}
			}
			for _, id := range sortedKeys(models) {
				if _, ok := s.models.lookup(id); !ok {
					return fmt.Errorf("rate_limits.models: unknown model %q", id)
				}
				mv := models[id]
				if mv == nil {
					delete(run.models, id)
					continue
				}
				fields, ok := mv.(map[string]any)
				if !ok {
					return fmt.Errorf("rate_limits.models.%s must be an object or null, not %s", id, shown(mv))
				}
				p := run.models[id]
				for _, f := range sortedKeys(fields) {
					n, err := patchLimit("rate_limits.models."+id+"."+f, fields[f])
					switch {
					case f != "rpm" && f != "tpm":
						return fmt.Errorf("rate_limits.models.%s: unknown field %q (known: rpm, tpm)", id, f)
					case err != nil:
						return err
					case f == "rpm":
						p.RPM = n
					default:
						p.TPM = n
					}
				}
				if p.empty() {
					delete(run.models, id)
				} else {
					run.models[id] = p
				}
			}
		default:
			return fmt.Errorf("rate_limits: unknown field %q (known: rpm, tpm, tpm_estimate, models)", k)
		}
	}
	return nil
}

// patchLimit reads a limit of a patch: null (nil: back to the start-up value) or an integer
// ≥ 0 (0 is unlimited).
func patchLimit(name string, v any) (*int, error) {
	if v == nil {
		return nil, nil
	}
	f, ok := number(v)
	if !ok || f < 0 || f != math.Trunc(f) || f > MaxRateLimit {
		return nil, fmt.Errorf("%s must be an integer in [0, %d] (0: unlimited) or null, not %s", name, MaxRateLimit, shown(v))
	}
	n := int(f)
	return &n, nil
}

func patchLatency(cur, start Latency, v any) (Latency, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return cur, fmt.Errorf("latency must be an object or null, not %s", shown(v))
	}
	for _, k := range sortedKeys(obj) {
		v := obj[k]
		f, isNum := number(v)
		if v != nil && (!isNum || f < 0 || (k != "jitter" && f > ms(MaxFirstTokenLatency))) {
			return cur, fmt.Errorf("latency.%s must be a number in [0, %.0f] or null, not %s", k, ms(MaxFirstTokenLatency), shown(v))
		}
		switch k {
		case "first_token_ms":
			cur.FirstToken = start.FirstToken
			if v != nil {
				cur.FirstToken = time.Duration(f * float64(time.Millisecond))
			}
		case "per_token_ms":
			cur.PerToken = start.PerToken
			if v != nil {
				cur.PerToken = time.Duration(f * float64(time.Millisecond))
			}
		case "jitter":
			cur.Jitter = start.Jitter
			if v != nil {
				cur.Jitter = f
			}
		default:
			return cur, fmt.Errorf("latency: unknown field %q (known: first_token_ms, per_token_ms, jitter)", k)
		}
	}
	return cur, nil
}

// decodePatch decodes a merge patch: an object, or null.
func decodePatch(patch []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(patch))
	dec.UseNumber()
	var root any
	err := dec.Decode(&root)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON value")
	}
	if err != nil {
		return nil, fmt.Errorf("the body must be a JSON merge patch (an object with rate_limits, latency, fault_rate or implicit_cache, or null): %v", err)
	}
	if _, ok := root.(map[string]any); !ok && root != nil {
		return nil, fmt.Errorf("the body must be a JSON object (or null, which restores every start-up value), not %s", shown(root))
	}
	return root, nil
}

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// shown writes a patch value back as JSON for an error message.
func shown(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 80 {
		return fmt.Sprintf("a %T", v)
	}
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
