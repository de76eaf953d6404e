package mockserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const benchBody = `{"model":"qwen3-max","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Summarise the history of Hangzhou in a few paragraphs."}]}`

// BenchmarkEndToEnd compares non-stream chat completions through qwenmock with a bare
// net/http handler that writes a fixed JSON body of the same size, both over loopback HTTP
// with keep-alive clients, in the same run. The ratio of their req/s is the cost of the mock's
// work (auth, decoding, token counting, generation, truncation, encoding).
func BenchmarkEndToEnd(b *testing.B) {
	srv, err := New(WithLimits(RateLimits{RPM: Unlimited, TPM: Unlimited})) // unlimited: this measures throughput, not the limiter
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/compatible-mode/v1/chat/completions", strings.NewReader(benchBody))
	req.Header.Set("Authorization", "Bearer sk-test")
	srv.ServeHTTP(rec, req)
	fixed := rec.Body.Bytes()

	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixed)
	})
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"qwenmock", srv}, {"bare", bare}} {
		b.Run(tc.name, func(b *testing.B) {
			hs := httptest.NewServer(tc.h)
			defer hs.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			url := hs.URL + "/compatible-mode/v1/chat/completions"
			b.SetBytes(int64(len(fixed)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(benchBody))
					req.Header.Set("Authorization", "Bearer sk-test")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || n != int64(len(fixed)) {
						b.Errorf("status %d, %d bytes", resp.StatusCode, n)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkHandler measures the handler alone, in process (no network), for non-stream and
// stream requests.
func BenchmarkHandler(b *testing.B) {
	srv, err := New(WithLimits(RateLimits{RPM: Unlimited, TPM: Unlimited})) // unlimited: this measures throughput, not the limiter
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, body string }{
		{"nonstream", benchBody},
		{"stream", strings.Replace(benchBody, `]}`, `],"stream":true,"stream_options":{"include_usage":true}}`, 1)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodPost, "/compatible-mode/v1/chat/completions", strings.NewReader(tc.body))
				req.Header.Set("Authorization", "Bearer sk-test")
				srv.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatal(rec.Body.String())
				}
			}
		})
	}
}
