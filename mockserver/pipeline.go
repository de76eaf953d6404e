package mockserver

import (
	"net/http"
	"time"
)

// wireShape is one API shape (compatible, native, …): it decodes requests into a
// chatRequest, applies its own rules, and writes results and errors in its own format,
// headers included. Everything between — auth, validation, token counting, faults, limits,
// the reply, its truncation and pacing — is the shared pipeline in serveChat, so every shape
// behaves identically. Options only one shape knows travel opaquely in chatRequest.Shape.
type wireShape interface {
	// name is the shape as the journal records it ("compatible", "native", …).
	name() string
	// streamRequested tells, before the body is decoded, whether the client asked for a
	// stream, so that early errors go out in the form it expects.
	streamRequested(r *http.Request, body []byte) bool
	// decode turns the body into the core's request, or a bad_request *Error.
	decode(r *http.Request, body []byte) (*chatRequest, *Error)
	// check applies the shape's own rules once the core has resolved the model and the
	// thinking mode (c.model, c.thinking), before the prompt is counted.
	check(c *call) *Error
	// writeError writes e in the shape's envelope (as one stream event when stream is set)
	// with e.Status; it sets the headers through c.setHeaders.
	writeError(w http.ResponseWriter, r *http.Request, e *Error, c *call, stream bool)
	// writeResult writes the reply and returns the completion tokens that reached the
	// client, and whether the stream_drop fault cut the stream (sseWriter.dropped), in which
	// case the pipeline aborts the connection.
	writeResult(w http.ResponseWriter, r *http.Request, c *call, res *result) (sent int, dropped bool)
}

// serveChat runs one chat request through the pipeline:
// auth → read → decode → validate and count → fault → admit → reply → pace and write →
// settle → usage and journal. The HTTP status is decided before the first byte; after it,
// only a stream frame can fail. A stream_drop fault ends the connection without a proper end
// of stream, once the request is in the journal.
func (s *Server) serveChat(w http.ResponseWriter, r *http.Request, shape wireShape) {
	st := s.startChat(r, shape)
	cw := newCaptureWriter(w, s.cfg.journalBodyBytes)
	res, names, drop := s.runChat(cw, r, shape, st)
	if res != nil {
		drop = s.deliver(cw, r, shape, st, res, names)
	}
	s.finishChat(st, cw)
	if drop {
		panic(http.ErrAbortHandler)
	}
}

// startChat and finishChat are the first and last steps of serveChat, functions of their own
// so that the records they build and copy take no room in serveChat's stack frame. A stream
// writes its response headers (net/http's chunkWriter.writeHeader, a frame of 2.8 KiB) at
// the bottom of the handler's stack: kept shallow, a stream's goroutine stays within its
// first 8 KiB of stack instead of growing to 16 KiB, which is half the stack memory of many
// open streams.
//
//go:noinline
func (s *Server) startChat(r *http.Request, shape wireShape) *chatState {
	st := getChatState()
	c, rec := &st.c, &st.rec
	s.initCall(c, r)
	c.st = st
	*rec = RequestRecord{RequestID: c.id, Time: s.clock.Now(), Method: r.Method, Path: r.URL.Path, Shape: shape.name()}
	return st
}

// finishChat puts a finished request in the journal and the metrics and gives its state back.
//
//go:noinline
func (s *Server) finishChat(st *chatState, cw *captureWriter) {
	c, rec := &st.c, &st.rec
	rec.Response, rec.ResponseTruncated = cw.body()
	cw.release()
	elapsed := time.Since(c.start)
	rec.DurationMs = float64(elapsed.Microseconds()) / 1000
	rec.Seq = s.journal.add(*rec)
	if s.cfg.onRequest != nil {
		s.cfg.onRequest(*rec)
	}
	s.metrics.request(c, rec, elapsed)
	st.release()
}

// runChat is the pipeline of serveChat up to the answer, filling in the journal entry
// (st.rec) as it goes. It returns the result to deliver and the key's names, or no result
// when it has answered already (an error, a fault); drop reports a connection to be dropped.
func (s *Server) runChat(w *captureWriter, r *http.Request, shape wireShape, st *chatState) (res *result, names *keyNames, drop bool) {
	c, rec := &st.c, &st.rec
	key := bearerKey(r.Header.Get("Authorization"))
	if key != "" {
		names = namesOf(key)
		rec.Key = names.label
	}
	rec.Headers, rec.HeadersTruncated = journalHeaders(r.Header, key, names)
	fail := func(e *Error, stream bool) {
		rec.Status, rec.ErrorCode = e.Status, journalCode(e)
		shape.writeError(w, r, e, c, stream)
		if w.status != 0 {
			rec.Status = w.status // the status the shape wrote, which may be its own
		}
	}

	// The key first: a client without a valid key gets its 401 before its body is read
	// (peekBody), so it costs no body's worth of memory or journal.
	if e := s.authenticate(r); e != nil {
		fail(e, shape.streamRequested(r, peekBody(r)))
		return nil, nil, false
	}
	body, reserved, e := s.readBodyReserved(w, r)
	defer s.bodies.release(reserved)
	rec.Body, rec.BodyTruncated = journalBody(body, s.cfg.journalBodyBytes)
	if e != nil {
		fail(e, false)
		return nil, nil, false
	}
	var req *chatRequest
	compat, isCompat := shape.(compatShape)
	isCompat = isCompat && !st.plain
	if isCompat {
		req, e = compat.decodeInto(st, body)
	} else {
		req, e = shape.decode(r, body)
	}
	if e != nil {
		fail(e, shape.streamRequested(r, body))
		return nil, nil, false
	}
	c.pooled = isCompat && !req.Stream
	rec.Model, rec.Stream = req.Model, req.Stream
	req.Fixture = r.Header.Get("X-Mock-Fixture")
	if e := s.prepare(c, req, shape); e != nil {
		fail(e, req.Stream)
		return nil, nil, false
	}

	fault, hasFault, e := s.faultFor(r, c)
	if e != nil {
		fail(e, req.Stream)
		return nil, nil, false
	}
	if hasFault {
		rec.Fault = fault.Kind
		switch fault.Kind {
		case FaultHang:
			if req.Stream && fault.AfterChunks > 0 {
				c.fault = faultRef(fault) // the stream starts, then stalls (sseWriter.write)
				break
			}
			<-r.Context().Done()
			return nil, nil, false
		case FaultSlowHeaders:
			delay := time.Duration(fault.DelayMs) * time.Millisecond
			if delay == 0 {
				delay = DefaultSlowHeadersDelay
			}
			if s.sleep(r.Context(), delay) != nil {
				return nil, nil, false
			}
		case FaultInvalidToolArguments, FaultUnknownTool, FaultEmptyReply, FaultLengthMidToolCall, FaultMalformedChunk:
			c.semantic = faultRef(fault)
		case FaultStreamDrop:
			if !req.Stream || fault.AfterChunks == 0 {
				return nil, nil, true // drop before the first byte
			}
			c.fault = faultRef(fault)
		default:
			fe := c.errorOfFault(fault)
			if !req.Stream || fault.AfterChunks == 0 {
				fail(fe, req.Stream)
				return nil, nil, false
			}
			c.fault, c.faultErr = faultRef(fault), fe
		}
	}

	adm := &st.adm
	e = s.admitInto(c, key, names, adm)
	c.admission = adm
	s.observeDecision(c, adm)
	rec.PrematureRetry, rec.EstimateTokens, rec.NeverAdmissible = adm.premature, adm.estimate, adm.never
	if e != nil {
		fail(e, req.Stream)
		return nil, nil, false
	}
	c.cache = s.cacheLookup(cacheInput{key: adm.key, messages: req.Messages,
		tools: req.Tools, promptTokens: c.promptTokens}, s.clock.Now())
	res, e = s.respond(c)
	if e != nil {
		s.settle(adm, 0)
		fail(e, req.Stream)
		return nil, nil, false
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
		return nil, nil, false
	}
	return res, names, false
}

// deliver writes the answer runChat prepared, settles the admission and fills in the rest of
// the journal entry; it reports whether the connection is to be dropped. serveChat calls it
// once runChat has returned, so that runChat's frame is off the stack while a stream is
// written (see startChat).
//
//go:noinline
func (s *Server) deliver(w http.ResponseWriter, r *http.Request, shape wireShape, st *chatState, res *result, names *keyNames) (drop bool) {
	c, rec, adm, req := &st.c, &st.rec, &st.adm, st.c.req
	if c.semantic != nil && c.semantic.Kind == FaultMalformedChunk && !req.Stream {
		hw := &halfBodyWriter{ResponseWriter: w}
		defer hw.flush()
		w = hw
	}
	if req.Stream {
		s.metrics.streamOpen(1)
	}
	sent, dropped := shape.writeResult(w, r, c, res)
	if req.Stream {
		s.metrics.streamOpen(-1)
	}
	c.stats.reasoning = min(res.reasoningTokens, sent)
	s.settle(adm, c.promptTokens+sent)
	if sent < res.completionTokens && (c.fault == nil || c.fault.Kind == FaultHang) {
		rec.Interrupted, rec.ReplyTokens = true, res.completionTokens
		s.log.Info("client went away mid-stream", "request_id", c.id, "model", c.modelID,
			"sent_tokens", sent, "reply_tokens", res.completionTokens)
	}
	s.usage.add(names.label, c.model, c.modelID, c.promptTokens, sent, c.cache)

	rec.Status, rec.PromptTokens, rec.CompletionTokens = http.StatusOK, c.promptTokens, sent
	rec.FinishReason = res.choices[0].finish
	rec.CachedTokens, rec.CacheCreationTokens = c.cache.cachedTokens(), c.cache.created
	if c.faultErr != nil {
		rec.ErrorCode = journalCode(c.faultErr)
	}
	return dropped
}

// faultRef is a pointer to a copy of f: a request with a fault pays for it, one without does
// not.
func faultRef(f Fault) *Fault { return &f }

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
