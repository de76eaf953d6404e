package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
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
	logged := func(format string) string {
		buf.Reset()
		l := newLogger(format, &buf)
		logRequest(l, r)
		if buf.Len() != 0 {
			t.Fatalf("written before its batch: %q", buf.String())
		}
		_ = l.w.Flush()
		return buf.String()
	}
	line := logged("json")
	if !strings.HasPrefix(line, `{"time":"`) || !strings.HasSuffix(line, `","level":"INFO","msg":"request","method":"POST","path":"/v1/chat/completions","model":"qwen3-max","status":200,"prompt_tokens":9,"completion_tokens":3,"duration_ms":1.5,"request_id":"id-1","stream":true}`+"\n") {
		t.Fatalf("json line %q", line)
	}
	if line := logged("text"); !strings.HasPrefix(line, "time=") || !strings.HasSuffix(line, ` level=INFO msg=request method=POST path=/v1/chat/completions model=qwen3-max status=200 prompt_tokens=9 completion_tokens=3 duration_ms=1.5 request_id=id-1 stream=true`+"\n") {
		t.Fatalf("text line %q", line)
	}
	r.DurationMs = math.Inf(1)
	if line := logged("json"); !strings.Contains(line, `"duration_ms":"!ERROR:`) {
		t.Fatalf("json line with an infinite duration %q", line)
	}
}

// countingWriter records each write.
type countingWriter struct {
	mu     sync.Mutex
	writes []string
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func (w *countingWriter) text() (string, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.writes, ""), len(w.writes)
}

// TestLogWriterBatches checks that lines go out whole, in order, all of them, in batches:
// after the delay, at once when a batch is full, and on Flush.
func TestLogWriterBatches(t *testing.T) {
	var out countingWriter
	lw := &logWriter{w: &out}
	var want strings.Builder
	for i := range 100 {
		line := fmt.Sprintf("line %d\n", i)
		want.WriteString(line)
		_, _ = lw.Write([]byte(line))
	}
	deadline := time.Now().Add(5 * time.Second)
	for { // the timer writes them
		if got, n := out.text(); got == want.String() {
			if n > 2 {
				t.Fatalf("100 lines in %d writes", n)
			}
			break
		}
		if time.Now().After(deadline) {
			got, _ := out.text()
			t.Fatalf("after the delay: %q", got)
		}
		time.Sleep(time.Millisecond)
	}

	// A full batch is written by the line that fills it.
	big := strings.Repeat("x", logBatchBytes) + "\n"
	_, _ = lw.Write([]byte(big))
	if got, _ := out.text(); got != want.String()+big {
		t.Fatal("a full batch waits")
	}
	want.WriteString(big)

	// Concurrent lines: each whole, every one written once Flush returns.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				_, _ = fmt.Fprintf(lw, "g%d-%d\n", g, i)
			}
		}()
	}
	wg.Wait()
	_ = lw.Flush()
	got, _ := out.text()
	lines := strings.Split(strings.TrimSuffix(strings.TrimPrefix(got, want.String()), "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines", len(lines))
	}
	next := map[string]int{}
	for _, l := range lines {
		g, i, ok := strings.Cut(l, "-")
		if !ok || i != fmt.Sprint(next[g]) {
			t.Fatalf("line %q out of order or torn", l)
		}
		next[g]++
	}
}
