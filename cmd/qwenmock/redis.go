package main

import (
	"context"
	"log/slog"
	"net/url"
)

// announceRedis logs where the shared rate limits live (without the password) and what
// happens while Redis is unreachable. The server itself logs when Redis goes away and
// when it comes back.
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
}
