package main

import (
	"io"
	"testing"
)

// TestLoadMetricsSettings: --metrics (on by default), --metrics-vllm and --pprof from flags,
// QWENMOCK_* variables and the config file's keys, with the usual precedence.
func TestLoadMetricsSettings(t *testing.T) {
	t.Parallel()
	files := filesOf(map[string]string{"/q.yaml": "metrics: false\nmetrics_vllm: true\npprof: true\n"})
	cases := []struct {
		name                string
		args                []string
		env                 map[string]string
		metrics, vllm, prof bool
	}{
		{"defaults", nil, nil, true, false, false},
		{"flags", []string{"--metrics=false", "--metrics-vllm", "--pprof"}, nil, false, true, true},
		{"env", nil, map[string]string{"QWENMOCK_METRICS": "false", "QWENMOCK_METRICS_VLLM": "true", "QWENMOCK_PPROF": "1"}, false, true, true},
		{"file", []string{"--config", "/q.yaml"}, nil, false, true, true},
		{"flag beats env beats file", []string{"--config", "/q.yaml", "--pprof=false"}, map[string]string{"QWENMOCK_METRICS": "true"}, true, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := load(tc.args, envOf(tc.env), files, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if s.metrics != tc.metrics || s.metricsVLLM != tc.vllm || s.pprof != tc.prof {
				t.Fatalf("metrics=%v vllm=%v pprof=%v", s.metrics, s.metricsVLLM, s.pprof)
			}
		})
	}
}
