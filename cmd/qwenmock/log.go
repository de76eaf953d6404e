package main

import (
	"io"
	"log/slog"

	"github.com/qwenmock/qwenmock/mockserver"
)

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// logRequest writes one line per request. API keys are never logged, not even redacted,
// and neither are bodies.
func logRequest(l *slog.Logger, r mockserver.RequestRecord) {
	attrs := []any{
		"method", r.Method, "path", r.Path, "model", r.Model, "status", r.Status,
		"prompt_tokens", r.PromptTokens, "completion_tokens", r.CompletionTokens,
		"duration_ms", r.DurationMs, "request_id", r.RequestID,
	}
	if r.ErrorCode != "" {
		attrs = append(attrs, "error_code", r.ErrorCode)
	}
	if r.Stream {
		attrs = append(attrs, "stream", true)
	}
	if r.Fault != "" {
		attrs = append(attrs, "fault", r.Fault)
	}
	l.Info("request", attrs...)
}
