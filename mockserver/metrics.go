package mockserver

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/qwenmock/qwenmock/mockserver/ratelimit"
)

// GenAISemconvVersion is the version of the OpenTelemetry GenAI semantic conventions whose
// server metrics (names, units, bucket boundaries, attributes) /metrics follows.
const GenAISemconvVersion = "1.42.0"

// GenAIProvider is the gen_ai.provider.name qwenmock reports. The conventions list no value
// for Alibaba Cloud Model Studio; "dashscope" is the one in common use.
const GenAIProvider = "dashscope"

// MetricsMaxScopes bounds the rate-limit scopes (account × model) that
// qwenmock_rate_limit_remaining exports in one scrape: the scopes with the least quota left
// come first, the rest are left out (qwenmock_rate_limit_scopes counts them all).
const MetricsMaxScopes = 50

// Bucket boundaries of the GenAI semantic conventions.
var (
	genAIDurationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	genAITTFTBuckets     = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0}
	genAITPOTBuckets     = []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5}
)

// WithoutMetrics turns GET /metrics off (it is on by default).
func WithoutMetrics() Option {
	return func(c *config) error {
		c.noMetrics = true
		return nil
	}
}

// WithVLLMMetrics adds to GET /metrics the vLLM-compatible families (vllm:*, label
// model_name), so that dashboards built for vLLM work against qwenmock.
func WithVLLMMetrics() Option {
	return func(c *config) error {
		c.vllmMetrics = true
		return nil
	}
}

// callStats is what the pipeline notes on a call for the metrics.
type callStats struct {
	firstFrame time.Time // wall time the first stream event carrying tokens reached the client
	reasoning  int       // reasoning tokens of the reply that reached the client
}

// metrics is the pipeline's observer: serveChat calls request once per finished chat
// request, admit calls decision once per limiter answer. A nil *metrics does nothing.
type metrics struct {
	reg  *metricRegistry
	vllm *vllmMetrics

	requests  *metricFamily
	duration  *metricFamily
	tokens    *metricFamily
	decisions *metricFamily
	faults    *metricFamily
	streams   *metricSeries

	genDuration *metricFamily
	genTTFT     *metricFamily
	genTPOT     *metricFamily
}

func newMetrics(s *Server) *metrics {
	r := newMetricRegistry()
	m := &metrics{reg: r}
	m.requests = r.family("qwenmock_requests_total",
		"Chat requests answered, by model, API shape, HTTP status and error code (empty on success).",
		kindCounter, []string{"model", "shape", "status", "code"})
	m.duration = r.family("qwenmock_request_duration_seconds",
		"Wall time from a chat request's arrival to its last byte.",
		kindHistogram, []string{"model", "shape"}, genAIDurationBuckets...)
	m.tokens = r.family("qwenmock_tokens_total",
		"Tokens of answered requests by model and type: input, output (what reached the client), reasoning (part of output), cached (part of input).",
		kindCounter, []string{"model", "type"})
	m.decisions = r.family("qwenmock_rate_limit_decisions_total",
		"Rate-limiter decisions by model, dimension (rpm, tpm, rps, tps, burst) and result (admitted: one per enforced dimension; rejected: the dimension that refused).",
		kindCounter, []string{"model", "dimension", "result"})
	m.faults = r.family("qwenmock_faults_injected_total", "Injected faults by kind.", kindCounter, []string{"kind"})
	m.streams = r.single("qwenmock_open_streams", "Streamed answers being written now.", kindGauge)

	journalEntries := r.family("qwenmock_journal_entries", "Requests held in the journal (GET /_mock/requests).", kindGauge, nil)
	r.collect(func(emit func(*metricFamily, float64, ...string)) {
		emit(journalEntries, float64(s.journal.len()))
	})
	r.collect(rateLimitGauges(r, s))

	genai := []string{"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_response_model"}
	m.genDuration = r.family("gen_ai_server_request_duration_seconds",
		"GenAI server request duration (OpenTelemetry semantic conventions "+GenAISemconvVersion+").",
		kindHistogram, append(genai, "error_type"), genAIDurationBuckets...)
	m.genTTFT = r.family("gen_ai_server_time_to_first_token_seconds",
		"Time to the first streamed token of successful responses (OpenTelemetry semantic conventions "+GenAISemconvVersion+").",
		kindHistogram, genai, genAITTFTBuckets...)
	m.genTPOT = r.family("gen_ai_server_time_per_output_token_seconds",
		"Time per output token after the first of successful streamed responses (OpenTelemetry semantic conventions "+GenAISemconvVersion+").",
		kindHistogram, genai, genAITPOTBuckets...)
	r.family("qwenmock_genai_semconv_info",
		"The OpenTelemetry GenAI semantic-conventions version the gen_ai_* families follow.",
		kindGauge, []string{"version"}).with(GenAISemconvVersion).gaugeSet(1)

	if s.cfg.vllmMetrics {
		m.vllm = newVLLMMetrics(r)
	}
	return m
}

// handler serves the metrics in the Prometheus text format.
func (m *metrics) handler() http.Handler { return m.reg.handler() }

// modelLabel keeps the model label bounded: a model the catalogue knows keeps the name the
// client used (an id or an alias), any other name becomes "_unknown".
func modelLabel(c *call, rec *RequestRecord) string {
	switch {
	case c.model != nil:
		return c.modelID
	case rec.Model != "":
		return "_unknown"
	}
	return ""
}

// request records one finished chat request.
func (m *metrics) request(c *call, rec *RequestRecord, elapsed time.Duration) {
	if m == nil {
		return
	}
	model := modelLabel(c, rec)
	m.requests.with(model, rec.Shape, strconv.Itoa(rec.Status), rec.ErrorCode).inc()
	m.duration.with(model, rec.Shape).observe(elapsed.Seconds())
	if rec.Fault != "" {
		m.faults.with(rec.Fault).inc()
	}
	ok := rec.Status == http.StatusOK
	if ok {
		m.tokens.with(model, "input").add(rec.PromptTokens)
		m.tokens.with(model, "output").add(rec.CompletionTokens)
		m.tokens.with(model, "reasoning").add(c.stats.reasoning)
		m.tokens.with(model, "cached").add(rec.CachedTokens)
	}

	responseModel := ""
	if c.model != nil {
		responseModel = c.model.ID
	}
	errType := rec.ErrorCode
	if errType == "" && rec.Fault == FaultStreamDrop {
		errType = FaultStreamDrop
	} else if errType == "" && !ok {
		errType = "_OTHER"
	}
	labels := []string{"chat", GenAIProvider, model, responseModel}
	m.genDuration.with(append(labels, errType)...).observe(elapsed.Seconds())
	var ttft time.Duration
	if ok && errType == "" && !c.stats.firstFrame.IsZero() {
		ttft = c.stats.firstFrame.Sub(c.start)
		m.genTTFT.with(labels...).observe(ttft.Seconds())
		if rec.CompletionTokens > 1 {
			m.genTPOT.with(labels...).observe((elapsed - ttft).Seconds() / float64(rec.CompletionTokens-1))
		}
	}
	m.vllm.request(model, rec, elapsed, ttft, c.stats.firstFrame.IsZero())
}

// decision records one answer of the rate limiter.
func (m *metrics) decision(model string, adm *admission, enforced []string) {
	if m == nil {
		return
	}
	if !adm.admitted && adm.deniedBy != "" {
		m.decisions.with(model, adm.deniedBy, "rejected").inc()
		return
	}
	for _, d := range enforced {
		m.decisions.with(model, d, "admitted").inc()
	}
}

// streamOpen counts a stream being written (+1) or finished (−1).
func (m *metrics) streamOpen(delta int) {
	if m == nil {
		return
	}
	m.streams.gaugeAdd(int64(delta))
	if m.vllm != nil {
		m.vllm.running.gaugeAdd(int64(delta))
	}
}

// dimensionOf names the rule that refused: rpm, rps, tpm, tps or burst.
func dimensionOf(d *ratelimit.Denial) string {
	switch d.Kind {
	case ratelimit.Burst:
		return "burst"
	case ratelimit.Tokens:
		if d.Window < time.Minute {
			return "tps"
		}
		return "tpm"
	default:
		if d.Window < time.Minute {
			return "rps"
		}
		return "rpm"
	}
}

// enforcedDimensions lists the rules that applied to a request under limits l.
func (s *Server) enforcedDimensions(l RateLimits) []string {
	var out []string
	if l.RPM > 0 {
		out = append(out, "rpm")
		if s.cfg.perSecond {
			out = append(out, "rps")
		}
	}
	if l.TPM > 0 {
		out = append(out, "tpm")
		if s.cfg.perSecond {
			out = append(out, "tps")
		}
	}
	if s.cfg.burst && (l.RPM > 0 || l.TPM > 0) {
		out = append(out, "burst")
	}
	return out
}

// rateLimitGauges exports GET /_mock/limits as gauges at scrape time.
func rateLimitGauges(r *metricRegistry, s *Server) func(emit func(*metricFamily, float64, ...string)) {
	labels := []string{"scope", "model", "dimension"}
	remaining := r.family("qwenmock_rate_limit_remaining",
		"Quota left in the current window per scope (account, or a redacted key), model and dimension (requests, tokens); at most MetricsMaxScopes scopes, fewest requests left first.",
		kindGauge, labels)
	limit := r.family("qwenmock_rate_limit_limit",
		"The per-minute limit that applies per scope, model and dimension (requests, tokens); same scopes as qwenmock_rate_limit_remaining.",
		kindGauge, labels)
	scopes := r.family("qwenmock_rate_limit_scopes", "Rate-limit scopes whose window holds requests, exported or not.", kindGauge, nil)
	return func(emit func(*metricFamily, float64, ...string)) {
		states := s.Limits()
		emit(scopes, float64(len(states)))
		for _, st := range closestToLimit(states, MetricsMaxScopes) {
			for _, d := range []struct {
				name             string
				limit, remaining int
			}{{"requests", st.RPM, st.RemainingRequests}, {"tokens", st.TPM, st.RemainingTokens}} {
				if d.limit <= 0 {
					continue // unlimited: nothing remains to count down
				}
				emit(remaining, float64(d.remaining), st.Account, st.Model, d.name)
				emit(limit, float64(d.limit), st.Account, st.Model, d.name)
			}
		}
	}
}

// closestToLimit keeps at most n scopes: those with the smallest share of a limit left
// (unlimited dimensions count as fully left), in a stable order.
func closestToLimit(states []LimitState, n int) []LimitState {
	if len(states) <= n {
		return states
	}
	left := func(st LimitState) float64 {
		f := 1.0
		if st.RPM > 0 {
			f = min(f, float64(st.RemainingRequests)/float64(st.RPM))
		}
		if st.TPM > 0 {
			f = min(f, float64(st.RemainingTokens)/float64(st.TPM))
		}
		return f
	}
	out := slices.Clone(states)
	slices.SortStableFunc(out, func(a, b LimitState) int { return cmp.Compare(left(a), left(b)) })
	return out[:n]
}

// observeDecision is told each answer of the rate limiter: the window history and the
// metrics record it.
func (s *Server) observeDecision(c *call, adm *admission) {
	s.history.record(adm.key, adm.at, adm.admitted, adm.estimate)
	s.metrics.decision(c.modelID, adm, s.enforcedDimensions(adm.limits))
}

// metricsGuard asks for the admin token, when one is set, before the metrics. Scrapers run
// anywhere, so there is no Origin or Host check: without a token /metrics is public.
func (s *Server) metricsGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.adminToken != "" && !tokenMatches(bearerKey(r.Header.Get("Authorization")), s.cfg.adminToken) {
			s.writeControlError(w, r, errAdminToken())
			return
		}
		next.ServeHTTP(w, r)
	})
}
