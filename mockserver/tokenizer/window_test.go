package tokenizer

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// randomRunes returns about n bytes of runes drawn from alphabet.
func randomRunes(rng *rand.Rand, alphabet string, n int) string {
	runes := []rune(alphabet)
	var b strings.Builder
	for b.Len() < n {
		b.WriteRune(runes[rng.IntN(len(runes))])
	}
	return b.String()
}

// exactIDs encodes NFC text without special tokens exactly, piece by piece.
func exactIDs(tk *Tokenizer, text string) []int {
	var out []int
	for _, piece := range ourPieces(text) {
		out = tk.mergeLong(piece, out)
	}
	return out
}

// windowedIDs is the specification of the encoder with huge pieces cut at size
// bytes: for NFC text without special tokens, pieces up to size bytes are merged
// exactly, longer ones cut by windowEnd into windows merged on their own.
func windowedIDs(t *testing.T, tk *Tokenizer, text string, size int) []int {
	p := newPretokenizer()
	var out []int
	for _, piece := range ourPieces(text) {
		if len(piece) <= size {
			out = tk.mergeLong(piece, out)
			continue
		}
		cls := p.hugeClass(piece)
		start := 0
		for len(piece)-start > size {
			end := p.windowEnd(piece, start, size, cls)
			if end <= start+size-cutSpan || end > start+size || !utf8.RuneStart(piece[end]) {
				t.Fatalf("windowEnd(%q…, %d, %d) = %d", piece[:20], start, size, end)
			}
			out = tk.mergeLong(piece[start:end], out)
			start = end
		}
		out = tk.mergeLong(piece[start:], out)
	}
	return out
}

// TestResumable checks that wherever resumable holds strictly inside a piece (the
// rune after the position is in the piece too), the pre-tokenizer started there
// finds the rest of the same piece, so drain may leave the rest of a piece in
// pending.
func TestResumable(t *testing.T) {
	t.Parallel()
	re := mustRegexp(t)
	p := newPretokenizer()
	rng := rand.New(rand.NewPCG(21, 22))
	checked := 0
	for i := range 3000 {
		text := randomText(rng, 2+rng.IntN(60))
		if i%2 == 0 {
			// Long runs of one class, as in huge pieces.
			text = randomRunes(rng, []string{"ab'", " \n\t\r", "!'.\n", " \u3000\n", "x!", "!\n\n\n \t"}[i/2%6], 40) + text
		}
		start := 0
		for _, piece := range ourPieces(text) {
			end := start + len(piece)
			if utf8.RuneCountInString(piece) >= 2 {
				cls := p.hugeClass(piece)
				for k := start + 1; k < end; k++ {
					if !p.resumable(text, k, cls) {
						continue
					}
					if _, w, _ := p.at(text, k); k+w >= end {
						continue
					}
					checked++
					if got := p.next(text, k); got != end {
						t.Fatalf("piece %q of %q resumed at %d ends at %d, want %d", piece, text, k, got, end)
					}
					if checked%20 == 0 {
						if got := regexPieces(t, re, text[k:])[0]; got != text[k:end] {
							t.Fatalf("piece %q of %q resumed at %d: regexp2 finds %q", piece, text, k, got)
						}
					}
				}
			}
			start = end
		}
	}
	if checked < 10000 {
		t.Errorf("only %d resumption points checked", checked)
	}
}

// TestWindowedEncoding checks that huge pieces are cut into the same windows
// whether they arrive whole or are streamed across many NFC windows (drain), with
// small windows (1 KB) so that texts of a few dozen KB hold many cuts.
func TestWindowedEncoding(t *testing.T) {
	t.Parallel()
	tk := Default()
	rng := rand.New(rand.NewPCG(23, 24))
	const size = 1024
	huge := []string{
		randomRunes(rng, "abcdefghijklmnopqrstuvwxyz", 6000),
		" " + randomRunes(rng, "abcdefghijklmnopqrstuvwxyz", 3000),
		"!" + randomRunes(rng, "etaoinshr", 3000) + "'s",
		strings.Repeat("a", 6000),
		strings.Repeat("ab", 3000),
		strings.Repeat("abc", 2000),
		strings.Repeat("cafe\u0301", 1000), // NFC composes é, a letter
		strings.Repeat(" ", 5000),
		randomRunes(rng, " \t\n", 4000),
		randomRunes(rng, " \u3000\u00a0", 4000),
		randomRunes(rng, "!@#$%^&*()-=+[]{};:,./?~`|'", 4000),
		" " + randomRunes(rng, "!?'", 3000),
		"!" + strings.Repeat("\n", 3000),
		"!" + strings.Repeat("\n", 3000) + " \t\n x",
		"!!" + strings.Repeat("\r\n", 1500) + "  \n",
		randomRunes(rng, "的一是不了人我在有他这为之大来以个中上们", 6000),
		vocabPieces(rng, clsLetter, 6, 4000),
		vocabPieces(rng, clsOther, 6, 4000),
		vocabPieces(rng, clsSpace, 3, 4000),
	}
	seps := []string{" ", "\n", "1", "x", "。", " !", "\t", "'s ", ""}
	var texts []string
	for i, h := range huge {
		texts = append(texts, h, "Hi "+h+seps[i%len(seps)]+"end", h+seps[(i+3)%len(seps)]+huge[(i+1)%len(huge)])
	}
	drained := 0
	for _, text := range texts {
		want := windowedIDs(t, tk, norm.NFC.String(text), size)
		for _, window := range []int{61, 1000, nfcWindow} {
			s := sink{collect: true, limit: math.MaxInt}
			tk.runWith(text, &s, window, size)
			if !equalInts(s.ids, want) {
				t.Fatalf("text %q… (%d bytes), NFC window %d: %d ids, want %d", text[:20], len(text), window, len(s.ids), len(want))
			}
			if window == 61 {
				drained += s.drained
				c := sink{limit: math.MaxInt}
				tk.runWith(text, &c, window, size)
				if c.n != len(want) || c.windows != s.windows {
					t.Fatalf("text %q…, NFC window %d: count %d in %d windows, want %d in %d", text[:20], window, c.n, c.windows, len(want), s.windows)
				}
			}
		}
	}
	if drained < 100 {
		t.Errorf("only %d windows drained from pending: streaming is not tested", drained)
	}
	// Pieces of at most hugePiece bytes stay exact.
	text := randomRunes(rng, "abcdefghijklmnopqrstuvwxyz", hugePiece)
	if got, want := tk.Encode(text), tk.mergeLong(text, nil); !equalInts(got, want) {
		t.Errorf("a piece of hugePiece bytes: %d ids, want exactly %d", len(got), len(want))
	}
}

// TestHugeWordIsBounded follows the work done on a 4 MB word, through counters
// rather than time: it is merged in windows, a limit stops it early (before most
// of it is even normalised), and a run of one letter is merged once. It uses
// windows of 64 KB, a sixteenth of the real ones, to have many of them.
func TestHugeWordIsBounded(t *testing.T) {
	t.Parallel()
	tk := Default().withoutCache()
	const hugePiece = 64 << 10 // windows of 64 KB, so that 4 MB hold many
	run := func(text string, s *sink) { tk.runWith(text, s, nfcWindow, hugePiece) }
	rng := rand.New(rand.NewPCG(25, 26))
	block := randomRunes(rng, "abcdefghijklmnopqrstuvwxyz", 256<<10)
	word := strings.Repeat(block, 16) // 4 MB, one piece

	const limit = 258048
	s := sink{limit: limit}
	run(word, &s)
	if s.n <= limit || s.windows == 0 {
		t.Fatalf("CountLimit(4 MB word, %d): %d tokens, %d windows; want over, windowed", limit, s.n, s.windows)
	}
	// Random letters take about 1.85 bytes a token: the limit is passed after about
	// 480 KB, and merging stops within a window of it.
	if s.windowBytes > 600<<10 || s.normalized > 800<<10 {
		t.Errorf("CountLimit(4 MB word, %d) merged %d bytes, normalised %d; want it to stop early", limit, s.windowBytes, s.normalized)
	}
	if n, over := tk.CountLimit(word, limit); !over || n <= limit {
		t.Errorf("CountLimit = %d, %v; want over", n, over)
	}

	s = sink{limit: 10}
	run(word, &s)
	if s.n <= 10 || s.windows != 1 || s.windowBytes > hugePiece || s.normalized > 6*nfcWindow {
		t.Errorf("CountLimit(4 MB word, 10): %d tokens, %d windows of %d bytes, %d bytes normalised; want one window", s.n, s.windows, s.windowBytes, s.normalized)
	}

	// A run of one letter is cut into equal windows.
	aaaa := strings.Repeat("a", 4<<20)
	s = sink{limit: math.MaxInt}
	run(aaaa, &s)
	if s.windows != 64 || s.windowBytes != len(aaaa) || s.merged != 1 {
		t.Errorf("4 MB of 'a': %d windows of %d bytes, %d merged; want 64, %d, 1", s.windows, s.windowBytes, s.merged, len(aaaa))
	}
	if want := 64 * len(tk.mergeLong(aaaa[:hugePiece], nil)); s.n != want {
		t.Errorf("4 MB of 'a': %d tokens, want %d", s.n, want)
	}
	// So is any text with a short period, whatever its phase at the window ends.
	for _, unit := range []string{"abcdefg", "的一是", "=-+", " \t"} {
		text := strings.Repeat(unit, (4<<20)/len(unit))
		s = sink{limit: math.MaxInt}
		run(text, &s)
		if s.windows < 64 || s.merged > 3 {
			t.Errorf("4 MB of %q: %d windows, %d merged; want at most 3 merged", unit, s.windows, s.merged)
		}
	}
}

// TestWindowError measures how far windowed counts are from exact ones. With 2 KB
// windows (so that 128 KB texts hold 64 cuts) a cut costs at most 3 tokens; with
// the real 64 KB windows that is at most 3 tokens per 64 KB.
func TestWindowError(t *testing.T) {
	t.Parallel()
	tk := Default()
	rng := rand.New(rand.NewPCG(27, 28))
	const size, n = 2 << 10, 128 << 10
	texts := []struct{ name, text string }{
		{"letters", randomRunes(rng, "abcdefghijklmnopqrstuvwxyz", n)},
		{"aaaa", strings.Repeat("a", n)},
		{"spaces", strings.Repeat(" ", n)},
		{"whitespace", randomRunes(rng, " \t\n", n)},
		{"punctuation", randomRunes(rng, "!@#$%^&*()-=+[]{};:,./?~`|", n)},
		{"cjk", randomRunes(rng, "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生", n)},
		{"long-letter-tokens", vocabPieces(rng, clsLetter, 8, n)},
		{"long-punctuation-tokens", vocabPieces(rng, clsOther, 16, n)},
		{"long-space-tokens", vocabPieces(rng, clsSpace, 16, n)},
	}
	for _, tc := range texts {
		exact := len(exactIDs(tk, tc.text))
		s := sink{limit: math.MaxInt}
		tk.runWith(tc.text, &s, nfcWindow, size)
		cuts := s.windows - 1
		if s.windows == 0 {
			cuts = 0
		}
		diff := s.n - exact
		t.Logf("%-24s %7d tokens exact, %+4d windowed over %d cuts (%+.4f%%)", tc.name, exact, diff, cuts, 100*float64(diff)/float64(exact))
		if diff > 3*cuts || diff < -3*cuts {
			t.Errorf("%s: windowed count %d, exact %d: more than 3 tokens per cut (%d cuts)", tc.name, s.n, exact, cuts)
		}
	}
}

// TestNFCInert checks the characters nfcInert lets through unnormalised.
func TestNFCInert(t *testing.T) {
	t.Parallel()
	check := func(r rune) {
		p := norm.NFC.PropertiesString(string(r))
		if p.CCC() != 0 || len(p.Decomposition()) != 0 || !p.BoundaryBefore() {
			t.Fatalf("%U: ccc %d, decomposition %q, boundary before %v", r, p.CCC(), p.Decomposition(), p.BoundaryBefore())
		}
		if !nfcInert(string(r)) {
			t.Fatalf("nfcInert(%U) = false", r)
		}
	}
	for r := rune(0); r < utf8.RuneSelf; r++ {
		check(r)
	}
	for r := rune(0x4000); r <= 0x9fff; r++ {
		check(r)
	}
	for _, s := range []string{"e\u0301", "\u3002", "é", "\uf900", "\U00020000", "가", "\u0300", "\u3fff", "\ua000"} {
		if nfcInert(s) {
			t.Errorf("nfcInert(%q) = true", s)
		}
	}
	rng := rand.New(rand.NewPCG(29, 30))
	for range 300 {
		s := randomText(rng, 30) + randomRunes(rng, "的一是abc 。", 30)
		if nfcInert(s) && norm.NFC.String(s) != s {
			t.Fatalf("nfcInert(%q) but it is not NFC", s)
		}
	}
}

// TestNFCStable checks the characters nfcStable lets through unnormalised: each
// is its own NFC and combines with nothing before it, any text of them (with
// ASCII and CJK) is its own NFC in the reference's normalisation, and text with
// any other character is not let through.
func TestNFCStable(t *testing.T) {
	t.Parallel()
	var stable []rune
	for r := rune(0x80); r < 0x10000; r++ {
		if r >= 0xd800 && r < 0xe000 {
			continue
		}
		s := string(r)
		if !nfcStable(s) {
			continue
		}
		stable = append(stable, r)
		p := norm.NFC.PropertiesString(s)
		if p.CCC() != 0 || !p.BoundaryBefore() || nfcRef(s) != s {
			t.Fatalf("%U: ccc %d, boundary before %v, NFC %q", r, p.CCC(), p.BoundaryBefore(), nfcRef(s))
		}
		if nfcRef("a"+s+"e") != "a"+s+"e" || nfcRef(s+s) != s+s {
			t.Fatalf("%U changes next to other characters", r)
		}
	}
	// The Latin, Greek and Cyrillic letters are in; combining marks are out.
	for _, r := range []rune{'é', 'ß', 'Å', 'ω', 'Ж', 'ё', 'א', 'ب', '가', 'か', 'ก', 'क', '中', '\u3002'} {
		if !nfcStable(string(r)) {
			t.Errorf("nfcStable(%q) = false", r)
		}
	}
	for _, s := range []string{"e\u0301", "\u0301", "\u0345", "\u05b0", "\u064b", "\u3099", "\u0e38", "\u093c", "\u11a8", "\u1161", "\U00020000", "\U0001F999", "\xc3", "\u1ac6"} {
		if nfcStable(s) {
			t.Errorf("nfcStable(%q) = true", s)
		}
	}
	if len(stable) < 40000 {
		t.Errorf("only %d characters of two or three bytes are stable", len(stable))
	}
	rng := rand.New(rand.NewPCG(41, 42))
	for range 3000 {
		var b strings.Builder
		for range 1 + rng.IntN(40) {
			switch rng.IntN(4) {
			case 0:
				b.WriteRune(rune('a' + rng.IntN(26)))
			default:
				b.WriteRune(stable[rng.IntN(len(stable))])
			}
		}
		if s := b.String(); !nfcStable(s) || nfcRef(s) != s {
			t.Fatalf("nfcStable(%q) = %v, NFC %q", s, nfcStable(s), nfcRef(s))
		}
		// With any other character, nfcStable must say no or be right.
		s := b.String() + randomText(rng, 3)
		if nfcStable(s) && nfcRef(s) != s {
			t.Fatalf("nfcStable(%q) but its NFC is %q", s, nfcRef(s))
		}
	}
}
