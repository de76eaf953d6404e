package mockserver

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"
)

// The control API lives under /_mock/, a prefix the real API never uses
// (spec/interface.md). Its answers are JSON; its errors use the compatible envelope.

// writeControl answers a control request with a JSON body.
func writeControl(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(marshalJSON(v))
}

func (s *Server) controlError(w http.ResponseWriter, r *http.Request, msg string) {
	s.writeCompatError(w, r, errFixture(http.StatusBadRequest, "invalid_control_request", msg), s.cfg.newRequestID(), false)
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
	s.Advance(time.Duration(*body.Seconds * float64(time.Second)))
	writeControl(w, http.StatusOK, map[string]any{"now": s.clock.Now().UTC().Format(time.RFC3339Nano)})
}

// handleReset clears the rate-limit windows (and, as they are added, the journal, usage and
// queued faults).
func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	s.Reset()
	writeControl(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Reset clears the server's counted state: rate-limit windows and premature-retry records.
func (s *Server) Reset() {
	s.ResetLimits()
}
