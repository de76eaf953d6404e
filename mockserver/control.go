package mockserver

import (
	"encoding/json"
	"fmt"
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
	scopes, err := s.limitStates()
	if err != nil {
		s.controlStoreError(w, r, err)
		return
	}
	writeControl(w, http.StatusOK, struct {
		Now    string        `json:"now"`
		Models []ModelLimits `json:"models"` // the limits in force for every model
		Scopes []LimitState  `json:"scopes"` // every scope with requests in its window
	}{s.clock.Now().UTC().Format(time.RFC3339Nano), s.ModelLimits(), scopes})
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
	ok, err := s.advance(time.Duration(*body.Seconds * float64(time.Second)))
	if err != nil {
		s.controlStoreError(w, r, err)
		return
	}
	if !ok {
		s.controlError(w, r, fmt.Sprintf("The clock can move at most %.0f seconds in all; it has moved %.0f.",
			MaxClockOffset.Seconds(), time.Duration(s.clock.offset.Load()).Seconds()))
		return
	}
	writeControl(w, http.StatusOK, map[string]any{"now": s.clock.Now().UTC().Format(time.RFC3339Nano)})
}

// handleReset clears the journal, the rate-limit windows, the usage, the queued faults and
// the context cache.
func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	if err := s.reset(); err != nil {
		s.controlStoreError(w, r, err)
		return
	}
	writeControl(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Reset clears the server's counted state: the journal, the rate-limit windows and
// premature-retry records, the usage, the queued faults, the context cache and the stored
// Responses.
func (s *Server) Reset() {
	if err := s.reset(); err != nil {
		s.log.Error("reset the rate limits", "err", err.Error())
	}
}

func (s *Server) reset() error {
	err := s.resetLimits()
	s.cache.reset()
	s.ClearRequests()
	s.clearUsage()
	s.clearFaults()
	s.responses.clear()
	schemaCache.Clear()
	return err
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
