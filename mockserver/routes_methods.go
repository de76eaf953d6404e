package mockserver

import (
	"net/http"

	"github.com/gorilla/mux"
)

// wrongMethods answers a known API path called with another method: a 405 in the path's own
// envelope (native paths answer natively) with an Allow header. They are registered after the
// real routes, which match first.
func (s *Server) wrongMethods(r *mux.Router) {
	for path, m := range map[string]struct {
		allow string
		shape wireShape
	}{
		"/compatible-mode/v1/chat/completions":             {http.MethodPost, compatShape{s}},
		"/v1/chat/completions":                             {http.MethodPost, compatShape{s}},
		"/compatible-mode/v1/models":                       {http.MethodGet, compatShape{s}},
		"/v1/models":                                       {http.MethodGet, compatShape{s}},
		"/api/v1/services/aigc/text-generation/generation": {http.MethodPost, nativeShape{s}},
		"/v1/process":                                      {http.MethodPost, processShape{s}},
		"/apps/anthropic/v1/messages":                      {http.MethodPost, anthropicShape{s}},
		"/apps/anthropic/v1/messages/count_tokens":         {http.MethodPost, anthropicShape{s}},
	} {
		r.Handle(path, s.methodNotAllowed(m.shape, m.allow))
	}
}

func (s *Server) methodNotAllowed(shape wireShape, allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		shape.writeError(w, r, errMethodNotAllowed(r.Method, r.URL.Path), s.newCall(r), false)
	})
}
