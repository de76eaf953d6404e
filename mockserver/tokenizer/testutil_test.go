package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/pkoukk/tiktoken-go"
)

// reference is tiktoken-go with Qwen's vocabulary and Pattern: regexp2 splits the
// text, and each piece not in the vocabulary gets tiktoken's quadratic byte-pair
// merge. Encode must agree with it (after NFC) on text without special tokens.
var reference = sync.OnceValue(func() *tiktoken.Tiktoken {
	specials := SpecialTokens()
	core, err := tiktoken.NewCoreBPE(testRanks(), specials, Pattern)
	if err != nil {
		panic(err)
	}
	set := make(map[string]any, len(specials))
	for s := range specials {
		set[s] = true
	}
	enc := &tiktoken.Encoding{Name: "qwen", PatStr: Pattern, MergeableRanks: testRanks(), SpecialTokens: specials}
	return tiktoken.NewTiktoken(core, enc, set)
})

// testAlphabet mixes the characters that matter to the pre-tokenizer and to NFC:
// ASCII classes, contraction letters in both cases, Unicode spaces and numbers,
// combining marks, CJK, Hangul jamo, emoji, case-folding oddities, U+FFFD.
var testAlphabet = []rune(" \t\n\r\v\f'sStTrReEvVmMlLdDaxQZ09!?.,;:-_=+()[]{}<>/\\\"`~@#$%^&*|" +
	"\u00a0\u0085\u1680\u2000\u2009\u200b\u2028\u2029\u202f\u205f\u3000\ufeff" +
	"²³¹½٣۳߃१௫Ⅻↂ〇" +
	"\u0301\u0308\u0327\u0323\u031b\u0345\u0e49\u3099" +
	"éÅñøßſİıKÅǅ" +
	"你好世界中文字符，。！？、“”" +
	"\u1100\u1161\u11a8가각" +
	"🦙😁🚀\u200d\ufe0f" +
	"\ufffdкиП")

// randomText returns n runes from testAlphabet, drawn in runs so that long runs of
// one class (spaces, letters, marks) occur.
func randomText(rng *rand.Rand, n int) string {
	var b strings.Builder
	for n > 0 {
		r := testAlphabet[rng.IntN(len(testAlphabet))]
		k := 1
		if rng.IntN(4) == 0 {
			k = 1 + rng.IntN(8)
		}
		for ; k > 0 && n > 0; k-- {
			if rng.IntN(3) == 0 {
				r = testAlphabet[rng.IntN(len(testAlphabet))]
			}
			b.WriteRune(r)
			n--
		}
	}
	return b.String()
}

// regexPieces splits text with regexp2 running Pattern, as tiktoken-go does.
func regexPieces(t testing.TB, re *regexp2.Regexp, text string) []string {
	t.Helper()
	var out []string
	m, err := re.FindStringMatch(text)
	for ; m != nil && err == nil; m, err = re.FindNextMatch(m) {
		out = append(out, m.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ourPieces splits text with the hand-written pre-tokenizer.
func ourPieces(text string) []string {
	p := newPretokenizer()
	var out []string
	for i := 0; i < len(text); {
		j := p.next(text, i)
		out = append(out, text[i:j])
		i = j
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mustRegexp(t testing.TB) *regexp2.Regexp {
	t.Helper()
	return regexp2.MustCompile(Pattern, regexp2.None)
}

func mustCompile(t testing.TB, pattern string) *regexp2.Regexp {
	t.Helper()
	return regexp2.MustCompile(pattern, regexp2.None)
}

func matches(re *regexp2.Regexp, s string) bool {
	ok, err := re.MatchString(s)
	return err == nil && ok
}

// testRanks is the ordinary vocabulary as tiktoken-go takes it, token bytes to
// rank, parsed from the embedded file.
var testRanks = sync.OnceValue(func() map[string]int {
	ranks, err := parseTiktoken(qwenTiktokenGz)
	if err != nil {
		panic(err)
	}
	return ranks
})

// testTokens lists the bytes of every token, ordinary and special, by id.
var testTokens = sync.OnceValue(func() []string {
	tk := Default()
	out := make([]string, VocabSize)
	for id := range out {
		out[id] = string(tk.TokenBytes(id))
	}
	return out
})

// parseTiktoken reads "base64(bytes) rank" lines from a gzip stream.
func parseTiktoken(gz []byte) (map[string]int, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	ranks := make(map[string]int, NumOrdinaryTokens)
	sc := bufio.NewScanner(zr)
	buf := make([]byte, 0, 256)
	line := 0
	for sc.Scan() {
		line++
		b64, rank, ok := bytes.Cut(sc.Bytes(), []byte{' '})
		if !ok {
			return nil, fmt.Errorf("line %d: no rank", line)
		}
		buf = buf[:base64.StdEncoding.DecodedLen(len(b64))]
		n, err := base64.StdEncoding.Decode(buf, b64)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("line %d: bad base64", line)
		}
		r, err := strconv.Atoi(string(rank))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if _, dup := ranks[string(buf[:n])]; dup {
			return nil, fmt.Errorf("line %d: duplicate token", line)
		}
		ranks[string(buf[:n])] = r
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, err
	}
	return ranks, nil
}
