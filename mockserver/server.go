package mockserver

import (
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/qwenmock/qwenmock/fixtures"
	"github.com/qwenmock/qwenmock/mockserver/ratelimit"
	"github.com/qwenmock/qwenmock/mockserver/tokenizer"
)

// Server is an offline stand-in for the Qwen3-Max API (Model Studio / DashScope). It is an
// http.Handler and opens no socket: serve it with net/http, httptest, or mount it in a mux.
type Server struct {
	cfg      config
	clock    *offsetClock
	models   *catalogue
	tok      *tokenizer.Tokenizer
	router   *mux.Router
	log      *slog.Logger
	chunkBy  int
	fixtures *fixtureSet
	rates    *rateLimiter
	journal  *journal
	faults   *faultQueue
	latency  *latencySetting
	usage    *usageBook
	cache    *contextCache
	// responses keeps Responses API answers for previous_response_id and GET.
	responses responseStore
	metrics   *metrics       // nil when WithoutMetrics
	history   *windowHistory // per-second rate-limit history for the dashboard
	bodies    *bodyBudget    // bytes of request bodies held by requests in flight
	// genTokens is the token count of the generation prompt that ends every prompt not
	// ending with a partial assistant message (generationPrompt).
	genTokens int
}

// New builds a Server from the built-in catalogue and the given options. It fails on an
// invalid option; it never touches the network, the environment or the command line.
func New(opts ...Option) (*Server, error) {
	cfg := config{
		seed:             1,
		clock:            systemClock{},
		maxBodyBytes:     DefaultMaxBodyBytes,
		newRequestID:     newUUID,
		streamChunk:      4,
		logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		fallback:         FallbackGenerate,
		journalSize:      DefaultJournalSize,
		journalBodyBytes: DefaultJournalBodyBytes,
		tpmEstimate:      TPMEstimateDeclared,
		implicitCache:    true,
		journalBytes:     DefaultJournalBytes,
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.models == nil {
		models, err := ParseModels(fixtures.ModelsJSON)
		if err != nil {
			return nil, err
		}
		cfg.models = models
	}
	var builtin []Fixture
	if !cfg.noBuiltins {
		var err error
		if builtin, err = builtinFixtures(); err != nil {
			return nil, err
		}
	}
	fixtures, err := newFixtureSet(cfg.fixtures, builtin)
	if err != nil {
		return nil, err
	}
	backend, err := newLimitBackend(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		clock:    &offsetClock{base: cfg.clock},
		models:   newCatalogue(cfg.models, cfg.tokens),
		tok:      tokenizer.Default(),
		log:      cfg.logger,
		chunkBy:  cfg.streamChunk,
		fixtures: fixtures,
	}
	s.genTokens = s.tok.Count(generationPrompt)
	s.rates = &rateLimiter{
		backend:       backend,
		headers:       cfg.rateHeaders,
		start:         cfg.rate.clone(),
		startEstimate: cfg.tpmEstimate,
		notBefore:     map[ratelimit.Key]time.Time{},
		premature:     map[ratelimit.Key]int{},
		accountOf:     maps.Clone(cfg.accounts),
		lru:           scopeLRU{max: MaxScopes},
		catalogued: func(model string) RateLimits {
			if m, ok := s.models.lookup(model); ok {
				return RateLimits{RPM: m.RPM, TPM: m.TPM}
			}
			return RateLimits{}
		},
	}
	s.journal = newJournal(cfg.journalSize, cfg.journalBodyBytes, cfg.journalBytes)
	kinds := cfg.faultKinds
	if kinds == nil {
		kinds = DefaultFaultKinds
	}
	s.faults = &faultQueue{rate: cfg.faultRate, kinds: kinds, rng: rand.New(rand.NewPCG(cfg.seed, 0x9e3779b97f4a7c15))}
	s.latency = &latencySetting{l: cfg.latency}
	s.usage = &usageBook{m: map[usageKey]*UsageRecord{}}
	s.cache = newContextCache(cfg.implicitCache)
	s.bodies = &bodyBudget{max: BodyBudgetFactor * cfg.maxBodyBytes}
	s.history = newWindowHistory()
	if !cfg.noMetrics {
		s.metrics = newMetrics(s)
	}
	s.router = s.routes()
	return s, nil
}

// ServeHTTP serves the real API's paths (see routes.go).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The chat routes take most of the traffic: they go straight to their handler, which
	// needs nothing the router adds (no path variables, no middleware), saving its
	// per-request allocations.
	if r.Method == http.MethodPost {
		switch r.URL.Path {
		case "/compatible-mode/v1/chat/completions", "/v1/chat/completions":
			s.handleCompatChat(w, r)
			return
		}
	}
	s.router.ServeHTTP(w, r)
}

// Now is the server's current time: its clock plus every Advance.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Advance moves the server's clock forward by d without sleeping. The total of every Advance
// is bounded by MaxClockOffset: a step that would pass it moves the clock to the bound. With
// WithRedis it moves the shared clock of every server using the same Redis; if Redis cannot
// be reached, the clock stays and the failure is logged (POST /_mock/clock/advance answers
// 503).
func (s *Server) Advance(d time.Duration) {
	if rest := MaxClockOffset - time.Duration(s.clock.offset.Load()); d > rest {
		d = rest
	}
	if _, err := s.advance(d); err != nil {
		s.log.Error("advance the clock", "err", err.Error())
	}
}

// Models returns the server's model catalogue after overrides, sorted by id.
func (s *Server) Models() []Model {
	out := make([]Model, len(s.models.order))
	for i, m := range s.models.order {
		out[i] = *m
	}
	return out
}

// builtinFixtures parses fixtures/replies.yaml once per process.
var builtinFixtures = sync.OnceValues(func() ([]Fixture, error) {
	return ParseFixtures("builtin:replies.yaml", fixtures.RepliesYAML)
})
