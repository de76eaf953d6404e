package mockserver

import (
	"cmp"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/qwenmock/qwenmock/mockserver/ratelimit"
)

// historySeconds is the span of GET /_mock/limits/history: the rate limiter's window.
const historySeconds = 60

// HistoryMaxScopes bounds the scopes the window history keeps; past it the scope updated
// longest ago is forgotten. One scope holds 60 × 4 int64 (about 2 KiB), so the history stays
// under 512 KiB.
const HistoryMaxScopes = 256

// windowHistory counts, per rate-limit scope and second of the server's clock, the requests
// admitted, the tokens they count (estimates until settled, as the limiter counts them) and
// the requests refused, over the last historySeconds. It feeds the dashboard's charts.
type windowHistory struct {
	mu     sync.Mutex // guards scopes
	scopes map[ratelimit.Key]*scopeHistory
}

type scopeHistory struct {
	last                   int64                 // the newest second written
	sec                    [historySeconds]int64 // the Unix second each slot holds
	requests, tokens, rejd [historySeconds]int64 // per slot
}

func newWindowHistory() *windowHistory {
	return &windowHistory{scopes: map[ratelimit.Key]*scopeHistory{}}
}

// slot returns the slot of second sec, emptied if it held an older second.
func (h *scopeHistory) slot(sec int64) int {
	i := int(((sec % historySeconds) + historySeconds) % historySeconds)
	if h.sec[i] != sec {
		h.sec[i], h.requests[i], h.tokens[i], h.rejd[i] = sec, 0, 0, 0
	}
	return i
}

// record notes one decision of the limiter at server time now.
func (wh *windowHistory) record(key ratelimit.Key, now time.Time, admitted bool, tokens int) {
	sec := now.Unix()
	wh.mu.Lock()
	defer wh.mu.Unlock()
	h, ok := wh.scopes[key]
	if !ok {
		if len(wh.scopes) >= HistoryMaxScopes {
			var oldest ratelimit.Key
			first := true
			for k, v := range wh.scopes {
				if first || v.last < wh.scopes[oldest].last {
					oldest, first = k, false
				}
			}
			delete(wh.scopes, oldest)
		}
		h = &scopeHistory{}
		for i := range h.sec {
			h.sec[i] = -1
		}
		wh.scopes[key] = h
	}
	h.last = max(h.last, sec)
	i := h.slot(sec)
	if admitted {
		h.requests[i]++
		h.tokens[i] += int64(tokens)
	} else {
		h.rejd[i]++
	}
}

// settle replaces the estimate of a request admitted at time at by what it used.
func (wh *windowHistory) settle(key ratelimit.Key, at time.Time, delta int) {
	sec := at.Unix()
	wh.mu.Lock()
	defer wh.mu.Unlock()
	if h, ok := wh.scopes[key]; ok {
		if i := int(((sec % historySeconds) + historySeconds) % historySeconds); h.sec[i] == sec {
			h.tokens[i] += int64(delta)
		}
	}
}

func (wh *windowHistory) clear() {
	wh.mu.Lock()
	clear(wh.scopes)
	wh.mu.Unlock()
}

// ScopeHistory is one scope of GET /_mock/limits/history: its limits and state now, and per
// second of the server's clock, oldest first (the last entry is the current second), the
// requests admitted, the tokens they count and the requests refused.
type ScopeHistory struct {
	LimitState
	RequestsPerSecond []int64 `json:"requests_per_second"`
	TokensPerSecond   []int64 `json:"tokens_per_second"`
	RejectedPerSecond []int64 `json:"rejected_per_second"`
}

// LimitsHistory is GET /_mock/limits/history.
type LimitsHistory struct {
	Now            time.Time      `json:"now"`
	WindowSeconds  int            `json:"window_seconds"`
	JournalEntries int            `json:"journal_entries"`
	JournalLastSeq int64          `json:"journal_last_seq"`
	JournalClears  int64          `json:"journal_clears"` // changes when the journal is cleared or reset
	Scopes         []ScopeHistory `json:"scopes"`
}

// LimitsHistory returns, for every scope that saw a decision in the last 60 s of the server's
// clock, its per-second history and its state now, sorted by account then model.
func (s *Server) LimitsHistory() LimitsHistory {
	now := s.clock.Now()
	nowSec := now.Unix()
	out := LimitsHistory{Now: now.UTC(), WindowSeconds: historySeconds}
	out.JournalEntries, out.JournalLastSeq, out.JournalClears = s.journal.stats()
	rl := s.rates
	s.history.mu.Lock()
	for key, h := range s.history.scopes {
		if h.last <= nowSec-historySeconds {
			continue
		}
		sh := ScopeHistory{RequestsPerSecond: make([]int64, historySeconds), TokensPerSecond: make([]int64, historySeconds), RejectedPerSecond: make([]int64, historySeconds)}
		for j := range historySeconds {
			sec := nowSec - historySeconds + 1 + int64(j)
			i := int(((sec % historySeconds) + historySeconds) % historySeconds)
			if h.sec[i] == sec {
				sh.RequestsPerSecond[j], sh.TokensPerSecond[j], sh.RejectedPerSecond[j] = h.requests[i], h.tokens[i], h.rejd[i]
			}
		}
		sh.Account, sh.Model = key.Account, key.Model
		out.Scopes = append(out.Scopes, sh)
	}
	s.history.mu.Unlock()
	now2 := map[ratelimit.Key]LimitState{}
	for _, st := range s.Limits() {
		now2[ratelimit.Key{Account: st.Account, Model: st.Model}] = st
	}
	for i := range out.Scopes {
		sh := &out.Scopes[i]
		st, ok := now2[ratelimit.Key{Account: sh.Account, Model: sh.Model}]
		if !ok { // the window is empty now
			l := rl.limitsFor(sh.Model)
			st = LimitState{Account: sh.Account, Model: sh.Model, RPM: l.RPM, TPM: l.TPM, RemainingRequests: -1, RemainingTokens: -1}
			if l.RPM > 0 {
				st.RemainingRequests = l.RPM
			}
			if l.TPM > 0 {
				st.RemainingTokens = l.TPM
			}
		}
		sh.LimitState = st
	}
	slices.SortFunc(out.Scopes, func(a, b ScopeHistory) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Model, b.Model))
	})
	if out.Scopes == nil {
		out.Scopes = []ScopeHistory{}
	}
	return out
}

func (s *Server) handleLimitsHistory(w http.ResponseWriter, r *http.Request) {
	writeControl(w, http.StatusOK, s.LimitsHistory())
}
