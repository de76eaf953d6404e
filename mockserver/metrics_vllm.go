package mockserver

import (
	"net/http"
	"time"
)

// vLLM's bucket boundaries (vllm/v1/metrics/loggers.py).
var (
	vllmTTFTBuckets    = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10, 20, 40, 80, 160, 640, 2560}
	vllmTPOTBuckets    = []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80}
	vllmLatencyBuckets = []float64{0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680}
	// vllmTokenBuckets is vLLM's 1-2-5 series up to the largest context qwenmock serves.
	vllmTokenBuckets = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000}
)

// vllmMetrics is the vLLM-compatible set (WithVLLMMetrics): the series the reference vLLM
// Grafana dashboard queries, labelled model_name. qwenmock has no queue, prefill or KV cache:
// num_requests_waiting and kv_cache_usage_perc stay 0 and queue time is observed as 0.
type vllmMetrics struct {
	running, waiting, kvCache               *metricSeries
	promptTokens, generationTokens, success *metricFamily
	e2e, ttft, itl, tpot, queue             *metricFamily
	promptHist, generationHist              *metricFamily
}

func newVLLMMetrics(r *metricRegistry) *vllmMetrics {
	model := []string{"model_name"}
	hist := func(name, help string, buckets []float64) *metricFamily {
		return r.family(name, help, kindHistogram, model, buckets...)
	}
	counter := func(name, help string, labels ...string) *metricFamily {
		return r.family(name, help, kindCounter, append(model, labels...))
	}
	gauge := func(name, help string) *metricSeries {
		return r.single(name, help, kindGauge)
	}
	return &vllmMetrics{
		running:          gauge("vllm:num_requests_running", "Requests being streamed now."),
		waiting:          gauge("vllm:num_requests_waiting", "Requests waiting (always 0: qwenmock has no queue)."),
		kvCache:          gauge("vllm:kv_cache_usage_perc", "KV-cache usage (always 0: qwenmock has no KV cache)."),
		promptTokens:     counter("vllm:prompt_tokens_total", "Prompt tokens of successful requests."),
		generationTokens: counter("vllm:generation_tokens_total", "Generated tokens that reached the client."),
		success:          counter("vllm:request_success_total", "Finished requests by finished_reason (stop, length, abort).", "finished_reason"),
		e2e:              hist("vllm:e2e_request_latency_seconds", "End-to-end request latency of successful requests.", vllmLatencyBuckets),
		ttft:             hist("vllm:time_to_first_token_seconds", "Time to the first token (streams: first event; otherwise the whole answer).", vllmTTFTBuckets),
		itl:              hist("vllm:inter_token_latency_seconds", "Mean time between output tokens of streamed answers.", vllmTPOTBuckets),
		tpot:             hist("vllm:request_time_per_output_token_seconds", "Time per output token after the first.", vllmTPOTBuckets),
		queue:            hist("vllm:request_queue_time_seconds", "Time in the queue (always 0).", vllmLatencyBuckets),
		promptHist:       hist("vllm:request_prompt_tokens", "Prompt tokens per successful request.", vllmTokenBuckets),
		generationHist:   hist("vllm:request_generation_tokens", "Generated tokens per successful request.", vllmTokenBuckets),
	}
}

// request records a finished request the way vLLM would: successes only, with
// finished_reason stop, length or abort (a stream cut by a fault or the client).
func (v *vllmMetrics) request(model string, rec *RequestRecord, elapsed, ttft time.Duration, notStreamed bool) {
	if v == nil || rec.Status != http.StatusOK {
		return
	}
	reason := "stop"
	switch {
	case rec.ErrorCode != "" || rec.Fault == FaultStreamDrop:
		reason = "abort"
	case rec.FinishReason == "length":
		reason = "length"
	}
	v.success.with(model, reason).inc()
	v.promptTokens.with(model).add(rec.PromptTokens)
	v.generationTokens.with(model).add(rec.CompletionTokens)
	v.promptHist.with(model).observe(float64(rec.PromptTokens))
	v.generationHist.with(model).observe(float64(rec.CompletionTokens))
	v.e2e.with(model).observe(elapsed.Seconds())
	v.queue.with(model).observe(0)
	if notStreamed {
		ttft = elapsed
	}
	v.ttft.with(model).observe(ttft.Seconds())
	if rec.CompletionTokens > 1 {
		per := (elapsed - ttft).Seconds() / float64(rec.CompletionTokens-1)
		v.tpot.with(model).observe(per)
		v.itl.with(model).observe(per)
	}
}
