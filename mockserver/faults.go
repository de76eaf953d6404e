package mockserver

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Transport faults, besides the error kinds (ErrorKinds), that a test can inject.
const (
	// FaultStreamDrop closes the connection after AfterChunks events, with no error frame.
	FaultStreamDrop = "stream_drop"
	// FaultHang never answers: the request waits until the client gives up.
	FaultHang = "hang"
	// FaultSlowHeaders waits Delay before the answer's headers, then answers normally.
	FaultSlowHeaders = "slow_headers"
)

// Bounds of injected faults: the count and after_chunks of one fault, the wait of
// slow_headers, and the number of faults queued at once.
const (
	MaxFaultCount   = 1_000_000
	MaxFaultDelayMs = 600_000
	MaxQueuedFaults = 1000
)

// DefaultSlowHeadersDelay is the wait of a slow_headers fault that names none.
const DefaultSlowHeadersDelay = 5 * time.Second

// Fault is an injected failure: an error kind (answered before any byte, or, for
// a stream with AfterChunks > 0, as the shape's error frame after that many events), or a
// transport fault.
type Fault struct {
	Kind string `json:"fault"`
	// Count is how many requests the queued fault applies to (1 when 0).
	Count int `json:"count,omitempty"`
	// Model limits the fault to requests for one model.
	Model string `json:"model,omitempty"`
	// AfterChunks is the number of stream events sent before a mid-stream error or drop.
	AfterChunks int `json:"after_chunks,omitempty"`
	// DelayMs is the wait of slow_headers, in milliseconds.
	DelayMs int `json:"delay_ms,omitempty"`
}

// IsFaultKind reports whether kind names a fault: an error kind or a transport fault.
func IsFaultKind(kind string) bool {
	switch kind {
	case FaultStreamDrop, FaultHang, FaultSlowHeaders, "context_length":
		return true
	}
	if isSemanticFault(kind) {
		return true
	}
	return IsErrorKind(kind)
}

func (f Fault) validate() error {
	if !IsFaultKind(f.Kind) {
		return fmt.Errorf("unknown fault %q (known: %s, context_length, %s, %s, %s, %s)", f.Kind,
			strings.Join(ErrorKinds(), ", "), FaultStreamDrop, FaultHang, FaultSlowHeaders, strings.Join(semanticFaults, ", "))
	}
	if f.Count < 0 || f.AfterChunks < 0 || f.DelayMs < 0 {
		return fmt.Errorf("count, after_chunks and delay_ms must not be negative")
	}
	if f.Count > MaxFaultCount || f.AfterChunks > MaxFaultCount {
		return fmt.Errorf("count and after_chunks must be at most %d", MaxFaultCount)
	}
	if f.DelayMs > MaxFaultDelayMs {
		return fmt.Errorf("delay_ms must be at most %d (10 minutes)", MaxFaultDelayMs)
	}
	if len(f.Model) > maxModelName {
		return fmt.Errorf("model must have at most %d bytes", maxModelName)
	}
	return nil
}

// faultQueue holds queued faults and the random fault rate.
type faultQueue struct {
	mu    sync.Mutex // guards queue, rate, kinds, rng
	queue []Fault    // each with its remaining count
	rate  float64
	kinds []string   // what the rate draws from (DefaultFaultKinds unless WithFaultKinds)
	rng   *rand.Rand // seeded: which requests get a random fault is the same every run
	// idle is set, under mu, when no fault is queued and the rate is zero, so that a request
	// finds that out without taking the lock; whatever queues a fault or sets a rate clears
	// it.
	idle atomic.Bool
}

// DefaultFaultKinds are the bad-day answers --fault-rate draws from unless WithFaultKinds
// (--fault-kinds) names others.
var DefaultFaultKinds = []string{"internal", "overloaded", "timeout", "rate_limit_requests"}

// WithFaultKinds sets the faults that WithFaultRate's random draw picks from, each equally
// likely: any fault kind, including the semantic ones (invalid_tool_arguments, …).
func WithFaultKinds(kinds ...string) Option {
	return func(c *config) error {
		if len(kinds) == 0 {
			return fmt.Errorf("WithFaultKinds: no kind given")
		}
		for _, k := range kinds {
			if err := (Fault{Kind: k}).validate(); err != nil {
				return fmt.Errorf("WithFaultKinds: %v", err)
			}
		}
		c.faultKinds = append([]string(nil), kinds...)
		return nil
	}
}

// take returns the fault for a request to model: a queued one first, else a random one
// with probability rate.
func (q *faultQueue) take(model string) (Fault, bool) {
	if q.idle.Load() {
		return Fault{}, false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	defer func() { q.idle.Store(len(q.queue) == 0 && q.rate <= 0) }()
	for i := range q.queue {
		f := &q.queue[i]
		if f.Model != "" && f.Model != model {
			continue
		}
		out := *f
		f.Count--
		if f.Count <= 0 {
			q.queue = append(q.queue[:i], q.queue[i+1:]...)
		}
		return out, true
	}
	if q.rate > 0 && q.rng.Float64() < q.rate {
		return Fault{Kind: q.kinds[q.rng.IntN(len(q.kinds))]}, true
	}
	return Fault{}, false
}

// FailNext makes the next n requests fail with a fault kind: an error kind
// ("rate_limit_requests", "internal", …) or a transport fault ("stream_drop", "hang",
// "slow_headers"). QueueFault gives the other settings.
func (s *Server) FailNext(n int, kind string) error {
	return s.QueueFault(Fault{Kind: kind, Count: n})
}

// QueueFault queues a fault for the next requests (Count of them, 1 when 0), optionally for
// one model only. Faults are served in the order queued.
func (s *Server) QueueFault(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	if f.Count == 0 {
		f.Count = 1
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if len(s.faults.queue) >= MaxQueuedFaults {
		return fmt.Errorf("%d faults are already queued, the most the queue holds", MaxQueuedFaults)
	}
	s.faults.queue = append(s.faults.queue, f)
	s.faults.idle.Store(false)
	return nil
}

// SetFaultRate makes a seeded random fraction of requests (0 to 1) fail with an internal,
// overloaded, timeout or requests-per-minute error.
func (s *Server) SetFaultRate(rate float64) error {
	if !(rate >= 0 && rate <= 1) {
		return fmt.Errorf("fault rate %v is not in [0, 1]", rate)
	}
	s.faults.mu.Lock()
	s.faults.rate = rate
	s.faults.idle.Store(false)
	s.faults.mu.Unlock()
	return nil
}

func (s *Server) clearFaults() {
	s.faults.mu.Lock()
	s.faults.queue = nil
	s.faults.mu.Unlock()
}

// faultFromHeader reads X-Mock-Fault: KIND[; after_chunks=N][; delay_ms=N].
func faultFromHeader(h string) (Fault, *Error) {
	parts := strings.Split(h, ";")
	f := Fault{Kind: strings.TrimSpace(parts[0])}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil && errors.Is(err, strconv.ErrRange) {
			return f, errMock("invalid_fault", fmt.Sprintf("X-Mock-Fault: %s=%s is out of range.", k, capField(strings.TrimSpace(v), 64)))
		}
		switch {
		case err != nil:
			return f, errMock("invalid_fault", fmt.Sprintf("X-Mock-Fault: %q is not a number.", v))
		case k == "after_chunks":
			f.AfterChunks = n
		case k == "delay_ms":
			f.DelayMs = n
		default:
			return f, errMock("invalid_fault", fmt.Sprintf("X-Mock-Fault: unknown parameter %q (after_chunks, delay_ms).", k))
		}
	}
	if err := f.validate(); err != nil {
		return f, errMock("invalid_fault", "X-Mock-Fault: "+err.Error()+".")
	}
	return f, nil
}

// errorOfFault is the error a fault answers with, or nil for transport faults.
func (c *call) errorOfFault(f Fault) *Error {
	switch f.Kind {
	case FaultStreamDrop, FaultHang, FaultSlowHeaders:
		return nil
	case "context_length":
		return errContextLength(c.model.MaxInputTokens)
	}
	return errorOf(f.Kind)
}
