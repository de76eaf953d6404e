package mockserver

import (
	"net/http/httptest"
)

// TestingT is the part of *testing.T (or *testing.B, or any test framework's handle) that
// NewTestServer needs. The library takes this interface instead of importing testing.
type TestingT interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// TestServer is a Server started on a loopback port for one test, closed by the test's
// cleanup.
type TestServer struct {
	*Server
	// URL is the server's base URL, "http://127.0.0.1:PORT".
	URL string
	hs  *httptest.Server
}

// NewTestServer starts a Server built with opts on a free loopback port and registers its
// shutdown with t.Cleanup. It fails the test if an option is invalid.
func NewTestServer(t TestingT, opts ...Option) *TestServer {
	t.Helper()
	srv, err := New(opts...)
	if err != nil {
		t.Fatalf("mockserver.NewTestServer: %v", err)
		return nil
	}
	hs := httptest.NewServer(srv)
	ts := &TestServer{Server: srv, URL: hs.URL, hs: hs}
	t.Cleanup(ts.Close)
	return ts
}

// OpenAIBaseURL is the base URL for OpenAI-compatible clients, ".../compatible-mode/v1".
func (ts *TestServer) OpenAIBaseURL() string { return ts.URL + "/compatible-mode/v1" }

// DashScopeBaseURL is the base URL of the native API, ".../api/v1".
func (ts *TestServer) DashScopeBaseURL() string { return ts.URL + "/api/v1" }

// AnthropicBaseURL is the base URL for Anthropic clients, ".../apps/anthropic" (they add
// /v1/messages).
func (ts *TestServer) AnthropicBaseURL() string { return ts.URL + "/apps/anthropic" }

// ResponsesURL is the URL of the Responses API, ".../compatible-mode/v1/responses"; OpenAI
// clients reach it from OpenAIBaseURL.
func (ts *TestServer) ResponsesURL() string { return ts.OpenAIBaseURL() + "/responses" }

// Close shuts the server down, closing open client connections. It is safe to call twice.
func (ts *TestServer) Close() {
	ts.hs.CloseClientConnections()
	ts.hs.Close()
}
