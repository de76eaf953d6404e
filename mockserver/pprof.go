package mockserver

import (
	"net/http"
	"net/http/pprof"
)

// WithPprof serves Go's profiler (net/http/pprof) under /_mock/debug/pprof/, behind the
// admin token when one is set. It is off by default.
func WithPprof() Option {
	return func(c *config) error {
		c.pprof = true
		return nil
	}
}

// pprofHandler serves net/http/pprof's pages, which expect the path /debug/pprof/…, under
// /_mock/debug/pprof/….
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return http.StripPrefix("/_mock", mux)
}
