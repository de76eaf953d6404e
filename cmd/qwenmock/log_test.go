package main

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/qwenmock/qwenmock/mockserver"
)

// slogRequestLine is the request line as slog's JSONHandler writes it at time t: the
// reference of appendRequestJSON.
func slogRequestLine(t time.Time, r mockserver.RequestRecord) string {
	var buf bytes.Buffer
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
	rec := slog.NewRecord(t, slog.LevelInfo, "request", 0)
	rec.Add(attrs...)
	_ = slog.NewJSONHandler(&buf, nil).Handle(context.Background(), rec)
	return buf.String()
}

// TestRequestLineLikeSlog checks the request line against slog's JSONHandler for times in
// several zones and values that need escaping or an exponent.
func TestRequestLineLikeSlog(t *testing.T) {
	odd := "a\"b\\c\nd\re\tf\x00g\x1fh<i>&j\u2028k\u2029l\xffm é 中"
	times := []time.Time{
		time.Date(2026, 12, 8, 1, 2, 3, 456789000, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 5*3600+30*60)),
		time.Date(1999, 12, 31, 23, 59, 59, 1, time.FixedZone("Y", -7*3600)),
		time.Now(),
	}
	records := []mockserver.RequestRecord{
		{Method: "POST", Path: "/compatible-mode/v1/chat/completions", Model: "qwen3-max", Status: 200,
			PromptTokens: 12, CompletionTokens: 34, DurationMs: 0.123, RequestID: "00000000-0000-4000-8000-000000000001"},
		{Method: "POST", Path: "/v1/chat/completions", Status: 401, DurationMs: 0, RequestID: "x", ErrorCode: "invalid_api_key"},
		{Method: odd, Path: odd, Model: odd, Status: 499, DurationMs: 1e-7, RequestID: odd, ErrorCode: odd, Stream: true, Fault: odd},
		{Method: "GET", Status: 500, DurationMs: 1234567.891, Stream: true, Fault: "stream_drop"},
		{Status: -1, PromptTokens: -5, DurationMs: 1e21},
		{DurationMs: 5e-324},
		{DurationMs: math.MaxFloat64},
		{DurationMs: -0.5},
		{DurationMs: 123456789012345678},
	}
	for _, tm := range times {
		for i, r := range records {
			if got, want := string(appendRequestJSON(nil, tm, r)), slogRequestLine(tm, r); got != want {
				t.Errorf("record %d at %v:\n got %s\nwant %s", i, tm, got, want)
			}
		}
	}
}

// TestRequestLogFormats checks what logRequest writes: the JSON line, and slog's text line
// for the text format and for a duration JSON cannot hold.
func TestRequestLogFormats(t *testing.T) {
	r := mockserver.RequestRecord{Method: "POST", Path: "/v1/chat/completions", Model: "qwen3-max", Status: 200,
		PromptTokens: 9, CompletionTokens: 3, DurationMs: 1.5, RequestID: "id-1", Stream: true}
	var buf bytes.Buffer
	logRequest(newLogger("json", &buf), r)
	line := buf.String()
	if !strings.HasPrefix(line, `{"time":"`) || !strings.HasSuffix(line, `","level":"INFO","msg":"request","method":"POST","path":"/v1/chat/completions","model":"qwen3-max","status":200,"prompt_tokens":9,"completion_tokens":3,"duration_ms":1.5,"request_id":"id-1","stream":true}`+"\n") {
		t.Fatalf("json line %q", line)
	}
	buf.Reset()
	logRequest(newLogger("text", &buf), r)
	if line := buf.String(); !strings.HasPrefix(line, "time=") || !strings.HasSuffix(line, ` level=INFO msg=request method=POST path=/v1/chat/completions model=qwen3-max status=200 prompt_tokens=9 completion_tokens=3 duration_ms=1.5 request_id=id-1 stream=true`+"\n") {
		t.Fatalf("text line %q", line)
	}
	buf.Reset()
	r.DurationMs = math.Inf(1)
	logRequest(newLogger("json", &buf), r)
	if line := buf.String(); !strings.Contains(line, `"duration_ms":"!ERROR:`) {
		t.Fatalf("json line with an infinite duration %q", line)
	}
}
