package mockserver

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Option configures a Server. Options are applied in order by New, which fails on the first
// invalid one.
type Option func(*config) error

type config struct {
	seed         uint64
	clock        Clock
	apiKeys      map[string]bool
	models       []Model
	tokens       tokenOverrides
	maxBodyBytes int64
	newRequestID func() string
	streamChunk  int
	// sleep waits a simulated latency (sleepCtx unless a test injects its own).
	sleep      func(ctx context.Context, d time.Duration) error
	logger     *slog.Logger
	fixtures   []Fixture
	noBuiltins bool
	fallback   string

	rate             limitLayer // rate limits of the options, applied in order
	tpmEstimate      string
	implicitCache    bool
	accounts         map[string]string // API key → account
	perSecond        bool
	burst            bool
	rateHeaders      bool
	journalSize      int
	journalBodyBytes int
	journalBytes     int
	latency          Latency
	faultRate        float64
	faultKinds       []string
	adminToken       string
	insecureControl  bool
	controlHosts     []string
	onRequest        func(RequestRecord)
	redisURL         string // WithRedis
	redisFailOpen    bool   // WithRedisFailOpen
	anthropicErrors  string
	responsesID      string // the form of Responses ids (WithResponsesID)
}

// Fallbacks: what answers a request that no fixture matches.
const (
	// FallbackGenerate answers with seeded generated prose (the default).
	FallbackGenerate = "generate"
	// FallbackEcho answers with the last user message.
	FallbackEcho = "echo"
	// FallbackStrict answers with an error listing the closest fixtures and why each missed.
	FallbackStrict = "strict"
)

// WithFixtures adds fixtures, tried before the built-in ones and after those of earlier
// options, in order: the first that matches a request decides its reply.
func WithFixtures(fixtures ...Fixture) Option {
	return func(c *config) error {
		c.fixtures = append(c.fixtures, fixtures...)
		return nil
	}
}

// WithFixtureFiles loads fixture files (YAML or JSON), or every such file of a directory,
// and adds their fixtures as WithFixtures does. A malformed file is an error naming its line.
func WithFixtureFiles(paths ...string) Option {
	return func(c *config) error {
		for _, p := range paths {
			fs, err := LoadFixtures(p)
			if err != nil {
				return err
			}
			c.fixtures = append(c.fixtures, fs...)
		}
		return nil
	}
}

// WithoutBuiltinFixtures drops the built-in fixtures (fixtures/replies.yaml), so that only
// your fixtures and the fallback answer.
func WithoutBuiltinFixtures() Option {
	return func(c *config) error {
		c.noBuiltins = true
		return nil
	}
}

// WithFallback sets what answers a request that no fixture matches: FallbackGenerate (the
// default), FallbackEcho or FallbackStrict.
func WithFallback(mode string) Option {
	return func(c *config) error {
		switch mode {
		case FallbackGenerate, FallbackEcho, FallbackStrict:
			c.fallback = mode
			return nil
		}
		return fmt.Errorf("WithFallback: %q is not generate, echo or strict", mode)
	}
}

// DefaultMaxBodyBytes is the default request body limit (32 MiB); larger bodies get 413.
const DefaultMaxBodyBytes = 32 << 20

// WithSeed sets the seed of generated replies. A reply is a pure function of (seed, request):
// the same request gives the same bytes in every run. The default seed is 1.
func WithSeed(seed uint64) Option {
	return func(c *config) error {
		c.seed = seed
		return nil
	}
}

// WithClock sets the clock that stamps responses and drives rate-limit windows.
func WithClock(clock Clock) Option {
	return func(c *config) error {
		if clock == nil {
			return fmt.Errorf("WithClock: nil clock")
		}
		c.clock = clock
		return nil
	}
}

// WithAPIKeys restricts access to the given keys (Authorization: Bearer <key>). Without it any
// non-empty key is accepted; a request with no key always gets 401.
func WithAPIKeys(keys ...string) Option {
	return func(c *config) error {
		for _, k := range keys {
			if k == "" {
				return fmt.Errorf("WithAPIKeys: empty key")
			}
			if c.apiKeys == nil {
				c.apiKeys = make(map[string]bool)
			}
			c.apiKeys[k] = true
		}
		return nil
	}
}

// WithModelsJSON replaces the built-in model catalogue with one in the format of
// fixtures/models.json (see ParseModels).
func WithModelsJSON(data []byte) Option {
	return func(c *config) error {
		models, err := ParseModels(data)
		if err != nil {
			return err
		}
		c.models = models
		return nil
	}
}

// WithModels replaces the built-in model catalogue.
func WithModels(models ...Model) Option {
	return func(c *config) error {
		data := marshalJSON(modelFile{Models: models})
		parsed, err := ParseModels(data)
		if err != nil {
			return err
		}
		c.models = parsed
		return nil
	}
}

// WithContextWindow overrides the context window of every model (0 keeps each model's own).
// A model's max input is lowered to the window if it was larger.
func WithContextWindow(tokens int) Option {
	return positiveOverride("WithContextWindow", tokens, func(c *config) { c.tokens.contextWindow = tokens })
}

// WithMaxInputTokens overrides the max input tokens of every model (0 keeps each model's own).
// Longer prompts get the real 400 "Range of input length should be [1, N]".
func WithMaxInputTokens(tokens int) Option {
	return positiveOverride("WithMaxInputTokens", tokens, func(c *config) { c.tokens.maxInput = tokens })
}

// WithMaxOutputTokens overrides the max output tokens of every model, with and without
// thinking (0 keeps each model's own).
func WithMaxOutputTokens(tokens int) Option {
	return positiveOverride("WithMaxOutputTokens", tokens, func(c *config) { c.tokens.maxOutput = tokens })
}

func positiveOverride(name string, n int, set func(*config)) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("%s: %d is negative", name, n)
		}
		set(c)
		return nil
	}
}

// WithMaxBodyBytes sets the largest accepted request body; larger ones get 413
// BadRequest.TooLarge. The default is DefaultMaxBodyBytes.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("WithMaxBodyBytes: %d must be positive", n)
		}
		c.maxBodyBytes = n
		return nil
	}
}

// WithRequestIDs sets the function that makes request ids (a UUID string by default). The id
// appears as request_id, in "chatcmpl-<id>" and in the x-request-id header. Tests use it to
// compare whole bodies.
func WithRequestIDs(next func() string) Option {
	return func(c *config) error {
		if next == nil {
			return fmt.Errorf("WithRequestIDs: nil function")
		}
		c.newRequestID = next
		return nil
	}
}

// WithStreamChunkTokens sets how many tokens each streamed content chunk carries (default 4).
func WithStreamChunkTokens(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("WithStreamChunkTokens: %d must be at least 1", n)
		}
		c.streamChunk = n
		return nil
	}
}

// WithLogger sets the logger for server-side problems (for example a client that went away
// mid-stream). The default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithLimits sets the requests and tokens per minute of every model over the catalogue's.
// A zero field keeps its value (see RateLimits); Unlimited lifts a limit. Options apply in
// order, so a later WithLimits or WithRateLimitOverride changes what an earlier one set;
// WithModelLimits wins for its model whatever the order.
func WithLimits(l RateLimits) Option {
	return func(c *config) error {
		p, err := pairOf("WithLimits", l)
		if err != nil {
			return err
		}
		c.rate.all = c.rate.all.over(p)
		return nil
	}
}

// WithModelLimits sets the limits of one model id (an alias and its snapshot are
// separate models, each with its own window, as on the real service). A zero field keeps
// its value (see RateLimits): WithModelLimits(m, RateLimits{RPM: 1}) keeps m's TPM.
func WithModelLimits(model string, l RateLimits) Option {
	return func(c *config) error {
		if model == "" {
			return fmt.Errorf("WithModelLimits: empty model id")
		}
		p, err := pairOf("WithModelLimits", l)
		if err != nil {
			return err
		}
		c.rate.setModel(model, p)
		return nil
	}
}

// WithTPMEstimate sets what a request reserves against TPM before its reply:
// TPMEstimateDeclared (the default) or TPMEstimateMaxOutput.
func WithTPMEstimate(mode string) Option {
	return func(c *config) error {
		if !validTPMEstimate(mode) {
			return fmt.Errorf("WithTPMEstimate: %q is not %s or %s", mode, TPMEstimateDeclared, TPMEstimateMaxOutput)
		}
		c.tpmEstimate = mode
		return nil
	}
}

// WithAccount groups API keys into one account: they share its rate-limit windows, as all
// keys of an account do on the real service. By default each key is its own account.
func WithAccount(name string, keys ...string) Option {
	return func(c *config) error {
		if name == "" || len(keys) == 0 {
			return fmt.Errorf("WithAccount: a name and at least one key are required")
		}
		if c.accounts == nil {
			c.accounts = map[string]string{}
		}
		for _, k := range keys {
			if prev, ok := c.accounts[k]; ok && prev != name {
				return fmt.Errorf("WithAccount: key %s is already in account %q", redactKey(k), prev)
			}
			c.accounts[k] = name
		}
		return nil
	}
}

// WithPerSecondLimits also enforces ⌈RPM/60⌉ requests and ⌈TPM/60⌉ tokens in any one-second
// span, as the real service does; a request alone in its second always passes the token
// check.
func WithPerSecondLimits() Option {
	return func(c *config) error {
		c.perSecond = true
		return nil
	}
}

// WithBurstLimits refuses sudden growth with the real Throttling.BurstRate 429: more requests
// in one second than both ⌈RPM/120⌉ and twice the average rate of the minute before.
func WithBurstLimits() Option {
	return func(c *config) error {
		c.burst = true
		return nil
	}
}

// WithRateLimitHeaders adds Retry-After, retry-after-ms and x-ratelimit-* headers, computed
// from the state that decides admission. The real service sends none; clients whose retry
// logic reads them can be tested with this.
func WithRateLimitHeaders() Option {
	return func(c *config) error {
		c.rateHeaders = true
		return nil
	}
}

// WithRateLimitOverride sets RPM and/or TPM of every model, each only when not nil (0 means
// unlimited); the other keeps its value. It is what the --rpm and --tpm flags do. Like
// WithLimits it applies in order with it; WithModelLimits wins for its model.
func WithRateLimitOverride(rpm, tpm *int) Option {
	return func(c *config) error {
		if (rpm != nil && *rpm < 0) || (tpm != nil && *tpm < 0) {
			return fmt.Errorf("WithRateLimitOverride: limits must not be negative")
		}
		c.rate.all = c.rate.all.over(LimitOverride{RPM: cloneInt(rpm), TPM: cloneInt(tpm)})
		return nil
	}
}

func cloneInt(p *int) *int {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// DefaultJournalSize is how many requests the journal keeps (the oldest are dropped).
const DefaultJournalSize = 1000

// DefaultJournalBodyBytes is how much of each request body the journal keeps.
const DefaultJournalBodyBytes = 64 << 10

// DefaultJournalBytes bounds the journal's total size: bodies, other fields and a fixed
// allowance per record. The oldest records are dropped to stay within it.
const DefaultJournalBytes = 32 << 20

// WithJournalBytes sets the journal's total size bound (DefaultJournalBytes by default).
func WithJournalBytes(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("WithJournalBytes: %d must be positive", n)
		}
		c.journalBytes = n
		return nil
	}
}

// WithJournal sets how many requests the journal keeps (0 turns it off) and how many bytes of
// each body it keeps.
func WithJournal(size, bodyBytes int) Option {
	return func(c *config) error {
		if size < 0 || bodyBytes < 0 {
			return fmt.Errorf("WithJournal: sizes must not be negative")
		}
		c.journalSize, c.journalBodyBytes = size, bodyBytes
		return nil
	}
}

// WithLatency simulates the model's speed: the wait before the first token and between
// tokens (streams), or their total before the body (non-stream), each varied by up to
// ±jitter (a fraction in [0, 1], seeded per request). Zero by default.
func WithLatency(firstToken, perToken time.Duration, jitter float64) Option {
	return func(c *config) error {
		l := Latency{FirstToken: firstToken, PerToken: perToken, Jitter: jitter}
		if err := l.validate(); err != nil {
			return fmt.Errorf("WithLatency: %v", err)
		}
		c.latency = l
		return nil
	}
}

// WithFaultRate makes a seeded random fraction of requests (0 to 1) fail with an internal,
// overloaded, timeout or requests-per-minute error. Which requests fail depends only on the
// seed and the order of requests.
func WithFaultRate(rate float64) Option {
	return func(c *config) error {
		if !(rate >= 0 && rate <= 1) {
			return fmt.Errorf("WithFaultRate: %v is not in [0, 1]", rate)
		}
		c.faultRate = rate
		return nil
	}
}

// WithAdminToken locks the control API: /_mock/* (except GET /_mock/health) then needs
// "Authorization: Bearer <token>", from any host. Without a token the control API answers
// only requests addressed to a loopback host (or one of WithControlHosts) that no web page of
// another site sent, and needs Content-Type: application/json on writes with a body.
func WithAdminToken(token string) Option {
	return func(c *config) error {
		c.adminToken = token
		return nil
	}
}

// WithControlHosts adds host names (or addresses) that the control API answers without an
// admin token, besides the loopback ones ("localhost", "*.localhost", 127.0.0.0/8, ::1).
func WithControlHosts(hosts ...string) Option {
	return func(c *config) error {
		for _, h := range hosts {
			h = strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), "."))
			if h == "" {
				return fmt.Errorf("WithControlHosts: empty host")
			}
			c.controlHosts = append(c.controlHosts, h)
		}
		return nil
	}
}

// WithInsecureControlAPI serves /_mock/* to any host and any web page without a token: what
// the control API did before it was locked. Use it only on a machine nobody else reaches.
func WithInsecureControlAPI() Option {
	return func(c *config) error {
		c.insecureControl = true
		return nil
	}
}

// WithRequestLog calls fn with each request's record once it is answered (the same record the
// journal keeps), for logging. fn runs on the request's goroutine and must be quick.
func WithRequestLog(fn func(RequestRecord)) Option {
	return func(c *config) error {
		c.onRequest = fn
		return nil
	}
}
