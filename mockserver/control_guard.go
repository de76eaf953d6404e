package mockserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// The control API can read every journaled prompt, reset state, inject faults and slow the
// server down, so it is locked by default against the two ways a web page reaches a local
// server: a cross-site request (blocked by the Origin and Sec-Fetch-Site checks and by
// requiring a JSON content type on writes with a body) and DNS rebinding (blocked by the Host
// check). An admin token replaces the Host and Origin checks: a browser cannot add the
// Authorization header to a cross-site request without the server's consent, which this
// server never gives (it answers no CORS preflight). WithInsecureControlAPI turns all of it
// off. GET /_mock/health is always open, for health checks.

// controlGuard wraps the control API with the checks above.
func (s *Server) controlGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_mock/health" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		if s.cfg.insecureControl {
			next.ServeHTTP(w, r)
			return
		}
		if s.cfg.adminToken != "" {
			if !tokenMatches(bearerKey(r.Header.Get("Authorization")), s.cfg.adminToken) {
				s.writeControlError(w, r, errAdminToken())
				return
			}
		} else if msg := s.crossSite(r); msg != "" {
			s.writeControlError(w, r, errControlForbidden(msg+" Set an admin token (--admin-token) to use the control API from elsewhere."))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && hasBody(r) {
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if mt != "application/json" {
				s.writeControlError(w, r, errUnsupportedMediaType())
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// tokenMatches compares a presented token with the admin token in constant time (hashing
// both first, so that neither the content nor the length leaks through timing).
func tokenMatches(got, want string) bool {
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1 && got != ""
}

// hasBody reports whether a request carries a body.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

// crossSite explains why a request without an admin token is refused, or returns "".
func (s *Server) crossSite(r *http.Request) string {
	if !s.hostAllowed(r.Host) {
		return "The control API answers only requests addressed to a loopback host or a configured one, not '" + capField(r.Host, 256) + "'."
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "same-site", "none":
	default:
		return "The control API refuses " + capField(site, 64) + " requests from web pages."
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !s.hostAllowed(u.Host) {
			return "The control API refuses requests from web pages of origin '" + capField(origin, 256) + "'."
		}
	}
	return ""
}

// hostAllowed reports whether host (with or without a port) is a loopback name or address,
// or one of the configured control hosts.
func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	for _, h := range s.cfg.controlHosts {
		if host == h {
			return true
		}
	}
	return false
}

// controlRoutes serves each control path with a handler per method; another method gets a
// 405 with an Allow header.
func (s *Server) controlRoutes(methods map[string]http.HandlerFunc) http.Handler {
	allowed := make([]string, 0, len(methods))
	for m := range methods {
		allowed = append(allowed, m)
	}
	sort.Strings(allowed)
	allow := strings.Join(allowed, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := methods[r.Method]; ok {
			h(w, r)
			return
		}
		w.Header().Set("Allow", allow)
		s.writeControlError(w, r, errMethodNotAllowed(r.Method, r.URL.Path))
	})
}
