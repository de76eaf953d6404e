package mockserver

import (
	"fmt"
	"log/slog"
)

// Option configures a Server. Options are applied in order by New, which fails on the first
// invalid one.
type Option func(*config) error

type config struct {
	seed         uint64
	clock        Clock
	apiKeys      map[string]bool
	models       []Model
	limits       limitOverrides
	maxBodyBytes int64
	newRequestID func() string
	streamChunk  int
	logger       *slog.Logger
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
	return positiveOverride("WithContextWindow", tokens, func(c *config) { c.limits.contextWindow = tokens })
}

// WithMaxInputTokens overrides the max input tokens of every model (0 keeps each model's own).
// Longer prompts get the real 400 "Range of input length should be [1, N]".
func WithMaxInputTokens(tokens int) Option {
	return positiveOverride("WithMaxInputTokens", tokens, func(c *config) { c.limits.maxInput = tokens })
}

// WithMaxOutputTokens overrides the max output tokens of every model, with and without
// thinking (0 keeps each model's own).
func WithMaxOutputTokens(tokens int) Option {
	return positiveOverride("WithMaxOutputTokens", tokens, func(c *config) { c.limits.maxOutput = tokens })
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
