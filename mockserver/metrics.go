package mockserver

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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
	reg  *prometheus.Registry
	vllm *vllmMetrics

	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	tokens    *prometheus.CounterVec
	decisions *prometheus.CounterVec
	faults    *prometheus.CounterVec
	streams   prometheus.Gauge

	genDuration *prometheus.HistogramVec
	genTTFT     *prometheus.HistogramVec
	genTPOT     *prometheus.HistogramVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	model := []string{"model"}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "qwenmock_requests_total",
		Help: "Chat requests answered, by model, API shape, HTTP status and error code (empty on success).",
	}, []string{"model", "shape", "status", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "qwenmock_request_duration_seconds",
		Help:    "Wall time from a chat request's arrival to its last byte.",
		Buckets: genAIDurationBuckets,
	}, []string{"model", "shape"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "qwenmock_tokens_total",
		Help: "Tokens of answered requests by model and type: input, output (what reached the client), reasoning (part of output), cached (part of input).",
	}, append(model, "type"))
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "qwenmock_rate_limit_decisions_total",
		Help: "Rate-limiter decisions by model, dimension (rpm, tpm, rps, tps, burst) and result (admitted: one per enforced dimension; rejected: the dimension that refused).",
	}, append(model, "dimension", "result"))
	m.faults = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "qwenmock_faults_injected_total",
		Help: "Injected faults by kind.",
	}, []string{"kind"})
	m.streams = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "qwenmock_open_streams",
		Help: "Streamed answers being written now.",
	})
	journalEntries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "qwenmock_journal_entries",
		Help: "Requests held in the journal (GET /_mock/requests).",
	}, func() float64 { return float64(s.journal.len()) })

	genai := []string{"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_response_model"}
	m.genDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gen_ai_server_request_duration_seconds",
		Help:    "GenAI server request duration (OpenTelemetry semantic conventions " + GenAISemconvVersion + ").",
		Buckets: genAIDurationBuckets,
	}, append(genai, "error_type"))
	m.genTTFT = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gen_ai_server_time_to_first_token_seconds",
		Help:    "Time to the first streamed token of successful responses (OpenTelemetry semantic conventions " + GenAISemconvVersion + ").",
		Buckets: genAITTFTBuckets,
	}, genai)
	m.genTPOT = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gen_ai_server_time_per_output_token_seconds",
		Help:    "Time per output token after the first of successful streamed responses (OpenTelemetry semantic conventions " + GenAISemconvVersion + ").",
		Buckets: genAITPOTBuckets,
	}, genai)
	semconv := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "qwenmock_genai_semconv_info",
		Help:        "The OpenTelemetry GenAI semantic-conventions version the gen_ai_* families follow.",
		ConstLabels: prometheus.Labels{"version": GenAISemconvVersion},
	})
	semconv.Set(1)

	m.reg.MustRegister(m.requests, m.duration, m.tokens, m.decisions, m.faults, m.streams,
		journalEntries, &remainingCollector{s: s}, m.genDuration, m.genTTFT, m.genTPOT, semconv)
	if s.cfg.vllmMetrics {
		m.vllm = newVLLMMetrics(m.reg)
	}
	return m
}

// handler serves the registry in the Prometheus text (or negotiated) format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

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
	m.requests.WithLabelValues(model, rec.Shape, strconv.Itoa(rec.Status), rec.ErrorCode).Inc()
	m.duration.WithLabelValues(model, rec.Shape).Observe(elapsed.Seconds())
	if rec.Fault != "" {
		m.faults.WithLabelValues(rec.Fault).Inc()
	}
	ok := rec.Status == http.StatusOK
	if ok {
		m.tokens.WithLabelValues(model, "input").Add(float64(rec.PromptTokens))
		m.tokens.WithLabelValues(model, "output").Add(float64(rec.CompletionTokens))
		m.tokens.WithLabelValues(model, "reasoning").Add(float64(c.stats.reasoning))
		m.tokens.WithLabelValues(model, "cached").Add(float64(rec.CachedTokens))
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
	m.genDuration.WithLabelValues(append(labels, errType)...).Observe(elapsed.Seconds())
	var ttft time.Duration
	if ok && errType == "" && !c.stats.firstFrame.IsZero() {
		ttft = c.stats.firstFrame.Sub(c.start)
		m.genTTFT.WithLabelValues(labels...).Observe(ttft.Seconds())
		if rec.CompletionTokens > 1 {
			m.genTPOT.WithLabelValues(labels...).Observe((elapsed - ttft).Seconds() / float64(rec.CompletionTokens-1))
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
		m.decisions.WithLabelValues(model, adm.deniedBy, "rejected").Inc()
		return
	}
	for _, d := range enforced {
		m.decisions.WithLabelValues(model, d, "admitted").Inc()
	}
}

// streamOpen counts a stream being written (+1) or finished (−1).
func (m *metrics) streamOpen(delta int) {
	if m == nil {
		return
	}
	m.streams.Add(float64(delta))
	if m.vllm != nil {
		m.vllm.running.Add(float64(delta))
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

// remainingCollector exports GET /_mock/limits as gauges at scrape time.
type remainingCollector struct{ s *Server }

var (
	remainingDesc = prometheus.NewDesc("qwenmock_rate_limit_remaining",
		"Quota left in the current window per scope (account, or a redacted key), model and dimension (requests, tokens); at most MetricsMaxScopes scopes, fewest requests left first.",
		[]string{"scope", "model", "dimension"}, nil)
	limitDesc = prometheus.NewDesc("qwenmock_rate_limit_limit",
		"The per-minute limit that applies per scope, model and dimension (requests, tokens); same scopes as qwenmock_rate_limit_remaining.",
		[]string{"scope", "model", "dimension"}, nil)
	scopesDesc = prometheus.NewDesc("qwenmock_rate_limit_scopes",
		"Rate-limit scopes whose window holds requests, exported or not.", nil, nil)
)

func (rc *remainingCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- remainingDesc
	ch <- limitDesc
	ch <- scopesDesc
}

func (rc *remainingCollector) Collect(ch chan<- prometheus.Metric) {
	states := rc.s.Limits()
	ch <- prometheus.MustNewConstMetric(scopesDesc, prometheus.GaugeValue, float64(len(states)))
	for _, st := range closestToLimit(states, MetricsMaxScopes) {
		for _, d := range []struct {
			name             string
			limit, remaining int
		}{{"requests", st.RPM, st.RemainingRequests}, {"tokens", st.TPM, st.RemainingTokens}} {
			if d.limit <= 0 {
				continue // unlimited: nothing remains to count down
			}
			ch <- prometheus.MustNewConstMetric(remainingDesc, prometheus.GaugeValue, float64(d.remaining), st.Account, st.Model, d.name)
			ch <- prometheus.MustNewConstMetric(limitDesc, prometheus.GaugeValue, float64(d.limit), st.Account, st.Model, d.name)
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
