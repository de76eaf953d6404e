package main

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/qwenmock/qwenmock/mockserver"
)

// requestLogger writes the log: slog for every message, and for the line of each request,
// in the JSON format, the same bytes slog's JSONHandler writes, made without slog, which
// takes several times longer (it boxes every attribute and formats each float through
// encoding/json) for the one line every request writes. Lines go out in batches (logWriter).
type requestLogger struct {
	*slog.Logger
	json bool
	w    *logWriter
}

func newLogger(format string, w io.Writer) *requestLogger {
	lw := &logWriter{w: w}
	if format == "json" {
		return &requestLogger{Logger: slog.New(slog.NewJSONHandler(lw, nil)), json: true, w: lw}
	}
	return &requestLogger{Logger: slog.New(slog.NewTextHandler(lw, nil)), w: lw}
}

// logWriter writes whole lines to w in batches: a line waits at most logFlushDelay, or until
// logBatchBytes are waiting, and each batch goes out in one write. Under load the log then
// costs one system call per batch instead of one per request (a tenth of a request's CPU).
// Lines are written in the order they came; Flush writes what waits, and the command calls
// it before it ends. What waits is bounded: a line that fills the batch writes it before
// returning.
type logWriter struct {
	w         io.Writer
	wmu       sync.Mutex // held while writing to w, so that batches go out in order
	mu        sync.Mutex // guards the fields below
	buf       []byte     // the lines waiting
	spare     []byte     // the buffer of the last batch written, for the next one
	timer     *time.Timer
	scheduled bool // the timer will flush buf
}

const (
	logFlushDelay = 10 * time.Millisecond
	logBatchBytes = 64 << 10
)

func (lw *logWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	lw.buf = append(lw.buf, p...)
	full := len(lw.buf) >= logBatchBytes
	if !full && !lw.scheduled {
		lw.scheduled = true
		if lw.timer == nil {
			lw.timer = time.AfterFunc(logFlushDelay, func() { _ = lw.Flush() })
		} else {
			lw.timer.Reset(logFlushDelay)
		}
	}
	lw.mu.Unlock()
	if full {
		return len(p), lw.Flush()
	}
	return len(p), nil
}

// Flush writes the lines that wait.
func (lw *logWriter) Flush() error {
	lw.wmu.Lock()
	defer lw.wmu.Unlock()
	lw.mu.Lock()
	out := lw.buf
	lw.buf, lw.spare, lw.scheduled = lw.spare[:0], nil, false
	lw.mu.Unlock()
	if len(out) == 0 {
		return nil
	}
	_, err := lw.w.Write(out)
	if cap(out) <= 2*logBatchBytes { // a batch swollen by a huge line is not kept
		lw.mu.Lock()
		lw.spare = out[:0]
		lw.mu.Unlock()
	}
	return err
}

// logRequest writes one line per request. API keys are never logged, not even redacted,
// and neither are bodies.
func logRequest(l *requestLogger, r mockserver.RequestRecord) {
	if !l.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	if l.json && !math.IsNaN(r.DurationMs) && !math.IsInf(r.DurationMs, 0) {
		bp := lineBuffers.Get().(*[]byte)
		line := appendRequestJSON((*bp)[:0], time.Now(), r)
		_, _ = l.w.Write(line)
		if cap(line) <= maxPooledLine {
			*bp = line
			lineBuffers.Put(bp)
		}
		return
	}
	attrs := make([]slog.Attr, 0, 11)
	attrs = append(attrs,
		slog.String("method", r.Method), slog.String("path", r.Path), slog.String("model", r.Model),
		slog.Int("status", r.Status), slog.Int("prompt_tokens", r.PromptTokens),
		slog.Int("completion_tokens", r.CompletionTokens), slog.Float64("duration_ms", r.DurationMs),
		slog.String("request_id", r.RequestID))
	if r.ErrorCode != "" {
		attrs = append(attrs, slog.String("error_code", r.ErrorCode))
	}
	if r.Stream {
		attrs = append(attrs, slog.Bool("stream", true))
	}
	if r.Fault != "" {
		attrs = append(attrs, slog.String("fault", r.Fault))
	}
	l.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
}

// lineBuffers holds the buffers request lines are made in; one larger than maxPooledLine
// (a request path of tens of kilobytes) is left to the garbage collector.
var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledLine = 16 << 10

// appendRequestJSON appends the line slog's JSONHandler writes for the request at time t:
// {"time":…,"level":"INFO","msg":"request","method":…,…}, a newline at the end. A test
// compares the two for all kinds of values.
func appendRequestJSON(b []byte, t time.Time, r mockserver.RequestRecord) []byte {
	b = append(b, `{"time":"`...)
	b = t.Round(0).AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"request","method":`...)
	b = appendLogString(b, r.Method)
	b = append(b, `,"path":`...)
	b = appendLogString(b, r.Path)
	b = append(b, `,"model":`...)
	b = appendLogString(b, r.Model)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(r.PromptTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(r.CompletionTokens), 10)
	b = append(b, `,"duration_ms":`...)
	b = appendLogFloat(b, r.DurationMs)
	b = append(b, `,"request_id":`...)
	b = appendLogString(b, r.RequestID)
	if r.ErrorCode != "" {
		b = append(b, `,"error_code":`...)
		b = appendLogString(b, r.ErrorCode)
	}
	if r.Stream {
		b = append(b, `,"stream":true`...)
	}
	if r.Fault != "" {
		b = append(b, `,"fault":`...)
		b = appendLogString(b, r.Fault)
	}
	return append(b, "}\n"...)
}

// appendLogFloat appends a finite f as encoding/json writes a float64, which is what slog's
// JSONHandler calls for one.
func appendLogFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendLogString appends s as a JSON string escaped as slog's JSONHandler escapes it: \",
// \\, \n, \r and \t, other control bytes as \u00XX, invalid UTF-8 as \ufffd, U+2028 and
// U+2029 escaped, nothing else (no HTML escaping).
func appendLogString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
