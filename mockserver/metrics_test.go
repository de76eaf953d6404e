package mockserver

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads GET /metrics of a running server and parses it as Prometheus text.
func scrape(t *testing.T, url string, headers ...string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, body := send(t, http.MethodGet, url+"/metrics", "", headers...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse exposition: %v\n%s", err, body)
	}
	return fams
}

// series returns, for one family, each series' labels (as "k=v,…", sorted) and its value:
// a counter's or gauge's value, a histogram's count.
func series(fams map[string]*dto.MetricFamily, name string) map[string]float64 {
	out := map[string]float64{}
	f, ok := fams[name]
	if !ok {
		return out
	}
	for _, m := range f.Metric {
		var ls []string
		for _, l := range m.Label {
			if l.GetValue() != "" { // an empty label is no label to Prometheus
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
		}
		slices.Sort(ls)
		key := strings.Join(ls, ",")
		switch {
		case m.Counter != nil:
			out[key] = m.Counter.GetValue()
		case m.Gauge != nil:
			out[key] = m.Gauge.GetValue()
		case m.Histogram != nil:
			out[key] = float64(m.Histogram.GetSampleCount())
		}
	}
	return out
}

func expectSeries(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]float64) {
	t.Helper()
	got := series(fams, name)
	if !maps.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", name, got, want)
	}
}

// TestMetricsScriptedSequence sends a known sequence — successes on two shapes, a stream, a
// 429, a fault before the answer, a stream cut by a fault, an unknown model — and checks
// every series of qwenmock's own family, the GenAI histograms' counts and the vLLM set.
func TestMetricsScriptedSequence(t *testing.T) {
	srv := newTestHandler(t, WithModelLimits("qwen3-max", RateLimits{RPM: 3, TPM: 100000}), WithVLLMMetrics())
	ts := serveHTTP(t, srv)

	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"Say hello."}]}`
	stream := `{"model":"qwen3-max","stream":true,"messages":[{"role":"user","content":"Say hello."}]}`
	keyA := []string{"Authorization", "Bearer sk-aaaaaaaa1111"}
	keyB := []string{"Authorization", "Bearer sk-bbbbbbbb2222"}

	// A: three successes (one streamed) fill its RPM of 3; the fourth gets the RPM 429.
	if code, out := post(t, ts, body, keyA...); code != 200 {
		t.Fatalf("1: %d %s", code, out)
	}
	resp, out := send(t, http.MethodPost, ts.OpenAIBaseURL()+"/chat/completions", stream, append(apiHeaders(), keyA...)...)
	if resp.StatusCode != 200 || !strings.HasSuffix(string(out), "data: [DONE]\n\n") {
		t.Fatalf("2: %d %s", resp.StatusCode, out)
	}
	if code, out := post(t, ts, body, keyA...); code != 200 {
		t.Fatalf("3: %d %s", code, out)
	}
	if code, out := post(t, ts, body, keyA...); code != 429 || !strings.Contains(string(out), `"limit_requests"`) {
		t.Fatalf("4: want the RPM 429, got %d %s", code, out)
	}
	// B: a fault before the answer, an unknown model, a native success, a stream the fault cuts.
	if code, out := post(t, ts, body, append(keyB, "X-Mock-Fault", "internal")...); code != 500 {
		t.Fatalf("5: %d %s", code, out)
	}
	if code, out := post(t, ts, `{"model":"qwen-nope","messages":[{"role":"user","content":"x"}]}`, keyB...); code != 404 {
		t.Fatalf("6: %d %s", code, out)
	}
	if resp, out := postNative(t, ts, `{"model":"qwen3-max","input":{"messages":[{"role":"user","content":"Say hello."}]}}`, keyB...); resp.StatusCode != 200 {
		t.Fatalf("7: %d %s", resp.StatusCode, out)
	}
	req, _ := http.NewRequest(http.MethodPost, ts.OpenAIBaseURL()+"/chat/completions", strings.NewReader(stream))
	req.Header.Set("Authorization", "Bearer sk-bbbbbbbb2222")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Mock-Fault", "stream_drop; after_chunks=1")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	recs := srv.Requests()
	if len(recs) != 8 {
		t.Fatalf("journal: %d records\n%s", len(recs), describe(recs))
	}
	var in, outTok, cached float64
	for _, r := range recs {
		if r.Status == 200 {
			in += float64(r.PromptTokens)
			outTok += float64(r.CompletionTokens)
			cached += float64(r.CachedTokens)
		}
	}
	if in == 0 || outTok == 0 {
		t.Fatalf("no tokens recorded:\n%s", describe(recs))
	}

	fams := scrape(t, ts.URL)
	expectSeries(t, fams, "qwenmock_requests_total", map[string]float64{
		"model=qwen3-max,shape=compatible,status=200":                            4,
		"model=qwen3-max,shape=native,status=200":                                1,
		"code=limit_requests,model=qwen3-max,shape=compatible,status=429":        1,
		"code=internal_server_error,model=qwen3-max,shape=compatible,status=500": 1,
		"code=model_not_found,model=_unknown,shape=compatible,status=404":        1,
	})
	expectSeries(t, fams, "qwenmock_request_duration_seconds", map[string]float64{
		"model=qwen3-max,shape=compatible": 6, "model=qwen3-max,shape=native": 1, "model=_unknown,shape=compatible": 1,
	})
	expectSeries(t, fams, "qwenmock_tokens_total", map[string]float64{
		"model=qwen3-max,type=input": in, "model=qwen3-max,type=output": outTok, "model=qwen3-max,type=reasoning": 0, "model=qwen3-max,type=cached": cached,
	})
	// Admitted: A three times, B twice (native, the cut stream), each under rpm and tpm;
	// refused: A's fourth by rpm. The fault and the unknown model never reach the limiter.
	expectSeries(t, fams, "qwenmock_rate_limit_decisions_total", map[string]float64{
		"dimension=rpm,model=qwen3-max,result=admitted": 5,
		"dimension=tpm,model=qwen3-max,result=admitted": 5,
		"dimension=rpm,model=qwen3-max,result=rejected": 1,
	})
	expectSeries(t, fams, "qwenmock_faults_injected_total", map[string]float64{"kind=internal": 1, "kind=stream_drop": 1})
	expectSeries(t, fams, "qwenmock_journal_entries", map[string]float64{"": 8})
	expectSeries(t, fams, "qwenmock_open_streams", map[string]float64{"": 0})
	expectSeries(t, fams, "qwenmock_rate_limit_scopes", map[string]float64{"": 2})
	var tokA, tokB float64
	for _, r := range recs {
		if r.Status == 200 && r.Key == keyLabel("sk-aaaaaaaa1111") {
			tokA += float64(r.PromptTokens + r.CompletionTokens)
		}
		if r.Status == 200 && r.Key == keyLabel("sk-bbbbbbbb2222") {
			tokB += float64(r.PromptTokens + r.CompletionTokens)
		}
	}
	expectSeries(t, fams, "qwenmock_rate_limit_remaining", map[string]float64{
		"dimension=requests,model=qwen3-max,scope=key:" + keyLabel("sk-aaaaaaaa1111"): 0,
		"dimension=tokens,model=qwen3-max,scope=key:" + keyLabel("sk-aaaaaaaa1111"):   100000 - tokA,
		"dimension=requests,model=qwen3-max,scope=key:" + keyLabel("sk-bbbbbbbb2222"): 1,
		"dimension=tokens,model=qwen3-max,scope=key:" + keyLabel("sk-bbbbbbbb2222"):   100000 - tokB,
	})
	expectSeries(t, fams, "qwenmock_genai_semconv_info", map[string]float64{"version=1.42.0": 1})

	genai := "gen_ai_operation_name=chat,gen_ai_provider_name=dashscope,gen_ai_request_model=qwen3-max,gen_ai_response_model=qwen3-max"
	expectSeries(t, fams, "gen_ai_server_request_duration_seconds", map[string]float64{
		genai:                                4,
		"error_type=limit_requests," + genai: 1,
		"error_type=internal_server_error," + genai: 1,
		"error_type=stream_drop," + genai:           1,
		"error_type=model_not_found,gen_ai_operation_name=chat,gen_ai_provider_name=dashscope,gen_ai_request_model=_unknown": 1,
	})
	// Only the whole stream has a first token and several output tokens.
	expectSeries(t, fams, "gen_ai_server_time_to_first_token_seconds", map[string]float64{genai: 1})
	expectSeries(t, fams, "gen_ai_server_time_per_output_token_seconds", map[string]float64{genai: 1})
	if b := fams["gen_ai_server_request_duration_seconds"].Metric[0].Histogram.Bucket; len(b) != 15 || b[0].GetUpperBound() != 0.01 || b[13].GetUpperBound() != 81.92 {
		t.Errorf("request duration buckets: %v", b)
	}
	if b := fams["gen_ai_server_time_to_first_token_seconds"].Metric[0].Histogram.Bucket; len(b) != 17 || b[0].GetUpperBound() != 0.001 || b[15].GetUpperBound() != 10 {
		t.Errorf("TTFT buckets: %v", b)
	}
	if b := fams["gen_ai_server_time_per_output_token_seconds"].Metric[0].Histogram.Bucket; len(b) != 14 || b[12].GetUpperBound() != 2.5 {
		t.Errorf("TPOT buckets: %v", b)
	}

	// The vLLM set counts successes only; the cut stream is an abort.
	expectSeries(t, fams, "vllm:request_success_total", map[string]float64{
		"finished_reason=stop,model_name=qwen3-max": 4, "finished_reason=abort,model_name=qwen3-max": 1,
	})
	expectSeries(t, fams, "vllm:prompt_tokens_total", map[string]float64{"model_name=qwen3-max": in})
	expectSeries(t, fams, "vllm:generation_tokens_total", map[string]float64{"model_name=qwen3-max": outTok})
	expectSeries(t, fams, "vllm:e2e_request_latency_seconds", map[string]float64{"model_name=qwen3-max": 5})
	expectSeries(t, fams, "vllm:num_requests_running", map[string]float64{"": 0})
	expectSeries(t, fams, "vllm:num_requests_waiting", map[string]float64{"": 0})
}

// serveHTTP serves srv on a loopback port for the test's duration.
func serveHTTP(t *testing.T, srv *Server) *TestServer {
	t.Helper()
	hs := httptest.NewServer(srv)
	ts := &TestServer{Server: srv, URL: hs.URL, hs: hs}
	t.Cleanup(ts.Close)
	return ts
}
