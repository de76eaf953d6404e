package mockserver

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// This file holds the metrics registry and the writer of the Prometheus text exposition
// format, version 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
// It writes what github.com/prometheus/client_golang writes for the same metrics, byte for
// byte: families sorted by name, a family's series sorted by their label values (labels in
// name order), "# HELP" then "# TYPE", histograms as cumulative _bucket{le=…} lines ending
// with le="+Inf", then _sum and _count; families without series are left out. The tests
// check it against client_golang's own registry and encoder.

// metricsContentType is the media type of the text exposition format.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// MetricsMaxSeries bounds the labelled series the metrics hold (the gauges read at scrape
// time come on top: at most 4·MetricsMaxScopes+2). Every label value is a fixed word or a
// model name of the catalogue, so the set is finite anyway; the bound keeps it small whatever
// the catalogue. A series holds at most five label values and, for a histogram, at most 23
// counters: at most about 0.6 KB with the built-in catalogue's names (measured), so about 6 MB
// in all. An observation that would need one more series is not recorded; it is counted in
// qwenmock_metrics_series_dropped_total, a family shown only once it is not zero.
const MetricsMaxSeries = 10000

// maxMetricLabels is the most labels a family has (gen_ai_server_request_duration_seconds).
const maxMetricLabels = 5

type metricKind uint8

const (
	kindCounter metricKind = iota
	kindGauge
	kindHistogram
)

func (k metricKind) String() string {
	return [...]string{"counter", "gauge", "histogram"}[k]
}

// labelValues are a series' label values in the order of its family's sorted label names.
type labelValues [maxMetricLabels]string

// metricRegistry holds the families in name order and the collectors that add gauges read at
// scrape time.
type metricRegistry struct {
	families   []*metricFamily
	collectors []func(emit func(f *metricFamily, v float64, values ...string))
	maxSeries  int64
	series     atomic.Int64 // series held by every family
	dropped    *metricFamily
	nDropped   atomic.Uint64
}

func newMetricRegistry() *metricRegistry {
	r := &metricRegistry{maxSeries: MetricsMaxSeries}
	r.dropped = r.family("qwenmock_metrics_series_dropped_total",
		"Observations not recorded because the metrics already hold MetricsMaxSeries series.", kindCounter, nil)
	r.collect(func(emit func(*metricFamily, float64, ...string)) {
		if n := r.nDropped.Load(); n > 0 {
			emit(r.dropped, float64(n))
		}
	})
	return r
}

// metricFamily is one metric name: its help, type, label names, and for a histogram its
// bucket boundaries; its series are created by the first observation of their label values.
type metricFamily struct {
	reg     *metricRegistry
	name    string
	help    string
	kind    metricKind
	labels  []string // sorted
	perm    []int    // labels[i] is the perm[i]-th label of with's arguments
	buckets []float64

	mu     sync.RWMutex
	series map[labelValues]*metricSeries
}

// metricSeries is one series. A counter counts in val; a gauge keeps its int64 value's bits
// in val; a histogram counts per bucket (the last one is +Inf) under mu.
type metricSeries struct {
	values labelValues
	val    atomic.Uint64

	bounds []float64 // the family's buckets
	mu     sync.Mutex
	counts []uint64
	sum    float64
	count  uint64
}

// family declares a family; labels are in the order with takes their values. Names are
// constants of this package: a bad or repeated one is a bug and panics.
func (r *metricRegistry) family(name, help string, kind metricKind, labels []string, buckets ...float64) *metricFamily {
	if !validMetricName(name) || len(labels) > maxMetricLabels {
		panic("mockserver: bad metric " + name)
	}
	f := &metricFamily{reg: r, name: name, help: help, kind: kind, labels: slices.Clone(labels),
		buckets: buckets, series: map[labelValues]*metricSeries{}}
	slices.Sort(f.labels)
	for i, l := range f.labels {
		if !validLabelName(l) || (i > 0 && l == f.labels[i-1]) {
			panic("mockserver: bad label " + l + " of metric " + name)
		}
		f.perm = append(f.perm, slices.Index(labels, l))
	}
	i, found := slices.BinarySearchFunc(r.families, name, func(g *metricFamily, n string) int { return strings.Compare(g.name, n) })
	if found {
		panic("mockserver: metric " + name + " declared twice")
	}
	r.families = slices.Insert(r.families, i, f)
	return f
}

// single declares a family without labels and returns its one series.
func (r *metricRegistry) single(name, help string, kind metricKind) *metricSeries {
	return r.family(name, help, kind, nil).with()
}

// collect adds a collector: at each scrape it emits the values of gauge families that have
// no series of their own (label values in the family's declared order).
func (r *metricRegistry) collect(c func(emit func(f *metricFamily, v float64, values ...string))) {
	r.collectors = append(r.collectors, c)
}

// with returns the series of these label values (in declared order), created on first use;
// nil, on which every method does nothing, once the registry holds its maximum.
func (f *metricFamily) with(values ...string) *metricSeries {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("mockserver: metric %s takes %d label values, got %d", f.name, len(f.labels), len(values)))
	}
	var key labelValues
	for i, p := range f.perm {
		key[i] = values[p]
	}
	f.mu.RLock()
	s := f.series[key]
	f.mu.RUnlock()
	if s != nil {
		return s
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if s = f.series[key]; s != nil {
		return s
	}
	if f.reg.series.Add(1) > f.reg.maxSeries {
		f.reg.series.Add(-1)
		f.reg.nDropped.Add(1)
		return nil
	}
	for i := range f.labels {
		key[i] = strings.Clone(key[i]) // not a view into a request body
	}
	s = &metricSeries{values: key}
	if f.kind == kindHistogram {
		s.bounds, s.counts = f.buckets, make([]uint64, len(f.buckets)+1)
	}
	f.series[key] = s
	return s
}

// inc adds 1 to a counter.
func (s *metricSeries) inc() { s.add(1) }

// add adds n ≥ 0 to a counter.
func (s *metricSeries) add(n int) {
	if s != nil && n > 0 {
		s.val.Add(uint64(n))
	}
}

// gaugeAdd adds d to a gauge.
func (s *metricSeries) gaugeAdd(d int64) {
	if s != nil {
		s.val.Add(uint64(d))
	}
}

// gaugeSet sets a gauge.
func (s *metricSeries) gaugeSet(v int64) {
	if s != nil {
		s.val.Store(uint64(v))
	}
}

// observe adds v to a histogram.
func (s *metricSeries) observe(v float64) {
	if s == nil {
		return
	}
	b := sort.SearchFloat64s(s.bounds, v) // the first bound ≥ v; NaN goes to +Inf
	s.mu.Lock()
	s.counts[b]++
	s.sum += v
	s.count++
	s.mu.Unlock()
}

// handler serves the registry in the text format, gzip-compressed when the client prefers it.
// The query parameter name[] (repeatable) keeps only the families named.
func (r *metricRegistry) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h := w.Header()
		h.Set("Content-Type", metricsContentType)
		h.Add("Vary", "Accept-Encoding")
		var out io.Writer = w
		if prefersGzip(req.Header.Values("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			gz := gzipWriters.Get().(*gzip.Writer)
			gz.Reset(w)
			defer func() {
				_ = gz.Close()
				gzipWriters.Put(gz)
			}()
			out = gz
		}
		var only map[string]bool
		if names := req.URL.Query()["name[]"]; len(names) > 0 {
			only = make(map[string]bool, len(names))
			for _, n := range names {
				only[n] = true
			}
		}
		_ = r.write(out, only) // an error is the client's connection going away
	})
}

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// prefersGzip chooses between identity and gzip as client_golang does: gzip when the
// highest q-value of a coding matching it ("gzip" or "*") is above zero and above that of
// one matching identity.
func prefersGzip(accept []string) bool {
	qGzip, qIdentity := -1.0, -1.0
	for _, line := range accept {
		for spec := range strings.SplitSeq(line, ",") {
			coding, params, _ := strings.Cut(spec, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				if k, v, ok := strings.Cut(p, "="); ok && strings.TrimSpace(k) == "q" {
					f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					if err != nil || f < 0 || f > 1 {
						f = 0
					}
					q = f
				}
			}
			if coding == "gzip" || coding == "*" {
				qGzip = max(qGzip, q)
			}
			if coding == "identity" || coding == "*" {
				qIdentity = max(qIdentity, q)
			}
		}
	}
	return qGzip > 0 && qGzip > qIdentity
}

// metricSample is one series of a scrape: a held series, or a value a collector emitted.
type metricSample struct {
	values labelValues
	s      *metricSeries
	v      float64
}

// write writes every family with at least one series (only those in only, when it is not
// nil) in the text format.
func (r *metricRegistry) write(w io.Writer, only map[string]bool) error {
	collected := map[*metricFamily][]metricSample{}
	for _, c := range r.collectors {
		c(func(f *metricFamily, v float64, values ...string) {
			var key labelValues
			for i, p := range f.perm {
				key[i] = values[p]
			}
			collected[f] = append(collected[f], metricSample{values: key, v: v})
		})
	}
	bw := bufio.NewWriterSize(w, 16<<10)
	var line []byte
	var counts []uint64
	for _, f := range r.families {
		if only != nil && !only[f.name] {
			continue
		}
		samples := collected[f]
		f.mu.RLock()
		for _, s := range f.series {
			samples = append(samples, metricSample{values: s.values, s: s})
		}
		f.mu.RUnlock()
		if len(samples) == 0 {
			continue
		}
		n := len(f.labels)
		slices.SortFunc(samples, func(a, b metricSample) int { return slices.Compare(a.values[:n], b.values[:n]) })

		line = append(line[:0], "# HELP "...)
		line = append(line, f.name...)
		line = append(line, ' ')
		line = appendEscaped(line, f.help, false)
		line = append(line, "\n# TYPE "...)
		line = append(line, f.name...)
		line = append(line, ' ')
		line = append(line, f.kind.String()...)
		line = append(line, '\n')
		for _, sm := range samples {
			switch {
			case sm.s == nil:
				line = appendSample(line, f, "", &sm.values, nil, sm.v)
			case f.kind == kindCounter:
				line = appendSample(line, f, "", &sm.values, nil, float64(sm.s.val.Load()))
			case f.kind == kindGauge:
				line = appendSample(line, f, "", &sm.values, nil, float64(int64(sm.s.val.Load())))
			default:
				sm.s.mu.Lock()
				counts = append(counts[:0], sm.s.counts...)
				sum, count := sm.s.sum, sm.s.count
				sm.s.mu.Unlock()
				var cum uint64
				for i, bound := range f.buckets {
					cum += counts[i]
					line = appendSample(line, f, "_bucket", &sm.values, &bound, float64(cum))
				}
				inf := math.Inf(1)
				line = appendSample(line, f, "_bucket", &sm.values, &inf, float64(count))
				line = appendSample(line, f, "_sum", &sm.values, nil, sum)
				line = appendSample(line, f, "_count", &sm.values, nil, float64(count))
			}
			if len(line) > 8<<10 {
				if _, err := bw.Write(line); err != nil {
					return err
				}
				line = line[:0]
			}
		}
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// appendSample appends one line: name+suffix, the labels (and le when le is not nil), value.
func appendSample(b []byte, f *metricFamily, suffix string, values *labelValues, le *float64, v float64) []byte {
	b = append(b, f.name...)
	b = append(b, suffix...)
	if len(f.labels) > 0 || le != nil {
		sep := byte('{')
		for i, l := range f.labels {
			b = append(b, sep)
			b = append(b, l...)
			b = append(b, '=', '"')
			b = appendEscaped(b, values[i], true)
			b = append(b, '"')
			sep = ','
		}
		if le != nil {
			b = append(b, sep)
			b = append(b, `le="`...)
			b = appendMetricFloat(b, *le)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = appendMetricFloat(b, v)
	return append(b, '\n')
}

// appendEscaped escapes a backslash and a newline, and a double quote in a label value.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && quote:
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendMetricFloat formats a value as the text format wants it: +Inf, -Inf, NaN, or Go's
// shortest 'g' form (1e+06, 0.25), with -0 written as 0.
func appendMetricFloat(b []byte, f float64) []byte {
	switch {
	case f == 0:
		return append(b, '0')
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// validMetricName reports whether name matches [a-zA-Z_:][a-zA-Z0-9_:]*.
func validMetricName(name string) bool {
	return validName(name, true)
}

// validLabelName reports whether name matches [a-zA-Z_][a-zA-Z0-9_]* and is not reserved.
func validLabelName(name string) bool {
	return validName(name, false) && !strings.HasPrefix(name, "__") && name != "le"
}

func validName(name string, colon bool) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0 || c == ':' && colon
		if !ok {
			return false
		}
	}
	return true
}
