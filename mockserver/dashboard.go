package mockserver

import (
	_ "embed"
	"net/http"
)

// dashboardHTML is the dashboard at GET /_mock/: one page, no external resources. It reads
// the control API (limits history, journal, usage) and drives it (reset, clock, faults).
//
//go:embed dashboard/index.html
var dashboardHTML []byte

// handleDashboard serves the page. It is public even under an admin token (it holds no
// data): the page asks for the token and sends it with each call.
func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(dashboardHTML)
}
