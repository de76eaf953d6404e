package mockserver

import "net/http"

// wireShape is one API shape (compatible, native, …): it decodes requests into a
// chatRequest and writes results and errors in its own format. Everything between — auth,
// validation, token counting, limits, the reply and its truncation — is the shared pipeline
// in serveChat, so every shape behaves identically.
type wireShape interface {
	name() string
	// streamRequested tells, before the body is decoded, whether the client asked for a
	// stream, so that early errors go out in the form it expects.
	streamRequested(r *http.Request, body []byte) bool
	decode(r *http.Request, body []byte) (*chatRequest, *Error)
	writeError(w http.ResponseWriter, r *http.Request, e *Error, c *call, stream bool)
	// writeResult writes the reply and returns the completion tokens that reached the client.
	writeResult(w http.ResponseWriter, r *http.Request, c *call, res *result) int
}

// serveChat runs one chat request through the pipeline:
// read → auth → decode → validate and count → admit → reply → write → settle.
// The HTTP status is decided before the first byte; after it, only a stream frame can fail.
func (s *Server) serveChat(w http.ResponseWriter, r *http.Request, shape wireShape) {
	c := s.newCall(r)
	body, e := s.readBody(w, r)
	if e != nil {
		shape.writeError(w, r, e, c, false)
		return
	}
	if e := s.authenticate(r); e != nil {
		shape.writeError(w, r, e, c, shape.streamRequested(r, body))
		return
	}
	req, e := shape.decode(r, body)
	if e != nil {
		shape.writeError(w, r, e, c, shape.streamRequested(r, body))
		return
	}
	req.Fixture = r.Header.Get("X-Mock-Fixture")
	if e := s.prepare(c, req); e != nil {
		shape.writeError(w, r, e, c, req.Stream)
		return
	}
	adm, e := s.admit(w, c, bearerKey(r.Header.Get("Authorization")))
	if e != nil {
		shape.writeError(w, r, e, c, req.Stream)
		return
	}
	res, e := s.respond(c)
	if e != nil {
		s.settle(adm, 0)
		shape.writeError(w, r, e, c, req.Stream)
		return
	}
	sent := shape.writeResult(w, r, c, res)
	s.settle(adm, c.promptTokens+sent)
}
