package mockserver

import (
	"net/http"

	"github.com/gorilla/mux"
)

// routes is the whole route table. Paths copy the real service
// (https://www.alibabacloud.com/help/en/model-studio/compatibility-of-openai-with-dashscope)
// so that a client switches to the mock by changing only scheme and host; /v1/... aliases
// serve clients configured with a bare /v1 base.
func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.SkipClean(true)

	for _, prefix := range []string{"/compatible-mode/v1", "/v1"} {
		r.HandleFunc(prefix+"/chat/completions", s.handleCompatChat).Methods(http.MethodPost)
		r.HandleFunc(prefix+"/models", s.handleCompatModels).Methods(http.MethodGet)
	}

	// The Responses API, also under its legacy prefix; other methods get its own 405.
	for _, prefix := range []string{"/compatible-mode/v1", "/v1", "/api/v2/apps/protocols/compatible-mode/v1"} {
		r.HandleFunc(prefix+"/responses", s.handleResponses)
		r.HandleFunc(prefix+"/responses/{id}", s.handleGetResponse)
		r.PathPrefix(prefix + "/responses/").HandlerFunc(s.handleResponsesNotFound)
	}

	r.HandleFunc("/api/v1/services/aigc/text-generation/generation", s.handleNativeGeneration).Methods(http.MethodPost)
	// Every other path under the native base, the multimodal one included: "url error".
	r.PathPrefix("/api/v1/").MatcherFunc(func(r *http.Request, _ *mux.RouteMatch) bool {
		return r.URL.Path != "/api/v1/services/aigc/text-generation/generation" // 405 there
	}).HandlerFunc(s.handleNativeURLError)
	r.HandleFunc("/v1/process", s.handleProcess).Methods(http.MethodPost)
	r.HandleFunc("/apps/anthropic/v1/messages", s.handleAnthropicMessages).Methods(http.MethodPost)
	r.HandleFunc("/apps/anthropic/v1/messages/count_tokens", s.handleAnthropicCountTokens).Methods(http.MethodPost)
	s.wrongMethods(r)

	// The control API, guarded by controlGuard.
	ctl := r.PathPrefix("/_mock").Subrouter()
	ctl.Use(s.controlGuard)
	type methods = map[string]http.HandlerFunc
	for path, m := range map[string]methods{
		"/health":        {http.MethodGet: s.handleHealth},
		"/requests":      {http.MethodGet: s.handleRequests, http.MethodDelete: s.handleClearRequests},
		"/reset":         {http.MethodPost: s.handleReset},
		"/limits":        {http.MethodGet: s.handleLimits},
		"/clock/advance": {http.MethodPost: s.handleClockAdvance},
		"/faults":        {http.MethodPost: s.handleFaults},
		"/usage":         {http.MethodGet: s.handleUsage},
		"/config":        {http.MethodGet: s.handleGetConfig, http.MethodPatch: s.handlePatchConfig},
	} {
		ctl.Handle(path, s.controlRoutes(m))
	}
	ctl.NotFoundHandler = s.controlGuard(http.HandlerFunc(s.handleNotFound))

	r.NotFoundHandler = http.HandlerFunc(s.handleNotFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(s.handleMethodNotAllowed)
	return r
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	writeCompatError(w, errNotFound(r.Method, r.URL.Path), s.cfg.newRequestID())
}

func (s *Server) handleMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeCompatError(w, errMethodNotAllowed(r.Method, r.URL.Path), s.cfg.newRequestID())
}
