package mockserver

import (
	"net/http"
	"strings"
	"testing"
)

func control(t *testing.T, s *Server, r *http.Request) (int, http.Header, string) {
	t.Helper()
	rec := recorderFor(s, r)
	return rec.Code, rec.Header(), rec.Body.String()
}

// Without a token the control API answers loopback hosts and pages of the same site only.
func TestControlGuardWithoutToken(t *testing.T) {
	s := newTestHandler(t)
	cases := []struct {
		name    string
		host    string
		headers []string
		method  string
		path    string
		body    string
		status  int
	}{
		{"loopback", "127.0.0.1:8080", nil, "GET", "/_mock/requests", "", 200},
		{"localhost", "localhost:8080", nil, "GET", "/_mock/usage", "", 200},
		{"ipv6 loopback", "[::1]:8080", nil, "GET", "/_mock/usage", "", 200},
		{"rebinding host", "evil.example:8080", nil, "GET", "/_mock/requests", "", 403},
		{"health from any host", "evil.example:8080", nil, "GET", "/_mock/health", "", 200},
		{"cross-site fetch", "127.0.0.1:8080", []string{"Sec-Fetch-Site", "cross-site"}, "POST", "/_mock/reset", "", 403},
		{"foreign origin", "127.0.0.1:8080", []string{"Origin", "https://evil.example"}, "POST", "/_mock/reset", "", 403},
		{"null origin", "127.0.0.1:8080", []string{"Origin", "null"}, "POST", "/_mock/reset", "", 403},
		{"local origin", "127.0.0.1:8080", []string{"Origin", "http://localhost:3000", "Sec-Fetch-Site", "same-site"}, "POST", "/_mock/reset", "", 200},
		{"text/plain fault", "127.0.0.1:8080", []string{"Content-Type", "text/plain"}, "POST", "/_mock/faults", `{"fault":"internal"}`, 415},
		{"json fault", "127.0.0.1:8080", []string{"Content-Type", "application/json; charset=utf-8"}, "POST", "/_mock/faults", `{"fault":"internal"}`, 200},
		{"bodiless reset", "127.0.0.1:8080", nil, "POST", "/_mock/reset", "", 200},
	}
	for _, c := range cases {
		r := newRequestTo(c.method, c.path, c.host, c.body)
		if c.body == "" {
			r.Body, r.ContentLength = http.NoBody, 0
		}
		for i := 0; i+1 < len(c.headers); i += 2 {
			r.Header.Set(c.headers[i], c.headers[i+1])
		}
		st, h, body := control(t, s, r)
		if st != c.status {
			t.Errorf("%s: %d %s; want %d", c.name, st, body, c.status)
		}
		if st != 200 && h.Get("Content-Type") != "application/json" {
			t.Errorf("%s: content type %q", c.name, h.Get("Content-Type"))
		}
	}
	r := newRequestTo("GET", "/_mock/requests", "evil.example", "")
	if _, _, body := control(t, s, r); !strings.HasPrefix(body, `{"error":{"message":"The control API answers only requests addressed to a loopback host or a configured one, not 'evil.example'. Set an admin token (--admin-token) to use the control API from elsewhere.","type":"invalid_request_error","param":null,"code":"control_api_forbidden"},"request_id":"`) {
		t.Errorf("forbidden body %s", body)
	}
}

// An admin token replaces the host and origin checks; WithControlHosts and
// WithInsecureControlAPI open the API to more hosts.
func TestControlGuardTokenAndOptions(t *testing.T) {
	s := newTestHandler(t, WithAdminToken("s3cret"))
	r := newRequestTo("GET", "/_mock/requests", "qwenmock:8080", "")
	r.Header.Set("Authorization", "Bearer s3cret")
	if st, _, body := control(t, s, r); st != 200 {
		t.Errorf("token from another host: %d %s", st, body)
	}
	for _, tok := range []string{"", "s3cre", "s3cret2", "S3CRET"} {
		r := newRequestTo("GET", "/_mock/requests", "127.0.0.1", "")
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		if st, _, _ := control(t, s, r); st != 401 {
			t.Errorf("token %q: %d", tok, st)
		}
	}
	if st, _, _ := control(t, s, newRequestTo("GET", "/_mock/health", "qwenmock:8080", "")); st != 200 {
		t.Errorf("health without token: %d", st)
	}

	s = newTestHandler(t, WithControlHosts("QwenMock."))
	if st, _, _ := control(t, s, newRequestTo("GET", "/_mock/usage", "qwenmock:8080", "")); st != 200 {
		t.Errorf("configured host: %d", st)
	}
	s = newTestHandler(t, WithInsecureControlAPI())
	r = newRequestTo("POST", "/_mock/faults", "evil.example", `{"fault":"internal"}`)
	r.Header.Set("Origin", "https://evil.example")
	r.Header.Set("Content-Type", "text/plain")
	if st, _, body := control(t, s, r); st != 200 {
		t.Errorf("insecure: %d %s", st, body)
	}
}

// Wrong methods on control paths are 405s with an Allow header, not 404s.
func TestControlMethodNotAllowed(t *testing.T) {
	s := newTestHandler(t)
	for path, allow := range map[string]string{
		"/_mock/health": "GET", "/_mock/reset": "POST", "/_mock/requests": "DELETE, GET", "/_mock/config": "GET, PATCH",
	} {
		st, h, body := control(t, s, newRequestTo("PUT", path, "127.0.0.1", ""))
		if st != 405 || h.Get("Allow") != allow || !strings.Contains(body, `"code":"method_not_allowed"`) {
			t.Errorf("PUT %s: %d Allow=%q %s", path, st, h.Get("Allow"), body)
		}
	}
	if st, _, _ := control(t, s, newRequestTo("GET", "/_mock/nothing", "127.0.0.1", "")); st != 404 {
		t.Errorf("unknown control path: %d", st)
	}
}

// Run-time settings have upper bounds, and totals that would overflow are refused.
func TestControlBounds(t *testing.T) {
	s := newTestHandler(t)
	post := func(method, path, body string) (int, string) {
		r := newRequestTo(method, path, "127.0.0.1", body)
		r.Header.Set("Content-Type", "application/json")
		st, _, out := control(t, s, r)
		return st, out
	}
	for range 3 {
		if st, body := post("POST", "/_mock/clock/advance", `{"seconds":1e9}`); st != 200 {
			t.Fatalf("advance: %d %s", st, body)
		}
	}
	st, body := post("POST", "/_mock/clock/advance", `{"seconds":1e9}`)
	if st != 400 || !strings.Contains(body, "The clock can move at most 3153600000 seconds in all; it has moved 3000000000.") {
		t.Errorf("fourth advance: %d %s", st, body)
	}
	if now := s.Now(); now.Before(testTime) || now.Year() != 2120 {
		t.Errorf("clock at %v", now)
	}
	s.Advance(1 << 62) // the Go API saturates at the bound
	if got := s.Now().Sub(testTime); got != MaxClockOffset {
		t.Errorf("offset %v, want %v", got, MaxClockOffset)
	}
	for _, c := range []struct{ path, method, body string }{
		{"/_mock/config", "PATCH", `{"latency":{"first_token_ms":1e12}}`},
		{"/_mock/config", "PATCH", `{"latency":{"per_token_ms":60000}}`},
		{"/_mock/config", "PATCH", `{"rate_limits":{"rpm":1e12}}`},
		{"/_mock/config", "PATCH", `{"rate_limits":{"models":{"qwen3-max":{"rpm":2000000000,"tpm":1}}}}`},
		{"/_mock/faults", "POST", `{"fault":"slow_headers","delay_ms":9223372036854775807}`},
		{"/_mock/faults", "POST", `{"fault":"internal","count":1000000000}`},
	} {
		if st, body := post(c.method, c.path, c.body); st != 400 {
			t.Errorf("%s %s: %d %s", c.path, c.body, st, body)
		}
	}
	for i := range MaxQueuedFaults {
		if st, body := post("POST", "/_mock/faults", `{"fault":"internal","model":"nothing"}`); st != 200 {
			t.Fatalf("fault %d: %d %s", i, st, body)
		}
	}
	if st, body := post("POST", "/_mock/faults", `{"fault":"internal"}`); st != 400 || !strings.Contains(body, "1000 faults are already queued") {
		t.Errorf("fault past the queue bound: %d %s", st, body)
	}
	for fault, want := range map[string]string{
		"slow_headers; delay_ms=9223372036854775807":  "delay_ms must be at most 600000",
		"slow_headers; delay_ms=99999999999999999999": "out of range",
	} {
		r := newRequestTo("POST", "/compatible-mode/v1/chat/completions", "127.0.0.1", `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}]}`)
		r.Header.Set("Authorization", "Bearer sk-test")
		r.Header.Set("X-Mock-Fault", fault)
		if st, _, body := control(t, s, r); st != 400 || !strings.Contains(body, want) {
			t.Errorf("header fault %q: %d %s", fault, st, body)
		}
	}
}

// API paths answer a wrong method with a 405 in their own envelope and an Allow header.
func TestAPIMethodNotAllowed(t *testing.T) {
	s := newTestHandler(t)
	for _, c := range []struct{ method, path, allow, body string }{
		{"GET", "/compatible-mode/v1/chat/completions", "POST", `{"error":{"message":"Method GET is not allowed on /compatible-mode/v1/chat/completions.","type":"invalid_request_error","param":null,"code":"method_not_allowed"},"request_id":"`},
		{"POST", "/v1/models", "GET", `{"error":{"message":"Method POST is not allowed on /v1/models.","type":"invalid_request_error","param":null,"code":"method_not_allowed"},"request_id":"`},
		{"GET", "/api/v1/services/aigc/text-generation/generation", "POST", `{"code":"MethodNotAllowed","message":"Method GET is not allowed on /api/v1/services/aigc/text-generation/generation.","request_id":"`},
		{"DELETE", "/v1/process", "POST", `{"code":"MethodNotAllowed","message":"Method DELETE is not allowed on /v1/process.","request_id":"`},
	} {
		st, h, body := control(t, s, newRequestTo(c.method, c.path, "127.0.0.1", ""))
		if st != 405 || h.Get("Allow") != c.allow || !strings.HasPrefix(body, c.body) || h.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d Allow=%q %s", c.method, c.path, st, h.Get("Allow"), body)
		}
	}
}
