package mockserver

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"strconv"
	"time"
)

// The control API lives under /_mock/, a prefix the real API never uses. Its answers are
// JSON; its errors use the compatible envelope.

// writeControl answers a control request with a JSON body.
func writeControl(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(marshalJSON(v))
}

func (s *Server) controlError(w http.ResponseWriter, r *http.Request, msg string) {
	writeCompatError(w, errMock("invalid_control_request", msg), s.cfg.newRequestID())
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeControl(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleLimits(w http.ResponseWriter, r *http.Request) {
	writeControl(w, http.StatusOK, map[string]any{"now": s.clock.Now().UTC().Format(time.RFC3339Nano), "scopes": s.Limits()})
}

// handleClockAdvance moves the server's clock: {"seconds": N}, N ≥ 0, fractions allowed.
func (s *Server) handleClockAdvance(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Seconds *float64 `json:"seconds"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Seconds == nil {
		s.controlError(w, r, `The body must be {"seconds": N} with N a number of seconds.`)
		return
	}
	if *body.Seconds < 0 || math.IsNaN(*body.Seconds) || *body.Seconds > 1e9 {
		s.controlError(w, r, fmt.Sprintf("seconds must be in [0, 1e9], not %v.", *body.Seconds))
		return
	}
	if !s.clock.advance(time.Duration(*body.Seconds * float64(time.Second))) {
		s.controlError(w, r, fmt.Sprintf("The clock can move at most %.0f seconds in all; it has moved %.0f.",
			MaxClockOffset.Seconds(), time.Duration(s.clock.offset.Load()).Seconds()))
		return
	}
	writeControl(w, http.StatusOK, map[string]any{"now": s.clock.Now().UTC().Format(time.RFC3339Nano)})
}

// handleReset clears the journal, the rate-limit windows, the usage and the queued faults.
func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	s.Reset()
	writeControl(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Reset clears the server's counted state: the journal, the rate-limit windows and
// premature-retry records, the usage and the queued faults.
func (s *Server) Reset() {
	s.ResetLimits()
	s.ClearRequests()
	s.clearUsage()
	s.clearFaults()
	schemaCache.Clear()
}

// handleRequests lists the journal a page at a time (see journalPage); ?model=, ?path=,
// ?status=, ?shape= filter it.
func (s *Server) handleRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var filters []RequestFilter
	if m := q.Get("model"); m != "" {
		filters = append(filters, ModelIs(m))
	}
	if p := q.Get("path"); p != "" {
		filters = append(filters, PathIs(p))
	}
	if sh := q.Get("shape"); sh != "" {
		filters = append(filters, func(rec RequestRecord) bool { return rec.Shape == sh })
	}
	if st := q.Get("status"); st != "" {
		code, err := strconv.Atoi(st)
		if err != nil {
			s.controlError(w, r, fmt.Sprintf("status must be a number, not %q.", st))
			return
		}
		filters = append(filters, StatusIs(code))
	}
	pg, err := parseJournalPage(q)
	if err != nil {
		s.controlError(w, r, err.Error())
		return
	}
	s.writeJournalPage(w, filters, pg)
}

func (s *Server) handleClearRequests(w http.ResponseWriter, r *http.Request) {
	s.ClearRequests()
	writeControl(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleFaults queues a fault: {"fault": KIND, "count": N, "model": M, "after_chunks": N,
// "delay_ms": N}.
func (s *Server) handleFaults(w http.ResponseWriter, r *http.Request) {
	var f Fault
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		s.controlError(w, r, fmt.Sprintf(`The body must be {"fault": KIND, "count": N, "model": optional, "after_chunks": optional, "delay_ms": optional}: %v.`, err))
		return
	}
	if err := s.QueueFault(f); err != nil {
		s.controlError(w, r, err.Error()+".")
		return
	}
	writeControl(w, http.StatusOK, map[string]string{"status": "queued"})
}

func (s *Server) handleUsage(w http.ResponseWriter, r *http.Request) {
	usage := s.Usage()
	total := 0.0
	for _, u := range usage {
		total += u.CostUSD
	}
	writeControl(w, http.StatusOK, map[string]any{"usage": usage, "total_cost_usd": total})
}

// RuntimeConfig is what GET and PATCH /_mock/config read and change.
type RuntimeConfig struct {
	RateLimits RuntimeRateLimits `json:"rate_limits"`
	Latency    RuntimeLatency    `json:"latency"`
	FaultRate  float64           `json:"fault_rate"`
}

// RuntimeRateLimits: RPM and TPM of every model (null: each model's own) and per model.
type RuntimeRateLimits struct {
	RPM    *int                  `json:"rpm"`
	TPM    *int                  `json:"tpm"`
	Models map[string]RateLimits `json:"models"`
}

// RuntimeLatency is the simulated latency in milliseconds.
type RuntimeLatency struct {
	FirstTokenMs float64 `json:"first_token_ms"`
	PerTokenMs   float64 `json:"per_token_ms"`
	Jitter       float64 `json:"jitter"`
}

// Config returns the settings that can change at run time.
func (s *Server) Config() RuntimeConfig {
	rl := s.rates
	rl.mu.Lock()
	out := RuntimeConfig{RateLimits: RuntimeRateLimits{Models: maps.Clone(rl.perModel)}}
	if rl.rpmAll != nil {
		v := *rl.rpmAll
		out.RateLimits.RPM = &v
	}
	if rl.tpmAll != nil {
		v := *rl.tpmAll
		out.RateLimits.TPM = &v
	}
	rl.mu.Unlock()
	l := s.latency.get()
	out.Latency = RuntimeLatency{FirstTokenMs: ms(l.FirstToken), PerTokenMs: ms(l.PerToken), Jitter: l.Jitter}
	s.faults.mu.Lock()
	out.FaultRate = s.faults.rate
	s.faults.mu.Unlock()
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (s *Server) handleGetConfig(w http.ResponseWriter, r *http.Request) {
	writeControl(w, http.StatusOK, s.Config())
}

// configPatch is a PATCH /_mock/config body: only the fields given change. In rate_limits,
// "rpm": null (or "tpm": null) goes back to each model's own, and a model set to null loses
// its own limits.
type configPatch struct {
	RateLimits *struct {
		RPM    json.RawMessage        `json:"rpm"`
		TPM    json.RawMessage        `json:"tpm"`
		Models map[string]*RateLimits `json:"models"`
	} `json:"rate_limits"`
	Latency *struct {
		FirstTokenMs *float64 `json:"first_token_ms"`
		PerTokenMs   *float64 `json:"per_token_ms"`
		Jitter       *float64 `json:"jitter"`
	} `json:"latency"`
	FaultRate *float64 `json:"fault_rate"`
}

// optionalLimit decodes a limit that may be absent (keep), null (clear) or a number.
func optionalLimit(raw json.RawMessage, name string) (present bool, v *int, err error) {
	if raw == nil {
		return false, nil, nil
	}
	if string(raw) == "null" {
		return true, nil, nil
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil || n < 0 || n > MaxRateLimit {
		return true, nil, fmt.Errorf("rate_limits.%s must be an integer in [0, %d] or null", name, MaxRateLimit)
	}
	return true, &n, nil
}

func (s *Server) handlePatchConfig(w http.ResponseWriter, r *http.Request) {
	var p configPatch
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		s.controlError(w, r, fmt.Sprintf("The body must be a JSON object with rate_limits, latency or fault_rate: %v.", err))
		return
	}
	// Validate everything before changing anything.
	var rpmSet, tpmSet bool
	var rpm, tpm *int
	lat := s.latency.get()
	var err error
	if p.RateLimits != nil {
		if rpmSet, rpm, err = optionalLimit(p.RateLimits.RPM, "rpm"); err == nil {
			tpmSet, tpm, err = optionalLimit(p.RateLimits.TPM, "tpm")
		}
		for m, l := range p.RateLimits.Models {
			if err == nil && l != nil && (l.RPM < 0 || l.TPM < 0 || l.RPM > MaxRateLimit || l.TPM > MaxRateLimit) {
				err = fmt.Errorf("rate_limits.models.%s: limits must be in [0, %d]", capField(m, 256), MaxRateLimit)
			}
			if err == nil && (len(m) == 0 || len(m) > maxModelName) {
				err = fmt.Errorf("rate_limits.models: a model name must have 1 to %d bytes", maxModelName)
			}
		}
		if err == nil && len(p.RateLimits.Models) > 0 {
			s.rates.mu.Lock()
			n := len(s.rates.perModel)
			for m, l := range p.RateLimits.Models {
				if _, had := s.rates.perModel[m]; had && l == nil {
					n--
				} else if !had && l != nil {
					n++
				}
			}
			s.rates.mu.Unlock()
			if n > MaxModelLimits {
				err = fmt.Errorf("rate_limits.models: at most %d models may have their own limits", MaxModelLimits)
			}
		}
	}
	if err == nil && p.Latency != nil {
		for _, v := range []*float64{p.Latency.FirstTokenMs, p.Latency.PerTokenMs} {
			if v != nil && !(*v >= 0 && *v <= ms(MaxFirstTokenLatency)) {
				err = fmt.Errorf("latencies must be in [0, %.0f] ms, not %v", ms(MaxFirstTokenLatency), *v)
			}
		}
		if v := p.Latency.FirstTokenMs; v != nil && err == nil {
			lat.FirstToken = time.Duration(*v * float64(time.Millisecond))
		}
		if v := p.Latency.PerTokenMs; v != nil && err == nil {
			lat.PerToken = time.Duration(*v * float64(time.Millisecond))
		}
		if v := p.Latency.Jitter; v != nil {
			lat.Jitter = *v
		}
		if err == nil {
			err = lat.validate()
		}
	}
	if err == nil && p.FaultRate != nil && !(*p.FaultRate >= 0 && *p.FaultRate <= 1) {
		err = fmt.Errorf("fault_rate %v is not in [0, 1]", *p.FaultRate)
	}
	if err != nil {
		s.controlError(w, r, err.Error()+".")
		return
	}
	if p.RateLimits != nil {
		rl := s.rates
		rl.mu.Lock()
		if rpmSet {
			rl.rpmAll = rpm
		}
		if tpmSet {
			rl.tpmAll = tpm
		}
		for m, l := range p.RateLimits.Models {
			if l == nil {
				delete(rl.perModel, m)
			} else {
				rl.perModel[m] = *l
			}
		}
		rl.mu.Unlock()
	}
	if p.Latency != nil {
		_ = s.SetLatency(lat)
	}
	if p.FaultRate != nil {
		_ = s.SetFaultRate(*p.FaultRate)
	}
	writeControl(w, http.StatusOK, s.Config())
}
