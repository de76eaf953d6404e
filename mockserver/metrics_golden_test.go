package mockserver

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// metricsObservation is one finished request as the pipeline reports it to the metrics.
type metricsObservation struct {
	model                      string // as the client named it; "" for none
	shape                      string
	status                     int
	code, fault, finish        string
	prompt, completion, cached int
	reasoning                  int
	elapsed                    time.Duration
	firstFrame                 time.Duration // after the start; 0: no token was streamed
}

// metricsObservations covers every branch of metrics.request: successes on several shapes
// and models (an alias among them), streams with and without a first token, a length stop,
// a 429, an injected error before the answer, a mid-stream error, a stream cut by a fault,
// an unknown model, a request without a model and a client that went away.
var metricsObservations = []metricsObservation{
	{model: "qwen3-max", shape: "compatible", status: 200, finish: "stop", prompt: 12, completion: 40, elapsed: 1234567 * time.Microsecond},
	{model: "qwen3-max", shape: "compatible", status: 200, finish: "stop", prompt: 12, completion: 33, cached: 8, reasoning: 20, elapsed: 2500 * time.Millisecond, firstFrame: 180 * time.Millisecond},
	{model: "qwen3-max", shape: "native", status: 200, finish: "length", prompt: 7, completion: 1, elapsed: 35 * time.Millisecond, firstFrame: 30 * time.Millisecond},
	{model: "qwen3-max-2026-01-23", shape: "anthropic", status: 200, finish: "stop", prompt: 1000000, completion: 250000, elapsed: 90 * time.Second, firstFrame: 700 * time.Millisecond},
	{model: "qwen-plus", shape: "responses", status: 200, finish: "stop", prompt: 3, completion: 2, elapsed: 4 * time.Millisecond},
	{model: "qwen-plus", shape: "compatible", status: 429, code: "limit_requests", elapsed: 1 * time.Millisecond},
	{model: "qwen-plus", shape: "compatible", status: 500, code: "internal_server_error", fault: "internal", elapsed: 2 * time.Millisecond},
	{model: "qwen-plus", shape: "compatible", status: 200, code: "internal_server_error", fault: "internal", finish: "stop", prompt: 5, completion: 6, elapsed: 640 * time.Millisecond, firstFrame: 80 * time.Millisecond},
	{model: "qwen3-max", shape: "compatible", status: 200, fault: "stream_drop", finish: "stop", prompt: 9, completion: 3, elapsed: 320 * time.Millisecond, firstFrame: 10 * time.Millisecond},
	{model: "qwen-nope", shape: "compatible", status: 404, code: "model_not_found", elapsed: 500 * time.Microsecond},
	{shape: "native", status: 400, code: "missing_model", elapsed: 100 * time.Microsecond},
	{model: "qwen3-max", shape: "process", status: 499, code: "client_closed_request", prompt: 4, elapsed: 81920 * time.Millisecond},
	{model: "qwen3-max", shape: "compatible", status: 200, finish: "stop", prompt: 12, completion: 40, elapsed: 10240 * time.Millisecond, firstFrame: 10 * time.Second},
}

// observe reports o to m as serveChat would.
func (o metricsObservation) observe(srv *Server, m *metrics) {
	c := &call{start: testTime}
	if mod, ok := srv.models.lookup(o.model); ok {
		c.model, c.modelID = mod, o.model
	}
	if o.firstFrame > 0 {
		c.stats.firstFrame = testTime.Add(o.firstFrame)
	}
	c.stats.reasoning = o.reasoning
	rec := &RequestRecord{Model: o.model, Shape: o.shape, Status: o.status, ErrorCode: o.code, Fault: o.fault,
		FinishReason: o.finish, PromptTokens: o.prompt, CompletionTokens: o.completion, CachedTokens: o.cached}
	m.request(c, rec, o.elapsed)
}

// TestMetricsExpositionGolden feeds a fixed set of observations — requests, limiter decisions,
// open streams — and the scrape-time gauges of a server with two rate-limit scopes into a
// fresh metrics set, and compares the whole /metrics text with testdata/golden/metrics.txt:
// every family name, help text, type, label, bucket boundary, value and their order.
func TestMetricsExpositionGolden(t *testing.T) {
	srv := newTestHandler(t, WithModelLimits("qwen3-max", RateLimits{RPM: 3, TPM: 100000}), WithVLLMMetrics())
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"Say hello."}]}`
	for i, key := range []string{"sk-aaaaaaaa1111", "sk-aaaaaaaa1111", "sk-bbbbbbbb2222"} {
		if rec := do(t, srv, http.MethodPost, "/compatible-mode/v1/chat/completions", key, body); rec.Code != 200 {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
	}

	m := newMetrics(srv)
	for _, o := range metricsObservations {
		o.observe(srv, m)
	}
	for _, d := range []struct {
		model    string
		adm      admission
		enforced []string
	}{
		{"qwen3-max", admission{admitted: true}, []string{"rpm", "tpm"}},
		{"qwen3-max", admission{admitted: true}, []string{"rpm", "rps", "tpm", "tps", "burst"}},
		{"qwen3-max", admission{deniedBy: "rpm"}, nil},
		{"qwen-plus", admission{deniedBy: "burst"}, nil},
		{"qwen-plus", admission{admitted: true}, nil},
	} {
		m.decision(d.model, &d.adm, d.enforced)
	}
	m.streamOpen(1)
	m.streamOpen(1)
	m.streamOpen(-1)

	rec := httptest.NewRecorder()
	m.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	golden(t, "metrics.txt", rec.Body.Bytes())
}

// BenchmarkMetricsRequest measures the pipeline's observer: one op reports every request of
// metricsObservations (13) and two limiter decisions, from all Ps at once.
func BenchmarkMetricsRequest(b *testing.B) {
	srv, err := New(WithVLLMMetrics())
	if err != nil {
		b.Fatal(err)
	}
	m := newMetrics(srv)
	adm := &admission{admitted: true}
	enforced := []string{"rpm", "tpm"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for _, o := range metricsObservations {
				o.observe(srv, m)
			}
			m.decision("qwen3-max", adm, enforced)
			m.decision("qwen-plus", adm, enforced)
		}
	})
}

// BenchmarkMetricsScrape measures GET /metrics after metricsObservations.
func BenchmarkMetricsScrape(b *testing.B) {
	srv, err := New(WithVLLMMetrics())
	if err != nil {
		b.Fatal(err)
	}
	m := newMetrics(srv)
	for _, o := range metricsObservations {
		o.observe(srv, m)
	}
	h := m.handler()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}
