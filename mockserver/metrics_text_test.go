package mockserver

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricsText is what the registry writes, as a string.
func metricsText(t *testing.T, r *metricRegistry) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.write(&b, nil); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// clientGolangText is what client_golang writes for reg in the text format.
func clientGolangText(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestMetricsTextMatchesClientGolang feeds the same random observations into this package's
// registry and into a client_golang registry declaring the same families, and requires the
// same text, byte for byte, at several points: counters and histograms with labels declared
// out of name order, label values that need escaping, help texts with a backslash, a newline
// and quotes, histograms without labels, observations on and next to bucket bounds, NaN and
// infinities, gauges moved up and down, gauges set at scrape time to odd values, and a
// family never observed (left out by both).
func TestMetricsTextMatchesClientGolang(t *testing.T) {
	r := newMetricRegistry()
	reg := prometheus.NewRegistry()
	const oddHelp = `Help with a back\slash, a "quote" and a` + "\nnew line."
	buckets := []float64{0.001, 0.01, 0.1, 0.25, 1, 2.5, 10, 1000, 1e6}

	counter := r.family("t_requests_total", oddHelp, kindCounter, []string{"model", "shape", "status", "code"})
	cgCounter := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "t_requests_total", Help: oddHelp}, []string{"model", "shape", "status", "code"})
	hist := r.family("t_duration_seconds", "Durations.", kindHistogram, []string{"shape", "model"}, buckets...)
	cgHist := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "t_duration_seconds", Help: "Durations.", Buckets: buckets}, []string{"shape", "model"})
	tokenBuckets := []float64{1, 2, 5, 10, 100, 1000, 10000, 100000, 1000000}
	plainHist := r.family("t:plain_tokens", "A histogram without labels.", kindHistogram, nil, tokenBuckets...).with()
	cgPlainHist := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "t:plain_tokens", Help: "A histogram without labels.", Buckets: tokenBuckets})
	gauge := r.single("t_open", "Open things.", kindGauge)
	cgGauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "t_open", Help: "Open things."})
	total := r.single("t_events_total", "Events.", kindCounter)
	cgTotal := prometheus.NewCounter(prometheus.CounterOpts{Name: "t_events_total", Help: "Events."})
	r.family("t_never_total", "Never observed.", kindCounter, []string{"kind"})
	cgNever := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "t_never_total", Help: "Never observed."}, []string{"kind"})
	info := r.family("t_info", "Info.", kindGauge, []string{"version"})
	info.with("1.2.3").gaugeSet(1)
	cgInfo := prometheus.NewGauge(prometheus.GaugeOpts{Name: "t_info", Help: "Info.", ConstLabels: prometheus.Labels{"version": "1.2.3"}})
	cgInfo.Set(1)

	// Gauges read at scrape time, here from a map both sides share.
	var mu sync.Mutex
	scraped := map[[2]string]float64{}
	scrapedFam := r.family("t_scraped", "Set at scrape time.", kindGauge, []string{"scope", "dimension"})
	r.collect(func(emit func(*metricFamily, float64, ...string)) {
		mu.Lock()
		defer mu.Unlock()
		for k, v := range scraped {
			emit(scrapedFam, v, k[0], k[1])
		}
	})
	cgScraped := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "t_scraped", Help: "Set at scrape time."}, []string{"scope", "dimension"})
	reg.MustRegister(cgCounter, cgHist, cgPlainHist, cgGauge, cgTotal, cgNever, cgInfo, cgScraped)

	values := []string{"", "a", "qwen3-max", `back\slash`, `quo"te`, "new\nline", "ünïcødé", "z", "0.5", `\"\n`}
	pick := func(rng *rand.Rand) string { return values[rng.IntN(len(values))] }
	observations := []float64{0, 0.001, 0.0010000001, 0.01, 0.1, 0.25, 0.3, 1, 2.5, 9.99, 10, 1000, 1e6, 1e6 + 1, 5e6, 1e-9, 123.456, 1.0 / 3}
	odd := []float64{0, math.Copysign(0, -1), 1, -1, 1e6, 1e-7, 123456789012, -3.5, 0.1, math.Inf(1), math.Inf(-1), math.NaN(), 2.5e-300}

	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 6 {
		for range 2000 {
			switch op := rng.IntN(10); op {
			case 0, 1, 2:
				vs := []string{pick(rng), pick(rng), strconv.Itoa(200 + rng.IntN(3)*100), pick(rng)}
				n := rng.IntN(3)
				counter.with(vs...).add(n)
				cgCounter.WithLabelValues(vs...).Add(float64(n))
			case 3, 4, 5:
				shape, m := pick(rng), pick(rng)
				v := observations[rng.IntN(len(observations))]
				if rng.IntN(2) == 0 {
					v = rng.Float64() * 20
				}
				hist.with(shape, m).observe(v)
				cgHist.WithLabelValues(shape, m).Observe(v)
			case 6:
				v := float64(rng.IntN(300000))
				if round == 5 && rng.IntN(50) == 0 {
					v = odd[rng.IntN(len(odd))] // NaN and ±Inf, once the other rounds are compared
				}
				plainHist.observe(v)
				cgPlainHist.Observe(v)
			case 7:
				d := int64(rng.IntN(3) - 1)
				gauge.gaugeAdd(d)
				cgGauge.Add(float64(d))
			case 8:
				total.inc()
				cgTotal.Inc()
			case 9:
				k := [2]string{pick(rng), pick(rng)}
				v := odd[rng.IntN(len(odd))]
				mu.Lock()
				scraped[k] = v
				mu.Unlock()
				cgScraped.WithLabelValues(k[0], k[1]).Set(v)
			}
		}
		got, want := metricsText(t, r), clientGolangText(t, reg)
		if got != want {
			t.Fatalf("round %d: the text differs from client_golang's\n%s", round, firstDiff(got, want))
		}
		if round == 0 && (!strings.Contains(got, `quo\"te`) || !strings.Contains(got, `new\nline`) || !strings.Contains(got, `le="1e+06"`) || strings.Contains(got, "t_never_total")) {
			t.Fatalf("the observations miss a case:\n%s", got)
		}
	}
}

// parseMetricsText parses the text format.
func parseMetricsText(text string) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(strings.NewReader(text))
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return "line " + strconv.Itoa(i+1) + ":\n got  " + g[i] + "\n want " + w[i]
		}
	}
	return "lengths: got " + strconv.Itoa(len(g)) + " lines, want " + strconv.Itoa(len(w))
}

// TestMetricsTextEscaping checks the escaping of help texts (backslash, newline) and label
// values (backslash, newline, double quote), and the number formats, against fixed text.
func TestMetricsTextEscaping(t *testing.T) {
	r := newMetricRegistry()
	f := r.family("esc_total", `Back\slash, "quotes"`+"\nand a new line.", kindCounter, []string{"v"})
	f.with(`a\b"c` + "\nd").inc()
	f.with("").add(1000000)
	h := r.family("esc_seconds", "H.", kindHistogram, nil, 0.5, 1e6)
	h.with().observe(0.25)
	h.with().observe(2e6)
	want := `# HELP esc_seconds H.
# TYPE esc_seconds histogram
esc_seconds_bucket{le="0.5"} 1
esc_seconds_bucket{le="1e+06"} 1
esc_seconds_bucket{le="+Inf"} 2
esc_seconds_sum 2.00000025e+06
esc_seconds_count 2
# HELP esc_total Back\\slash, "quotes"\nand a new line.
# TYPE esc_total counter
esc_total{v=""} 1e+06
esc_total{v="a\\b\"c\nd"} 1
`
	if got := metricsText(t, r); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	for _, c := range []struct {
		f    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-1, "-1"}, {0.1, "0.1"}, {1e6, "1e+06"}, {123456, "123456"},
		{1e-7, "1e-07"}, {123456789, "1.23456789e+08"}, {1.0 / 3, "0.3333333333333333"},
		{math.NaN(), "NaN"}, {math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"},
	} {
		if got := string(appendMetricFloat(nil, c.f)); got != c.want {
			t.Errorf("%v: got %q, want %q", c.f, got, c.want)
		}
	}
}

// TestMetricsConcurrentObservations observes from several goroutines while others scrape:
// every scrape parses, each histogram's _count equals its +Inf bucket, and the totals at the
// end are exact. Run with -race.
func TestMetricsConcurrentObservations(t *testing.T) {
	r := newMetricRegistry()
	c := r.family("c_total", "C.", kindCounter, []string{"worker", "kind"})
	h := r.family("h_seconds", "H.", kindHistogram, []string{"kind"}, 0.5, 1, 2)
	g := r.single("g_open", "G.", kindGauge)
	const workers, each = 4, 2000

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				c.with(strconv.Itoa(w), "shared").inc()
				c.with("all", strconv.Itoa(i%7)).add(2)
				g.gaugeAdd(1)
				h.with("shared").observe(float64(i%4) * 0.5) // 0, 0.5, 1, 1.5: sums exactly
				g.gaugeAdd(-1)
			}
		})
	}
	stop := make(chan struct{})
	scrapes := make(chan int)
	go func() {
		n := 0
		defer func() { scrapes <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			text := metricsText(t, r)
			fams, err := parseMetricsText(text)
			if err != nil {
				t.Errorf("scrape %d: %v\n%s", n, err, text)
				return
			}
			if f := fams["h_seconds"]; f != nil {
				hm := f.Metric[0].Histogram
				if inf := hm.Bucket[len(hm.Bucket)-1]; inf.GetCumulativeCount() != hm.GetSampleCount() {
					t.Errorf("scrape %d: +Inf bucket %d, count %d", n, inf.GetCumulativeCount(), hm.GetSampleCount())
				}
			}
			n++
		}
	}()
	wg.Wait()
	close(stop)
	if n := <-scrapes; n == 0 {
		t.Error("no scrape ran")
	}

	fams, err := parseMetricsText(metricsText(t, r))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"kind=shared,worker=0": each, "kind=shared,worker=1": each, "kind=shared,worker=2": each, "kind=shared,worker=3": each}
	for k := range 7 {
		n := each / 7
		if k < each%7 {
			n++
		}
		want["kind="+strconv.Itoa(k)+",worker=all"] = float64(2 * workers * n)
	}
	expectSeries(t, fams, "c_total", want)
	expectSeries(t, fams, "g_open", map[string]float64{"": 0})
	expectSeries(t, fams, "h_seconds", map[string]float64{"kind=shared": workers * each})
	hm := fams["h_seconds"].Metric[0].Histogram
	if hm.GetSampleSum() != workers*each/4*(0+0.5+1+1.5) {
		t.Errorf("sum %v", hm.GetSampleSum())
	}
	for i, want := range []uint64{workers * each / 2, workers * each * 3 / 4, workers * each} { // ≤0.5, ≤1, ≤2
		if got := hm.Bucket[i].GetCumulativeCount(); got != want {
			t.Errorf("bucket %v: %d, want %d", hm.Bucket[i].GetUpperBound(), got, want)
		}
	}
}

// TestMetricsSeriesBound: once the registry holds its maximum of series, a new label set is
// not recorded but counted in qwenmock_metrics_series_dropped_total; the series held go on.
func TestMetricsSeriesBound(t *testing.T) {
	r := newMetricRegistry()
	r.maxSeries = 3
	f := r.family("b_total", "B.", kindCounter, []string{"k"})
	for _, k := range []string{"a", "b", "c", "d", "e", "a", "d"} {
		f.with(k).inc()
	}
	want := `# HELP b_total B.
# TYPE b_total counter
b_total{k="a"} 2
b_total{k="b"} 1
b_total{k="c"} 1
# HELP qwenmock_metrics_series_dropped_total Observations not recorded because the metrics already hold MetricsMaxSeries series.
# TYPE qwenmock_metrics_series_dropped_total counter
qwenmock_metrics_series_dropped_total 3
`
	if got := metricsText(t, r); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := metricsText(t, newMetricRegistry()); got != "" {
		t.Errorf("an empty registry writes %q", got)
	}
}

// TestMetricsHandler checks the HTTP side against promhttp: the content type, gzip chosen
// for exactly the Accept-Encoding values for which promhttp chooses it (and the same text
// once decompressed), and the name[] filter.
func TestMetricsHandler(t *testing.T) {
	r := newMetricRegistry()
	r.family("h_a_total", "A.", kindCounter, []string{"k"}).with("x").add(3)
	r.single("h_b", "B.", kindGauge).gaugeAdd(2)
	r.single("h_c", "C.", kindGauge)
	reg := prometheus.NewRegistry()
	cgA := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "h_a_total", Help: "A."}, []string{"k"})
	cgA.WithLabelValues("x").Add(3)
	cgB := prometheus.NewGauge(prometheus.GaugeOpts{Name: "h_b", Help: "B."})
	cgB.Add(2)
	reg.MustRegister(cgA, cgB, prometheus.NewGauge(prometheus.GaugeOpts{Name: "h_c", Help: "C."}))
	ours, theirs := r.handler(), promhttp.HandlerFor(reg, promhttp.HandlerOpts{})

	get := func(h http.Handler, target, acceptEncoding string) (*httptest.ResponseRecorder, string) {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		if rec.Header().Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%q: %v", acceptEncoding, err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%q: %v", acceptEncoding, err)
			}
		}
		return rec, string(body)
	}
	for _, ae := range []string{"", "gzip", "gzip, deflate, br", "*", "gzip;q=0", "identity, gzip;q=0.5",
		"gzip;q=0.5, identity;q=0.4", "identity;q=0, gzip;q=0", "identity;q=0", "br", "deflate;q=1, *;q=0.3",
		"gzip;q=abc", "gzip ; q=0.9 , identity ; q=0.95", "x-gzip", "gzip;q=2"} {
		rec, body := get(ours, "/metrics", ae)
		cgRec, cgBody := get(theirs, "/metrics", ae)
		if rec.Code != 200 || body != cgBody {
			t.Errorf("%q: %d\n%s\nwant\n%s", ae, rec.Code, body, cgBody)
		}
		if got, want := rec.Header().Get("Content-Encoding"), cgRec.Header().Get("Content-Encoding"); got != want {
			t.Errorf("%q: Content-Encoding %q, promhttp %q", ae, got, want)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
			t.Errorf("%q: Content-Type %q", ae, ct)
		}
		if v := rec.Header().Values("Vary"); len(v) != 1 || v[0] != "Accept-Encoding" {
			t.Errorf("%q: Vary %q", ae, v)
		}
	}
	// Content codings are case-insensitive (RFC 9110, 8.4.1); promhttp compares them as is.
	if rec, _ := get(ours, "/metrics", "GZIP"); rec.Header().Get("Content-Encoding") != "gzip" {
		t.Errorf("GZIP: Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}

	for _, q := range []string{"?name[]=h_b", "?name[]=h_c&name[]=h_a_total", "?name[]=nope", "?name=h_b"} {
		_, body := get(ours, "/metrics"+q, "")
		_, cgBody := get(theirs, "/metrics"+q, "")
		if body != cgBody {
			t.Errorf("%s:\n%s\nwant\n%s", q, body, cgBody)
		}
	}
}
