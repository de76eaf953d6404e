package tokenizer

import (
	"math"
	"strings"
	"testing"
)

func TestCountLimit(t *testing.T) {
	t.Parallel()
	tk := Default()
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 100) // 1000 tokens
	full := tk.Count(text)
	if full != 1001 {
		t.Fatalf("Count = %d, want 1001", full)
	}
	tests := []struct {
		limit    int
		wantOver bool
	}{
		{math.MaxInt, false},
		{full, false},
		{full - 1, true},
		{10, true},
		{0, true},
		{-1, true},
	}
	for _, tc := range tests {
		// A fresh tokenizer state per case: the count cache must not decide alone.
		for _, tok := range []*Tokenizer{tk, tk.withoutCache()} {
			n, over := tok.CountLimit(text, tc.limit)
			if over != tc.wantOver {
				t.Errorf("CountLimit(limit %d) over = %v, want %v", tc.limit, over, tc.wantOver)
			}
			if !over && n != full {
				t.Errorf("CountLimit(limit %d) = %d, want exact %d", tc.limit, n, full)
			}
			if over && n <= tc.limit {
				t.Errorf("CountLimit(limit %d) = %d, want more than the limit", tc.limit, n)
			}
		}
	}
	if n, over := tk.CountLimit("", 0); n != 0 || over {
		t.Errorf("CountLimit(\"\", 0) = %d, %v", n, over)
	}
}

// TestCountLimitStopsEarly checks that a huge body is not counted to the end: the
// count returned when over is close to the limit, not to the full count.
func TestCountLimitStopsEarly(t *testing.T) {
	t.Parallel()
	tk := Default().withoutCache()
	sentence := "Rate limits and context windows hinge on exact token counts, 42 of them. "
	body := strings.Repeat(sentence, (8<<20)/len(sentence)) // 8 MB
	const limit = 258048
	n, over := tk.CountLimit(body, limit)
	if !over {
		t.Fatalf("CountLimit over = false for %d bytes", len(body))
	}
	// It stops after the piece that passes the limit, and no piece here has more
	// than a few tokens.
	if n > limit+8 {
		t.Errorf("CountLimit stopped at %d tokens, want at most %d", n, limit+8)
	}
	// The same holds when the limit falls inside a long piece.
	n, over = tk.CountLimit(strings.Repeat("x", 100000)+" y", 10)
	if !over || n <= 10 {
		t.Errorf("long piece: CountLimit = %d, %v", n, over)
	}
}
