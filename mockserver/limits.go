package mockserver

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/qwenmock/qwenmock/mockserver/ratelimit"
)

// Bounds of run-time rate-limit settings: each limit, and how many models may have their own.
const (
	MaxRateLimit   = 1_000_000_000
	MaxModelLimits = 1000
	maxModelName   = 256
)

// rateLimiter resolves each model's limits and remembers which clients were told to wait.
// Limits are looked up per request, so changes at run time apply to the next request.
type rateLimiter struct {
	backend ratelimit.Backend // in memory, or shared in Redis (WithRedis)
	headers bool

	mu    sync.RWMutex // guards start, run, the estimates, notBefore, premature and accountOf
	start limitLayer   // what the options given to New say
	run   limitLayer   // what was changed at run time (SetLimits, PATCH /_mock/config)
	// startEstimate and runEstimate are the TPM estimate modes of the options and of run
	// time ("" when not changed at run time).
	startEstimate, runEstimate string
	// notBefore is, per scope, when the client that was told to wait (Retry-After) may come
	// back; a request before it is a premature retry.
	notBefore  map[ratelimit.Key]time.Time
	premature  map[ratelimit.Key]int
	accountOf  map[string]string // API key → account name (WithAccount)
	catalogued func(model string) RateLimits
	lru        scopeLRU // bounds the scopes kept (MaxScopes)
}

// scopeLocked is the rate-limit scope of a request: its account (the key itself, by its label,
// unless the key belongs to a named account) and the model as the client named it. The
// caller holds rl.mu.
func (rl *rateLimiter) scopeLocked(apiKey string, names *keyNames, model string) ratelimit.Key {
	if acct, ok := rl.accountOf[apiKey]; ok {
		return ratelimit.Key{Account: "account:" + acct, Model: model}
	}
	return ratelimit.Key{Account: names.scope, Model: model}
}

// admission is the limiter's answer to a call. The pipeline keeps it on the call; the wire
// adapter writes its headers with the answer (call.setHeaders).
type admission struct {
	ticket    ratelimit.Ticket
	admitted  bool
	premature bool // the client came back before the Retry-After it was given
	estimate  int  // the tokens reserved against TPM before the reply
	never     bool // refused because the estimate alone exceeds the TPM: no retry can pass

	show   bool                 // the rate-limit headers are to be sent (WithRateLimitHeaders)
	state  ratelimit.ScopeState // the scope's state that decided admission
	denial *ratelimit.Denial    // why the call was refused; nil when admitted

	key      ratelimit.Key // the scope asked
	limits   RateLimits    // the limits that applied
	at       time.Time     // the server's clock when asked
	deniedBy string        // the rule that refused: rpm, rps, tpm, tps or burst
}

// admit checks the call against its scope's window, as the real service limits requests
// and tokens per minute
// (https://www.alibabacloud.com/help/en/model-studio/rate-limiting-best-practices). The
// estimate follows the TPM estimate mode (see TPMEstimateDeclared); settle replaces it by
// what was used. A refusal is the real 429 for the limit that was hit. A request whose
// estimate alone exceeds the TPM can never pass: it gets no Retry-After, and its journal
// record says so. A shared store that cannot be reached refuses with a 503 (or, failing
// open, lets the call through unchecked). admit writes nothing: the answer goes back to the
// pipeline.
//
// The key's names (namesOf) are given, and the answer goes into adm.
func (s *Server) admitInto(c *call, apiKey string, names *keyNames, adm *admission) *Error {
	rl := s.rates
	now := s.clock.Now()
	catalogued := rl.catalogued(c.modelID)
	// The scope, its limits and the estimate mode, read in one hold of the lock, shared with
	// other requests; the premature-retry record, written only when the client was told
	// to wait, takes it alone.
	rl.mu.RLock()
	key := rl.scopeLocked(apiKey, names, c.modelID)
	lim := rl.limitsLocked(catalogued, c.modelID)
	mode := rl.tpmEstimateLocked()
	_, toldToWait := rl.notBefore[key]
	rl.mu.RUnlock()
	*adm = admission{key: key, limits: lim, at: now}
	if toldToWait {
		rl.mu.Lock()
		if nb, ok := rl.notBefore[key]; ok {
			if now.Before(nb) {
				adm.premature = true
				rl.premature[key]++
			} else {
				delete(rl.notBefore, key)
			}
		}
		rl.mu.Unlock()
	}
	rl.useScope(key)

	estimate := estimateOf(mode, c)
	adm.estimate = estimate
	// Not the request's context: a client that goes away must not look like a store
	// failure. The backend bounds the call with its own timeout.
	a, err := rl.backend.Admit(context.Background(), ratelimit.Request{
		Key: key, Limits: ratelimit.Limits{RPM: lim.RPM, TPM: lim.TPM}, Estimate: estimate, State: rl.headers,
	})
	if err != nil {
		return errStoreUnavailable() // the store logs when it goes and comes back
	}
	s.clock.follow(a.Offset)
	if a.Unchecked {
		adm.admitted = true
		return nil
	}
	ticket, denial := a.Ticket, a.Denial
	if denial != nil {
		adm.deniedBy = dimensionOf(denial)
	}
	if rl.headers {
		adm.show = true
		adm.state = a.State
		adm.denial = denial
		if denial != nil && denial.RetryAfter >= 0 {
			rl.mu.Lock()
			rl.notBefore[key] = now.Add(denial.RetryAfter)
			rl.mu.Unlock()
		}
	}
	if denial != nil {
		adm.never = denial.RetryAfter == ratelimit.Never
		switch denial.Kind {
		case ratelimit.Tokens:
			return errorOf("rate_limit_tokens")
		case ratelimit.Burst:
			return errorOf("burst")
		default:
			return errorOf("rate_limit_requests")
		}
	}
	adm.ticket, adm.admitted = ticket, true
	return nil
}

// settle records the tokens a call really used: prompt plus what was produced (for a
// stream, what was sent before it ended or the client went away).
func (s *Server) settle(adm *admission, tokens int) {
	if adm.admitted {
		// The in-process limiter never waits: only a shared store's call needs a deadline
		// (and a timer to enforce it).
		ctx := context.Background()
		if _, local := s.rates.backend.(*ratelimit.Local); !local {
			var cancel context.CancelFunc
			ctx, cancel = storeContext()
			defer cancel()
		}
		// If the store cannot be reached the reservation keeps its estimate until it
		// leaves the window: it errs towards charging too much, never admitting too much.
		_, _ = s.rates.backend.Settle(ctx, adm.ticket, tokens)
		s.history.settle(adm.key, adm.at, tokens-adm.estimate)
	}
}

// setRateLimitHeaders writes Retry-After, retry-after-ms and the x-ratelimit-* headers from
// the state that decided admission. The real service sends none of them; they exist for
// clients whose retry logic reads them (WithRateLimitHeaders).
func setRateLimitHeaders(h http.Header, st ratelimit.ScopeState, denial *ratelimit.Denial) {
	if st.Limits.RPM > 0 {
		h.Set("X-Ratelimit-Limit-Requests", strconv.Itoa(st.Limits.RPM))
		h.Set("X-Ratelimit-Remaining-Requests", strconv.Itoa(st.RemainingRequests))
		h.Set("X-Ratelimit-Reset-Requests", formatReset(st.ResetRequests))
	}
	if st.Limits.TPM > 0 {
		h.Set("X-Ratelimit-Limit-Tokens", strconv.Itoa(st.Limits.TPM))
		h.Set("X-Ratelimit-Remaining-Tokens", strconv.Itoa(st.RemainingTokens))
		h.Set("X-Ratelimit-Reset-Tokens", formatReset(st.ResetTokens))
	}
	if denial != nil && denial.RetryAfter >= 0 {
		ms := int64(math.Ceil(float64(denial.RetryAfter) / float64(time.Millisecond)))
		h.Set("Retry-After", strconv.FormatInt(max(1, (ms+999)/1000), 10))
		h.Set("Retry-After-Ms", strconv.FormatInt(max(1, ms), 10))
	}
}

// formatReset writes a duration as OpenAI's x-ratelimit-reset-* headers do ("1s", "6m0s",
// "250ms"), rounded up to the millisecond.
func formatReset(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	return (d + time.Millisecond - 1).Truncate(time.Millisecond).String()
}

// LimitState is one scope of GET /_mock/limits and Server.Limits.
type LimitState struct {
	Account           string  `json:"account"`
	Model             string  `json:"model"`
	RPM               int     `json:"rpm"`
	TPM               int     `json:"tpm"`
	Requests          int     `json:"requests"`
	Tokens            int     `json:"tokens"`
	RemainingRequests int     `json:"remaining_requests"` // -1 when unlimited
	RemainingTokens   int     `json:"remaining_tokens"`   // -1 when unlimited
	ResetRequestsSecs float64 `json:"reset_requests_seconds"`
	ResetTokensSecs   float64 `json:"reset_tokens_seconds"`
	PrematureRetries  int     `json:"premature_retries"`
}

// Limits reports every scope whose window holds requests, sorted by account then model.
// Keys are shown by label ("key:sk-…1234#3fa9c2e10b7d", see keyLabel); named accounts by
// name ("account:team-a").
// With WithRedis they are the scopes of every server sharing the Redis; if it cannot be
// reached, Limits returns nil (GET /_mock/limits answers 503).
func (s *Server) Limits() []LimitState {
	out, _ := s.limitStates()
	return out
}

func (s *Server) limitStates() ([]LimitState, error) {
	rl := s.rates
	ctx, cancel := storeContext()
	defer cancel()
	states, err := rl.backend.Snapshot(ctx, func(k ratelimit.Key) ratelimit.Limits {
		l := rl.limitsFor(k.Model)
		return ratelimit.Limits{RPM: l.RPM, TPM: l.TPM}
	})
	if err != nil {
		return nil, err
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	out := make([]LimitState, 0, len(states))
	for _, st := range states {
		out = append(out, LimitState{
			Account: st.Key.Account, Model: st.Key.Model,
			RPM: st.Limits.RPM, TPM: st.Limits.TPM, Requests: st.Requests, Tokens: st.Tokens,
			RemainingRequests: st.RemainingRequests, RemainingTokens: st.RemainingTokens,
			ResetRequestsSecs: st.ResetRequests.Seconds(), ResetTokensSecs: st.ResetTokens.Seconds(),
			PrematureRetries: rl.premature[st.Key],
		})
	}
	return out, nil
}

// ResetLimits clears every rate-limit window and the premature-retry records. With
// WithRedis it clears the windows of every server sharing the Redis (the premature-retry
// records are each server's own); if Redis cannot be reached the failure is logged.
func (s *Server) ResetLimits() {
	if err := s.resetLimits(); err != nil {
		s.log.Error("reset the rate limits", "err", err.Error())
	}
}

func (s *Server) resetLimits() error {
	ctx, cancel := storeContext()
	defer cancel()
	err := s.rates.backend.Reset(ctx)
	s.rates.lru.clear()
	s.rates.mu.Lock()
	clear(s.rates.notBefore)
	clear(s.rates.premature)
	s.rates.mu.Unlock()
	return err
}
