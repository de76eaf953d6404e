package mockserver

import (
	"errors"
	"net/http"
	"time"
)

// wireShape is one API shape (compatible, native, …): it decodes requests into a
// chatRequest and writes results and errors in its own format. Everything between — auth,
// validation, token counting, faults, limits, the reply, its truncation and pacing — is the
// shared pipeline in serveChat, so every shape behaves identically.
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
// read → auth → decode → validate and count → fault → admit → reply → pace and write →
// settle → usage and journal. The HTTP status is decided before the first byte; after it,
// only a stream frame can fail.
func (s *Server) serveChat(w http.ResponseWriter, r *http.Request, shape wireShape) {
	c := s.newCall(r)
	key := bearerKey(r.Header.Get("Authorization"))
	rec := RequestRecord{RequestID: c.id, Time: s.clock.Now(), Method: r.Method, Path: r.URL.Path, Shape: shape.name()}
	if key != "" {
		rec.Key = redactKey(key)
	}
	rec.Headers, rec.HeadersTruncated = journalHeaders(r.Header)
	defer func() {
		rec.DurationMs = float64(time.Since(c.start).Microseconds()) / 1000
		rec.Seq = s.journal.add(rec)
		if s.cfg.onRequest != nil {
			s.cfg.onRequest(rec)
		}
		if c.dropped {
			// stream_drop: end the connection without a proper end of stream.
			panic(http.ErrAbortHandler)
		}
	}()
	fail := func(e *Error, stream bool) {
		rec.Status, rec.ErrorCode = e.Status, e.CompatCode
		shape.writeError(w, r, e, c, stream)
	}

	body, e := s.readBody(w, r)
	rec.Body, rec.BodyTruncated = capBody(body, s.cfg.journalBodyBytes)
	if e != nil {
		fail(e, false)
		return
	}
	if e := s.authenticate(r); e != nil {
		fail(e, shape.streamRequested(r, body))
		return
	}
	req, e := shape.decode(r, body)
	if e != nil {
		fail(e, shape.streamRequested(r, body))
		return
	}
	rec.Model, rec.Stream = req.Model, req.Stream
	req.Fixture = r.Header.Get("X-Mock-Fixture")
	if e := s.prepare(c, req); e != nil {
		fail(e, req.Stream)
		return
	}

	fault, hasFault, e := s.faultFor(r, c)
	if e != nil {
		fail(e, req.Stream)
		return
	}
	if hasFault {
		rec.Fault = fault.Kind
		switch fault.Kind {
		case FaultHang:
			<-r.Context().Done()
			return
		case FaultSlowHeaders:
			delay := time.Duration(fault.DelayMs) * time.Millisecond
			if delay == 0 {
				delay = DefaultSlowHeadersDelay
			}
			if sleepCtx(r.Context(), delay) != nil {
				return
			}
		case FaultInvalidToolArguments, FaultUnknownTool, FaultEmptyReply, FaultLengthMidToolCall, FaultMalformedChunk:
			c.semantic = &fault
		case FaultStreamDrop:
			if !req.Stream || fault.AfterChunks == 0 {
				c.dropped = true
				return
			}
			c.fault = &fault
		default:
			fe := c.errorOfFault(fault)
			if !req.Stream || fault.AfterChunks == 0 {
				fail(fe, req.Stream)
				return
			}
			c.fault, c.faultErr = &fault, fe
		}
	}

	adm, e := s.admit(w, c, key)
	rec.PrematureRetry, rec.EstimateTokens, rec.NeverAdmissible = adm.premature, adm.estimate, adm.never
	if e != nil {
		fail(e, req.Stream)
		return
	}
	c.cache = s.cacheLookup(cacheInput{key: s.limits.scopeOf(key, c.modelID), messages: req.Messages,
		tools: req.Tools, promptTokens: c.promptTokens}, s.clock.Now())
	res, e := s.respond(c)
	if e != nil {
		s.settle(adm, 0)
		fail(e, req.Stream)
		return
	}
	if c.semantic != nil && c.semantic.Kind != FaultMalformedChunk {
		s.applySemanticFault(c, res, c.semantic.Kind)
	}
	rec.Fixture = res.fixtureName()
	c.pace = s.newPacer(r.Context(), c, res.fixture)
	if !req.Stream && c.pace.tokens(res.completionTokens) != nil {
		s.settle(adm, c.promptTokens) // the client gave up before the answer
		rec.Status, rec.ErrorCode = 499, "client_closed_request"
		rec.Interrupted, rec.ReplyTokens = true, res.completionTokens
		return
	}
	sent := shape.writeResult(w, r, c, res)
	s.settle(adm, c.promptTokens+sent)
	if sent < res.completionTokens && c.fault == nil {
		rec.Interrupted, rec.ReplyTokens = true, res.completionTokens
		s.log.Info("client went away mid-stream", "request_id", c.id, "model", c.modelID,
			"sent_tokens", sent, "reply_tokens", res.completionTokens)
	}
	s.usage.add(key, c.model, c.modelID, c.promptTokens, sent, c.cache)

	rec.Status, rec.PromptTokens, rec.CompletionTokens = http.StatusOK, c.promptTokens, sent
	rec.FinishReason = res.choices[0].finish
	rec.CachedTokens, rec.CacheCreationTokens = c.cache.cachedTokens(), c.cache.created
	if c.faultErr != nil {
		rec.ErrorCode = c.faultErr.CompatCode
	}
}

// faultFor returns the fault a request gets: the X-Mock-Fault header, else a queued or
// random one.
func (s *Server) faultFor(r *http.Request, c *call) (Fault, bool, *Error) {
	if h := r.Header.Get("X-Mock-Fault"); h != "" {
		f, e := faultFromHeader(h)
		return f, e == nil, e
	}
	f, ok := s.faults.take(c.modelID)
	return f, ok, nil
}

// errInjected ends a stream that an injected fault interrupted.
var errInjected = errors.New("fault injected")
