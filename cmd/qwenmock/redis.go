package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/redis/go-redis/v9"
)

// announceRedis logs where the shared rate limits live (without the password) and what
// happens while Redis is unreachable, and sends go-redis's own messages (failed dials) to
// the log at debug level: the server logs when Redis goes away and when it comes back.
func announceRedis(_ context.Context, logger *slog.Logger, rawURL string, failOpen bool) {
	shown := "(unparsable)"
	if u, err := url.Parse(rawURL); err == nil {
		shown = u.Redacted()
	}
	policy := "answer 503"
	if failOpen {
		policy = "pass unchecked"
	}
	logger.Info("rate limits are shared through Redis", "redis", shown, "while_unreachable", policy)
	redis.SetLogger(redisLog{logger})
}

type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.l.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}
