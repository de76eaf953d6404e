package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestMergeLongMatchesTiktokenGo compares the heap merge with tiktoken-go's
// quadratic merge on single pieces of a few KB.
func TestMergeLongMatchesTiktokenGo(t *testing.T) {
	t.Parallel()
	tk := Default()
	rng := rand.New(rand.NewPCG(11, 12))
	alphabets := []string{
		"abcdefghijklmnopqrstuvwxyz",
		"etaoinshr",
		"ab",
		"ЁёЖжЗзИиЙй",
		"的一是不了人我在有他这为之大来以个中上们",
		"가나다라마바사아자차카타파하",
		"!@#$%^&*()-=+[]{};:,./?~`|",
		" ",
	}
	for _, alpha := range alphabets {
		runes := []rune(alpha)
		for _, n := range []int{2, 3, 17, 300, 1000, 3000} {
			var b strings.Builder
			for b.Len() < n {
				b.WriteRune(runes[rng.IntN(len(runes))])
			}
			piece := b.String()
			if got := ourPieces(piece); len(got) != 1 {
				t.Fatalf("test piece %q is %d pieces", piece[:min(20, len(piece))], len(got))
			}
			want := tk.tk.EncodeOrdinary(piece)
			if got := tk.mergeLong(piece, nil); !equalInts(got, want) {
				t.Fatalf("mergeLong(%q…, %d bytes) = %v…, want %v…", piece[:min(20, len(piece))], len(piece), got[:min(10, len(got))], want[:min(10, len(want))])
			}
		}
	}
	// "<|" repeated has no mergeable pair at all: the heap starts empty.
	for _, piece := range []string{"a", "é", "Hello", "<|<|", strings.Repeat("<|", 300), strings.Repeat(" ", 5000), strings.Repeat("\n", 700), strings.Repeat("ab", 1500)} {
		want := tk.tk.EncodeOrdinary(piece)
		if got := tk.mergeLong(piece, nil); !equalInts(got, want) {
			t.Errorf("mergeLong(%q…) = %v…, want %v…", piece[:min(20, len(piece))], got[:min(10, len(got))], want[:min(10, len(want))])
		}
	}
}

// TestLongPiecesInText checks whole texts whose pieces exceed longPiece.
func TestLongPiecesInText(t *testing.T) {
	t.Parallel()
	tk := Default()
	texts := []string{
		"start " + strings.Repeat("abc", 400) + " end",
		strings.Repeat(" ", 1000) + "x",
		"x" + strings.Repeat(" ", 1000) + "\t!!" + strings.Repeat("!", 500),
		"a\n" + strings.Repeat(" \n", 400) + "  b",
		strings.Repeat("我们", 300) + "，" + strings.Repeat("你", 100),
		strings.Repeat("<|", 500),
		strings.Repeat("\xff", 300),
	}
	for _, text := range texts {
		if got, want := tk.Encode(text), tk.tk.EncodeOrdinary(sanitize(text)); !equalInts(got, want) {
			t.Errorf("Encode(%q…) differs from tiktoken-go: %d vs %d ids", text[:20], len(got), len(want))
		}
	}
}

// TestSingleWordIsFast guards the worst case: a 1 MB prompt that is one piece.
// tiktoken-go alone would need hours for it.
func TestSingleWordIsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	t.Parallel()
	tk := Default()
	for _, s := range []string{strings.Repeat("a", 1<<20), strings.Repeat("1", 1<<20), strings.Repeat(" ", 1<<20), strings.Repeat("!?", 1<<19), strings.Repeat("好", 1<<18)} {
		if n, over := tk.CountLimit(s, 1<<30); over || n == 0 {
			t.Errorf("CountLimit(%q×%d) = %d, %v", s[:1], len(s), n, over)
		}
	}
}
