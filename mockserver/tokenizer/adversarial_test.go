package tokenizer

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

var adversarialOut = flag.String("adversarial-out", "", "write the adversarial texts, one JSON string per line, to this file (for gen-unicode.sh)")

// adversarialTexts returns, deterministically, texts aimed at every place where a
// tokenizer built on Go's Unicode tables could part from the reference: runs of
// combining marks of every length, the marks and compositions Go's normalisation
// tables know and the reference's do not, the letters and numbers of Unicode 15.1
// and 16.0, contractions with case-folding oddities, special-token strings, and
// single words over 64 KB; mixed with ordinary text of every kind.
func adversarialTexts() []string {
	rng := rand.New(rand.NewPCG(2026, 12))
	var newer, marks []rune
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xd800 && r < 0xe000 {
			continue
		}
		if goClass(r) != slowClass(r) {
			newer = append(newer, r)
		}
		if r >= 0x300 && (norm.NFD.PropertiesString(string(r)).CCC() != 0 || norm.NFD.String(string(r)) != string(r)) {
			marks = append(marks, r)
		}
	}
	unknown := refNFCUnknown[:]
	pick := func(rs []rune) rune { return rs[rng.IntN(len(rs))] }
	ascii := []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'\"()[]{}<>-_=+*/\\|@#$%^&~`\t\n")
	words := []string{"the", "'s", "'S", "'t", "'re", "'VE", "'m", "'ll", "'D", "'ſ", "'K", "don't", "I'M", " ", "  ", "\n", "\r\n", "123", "4.5", "你好", "世界", "é", "e\u0301", "🦙", "👩\u200d💻", "<|im_end|>", "<think>", "<|endoftext|>", "</tool_call>", "func main() {", "\t\treturn nil\n", "ﬁ", "Å", "한국어", "العربية", "हिन्दी", "ไทย"}
	var out []string
	add := func(b *strings.Builder) { out = append(out, b.String()) }
	for range 700 { // runs of combining marks after a base, of every length
		var b strings.Builder
		for range 1 + rng.IntN(3) {
			b.WriteRune(pick([]rune("aeouxAEOU가αи ")))
			n := 1 + rng.IntN(70)
			if rng.IntN(3) == 0 {
				for range n {
					b.WriteRune(0x300 + rune(rng.IntN(0x70)))
				}
			} else {
				for range n {
					b.WriteRune(pick(marks))
				}
			}
			b.WriteString(words[rng.IntN(len(words))])
		}
		add(&b)
	}
	for range 800 { // marks and compositions unknown to the reference's tables
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			switch rng.IntN(5) {
			case 0:
				b.WriteRune(pick(unknown))
			case 1:
				b.WriteRune(pick(marks))
			case 2:
				b.WriteString(norm.NFD.String(string(pick(unknown))))
			case 3:
				b.WriteRune(pick(ascii))
			default:
				b.WriteString(words[rng.IntN(len(words))])
			}
		}
		add(&b)
	}
	for range 1200 { // letters and numbers of Unicode 15.1 and 16.0
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			switch rng.IntN(4) {
			case 0, 1:
				for range 1 + rng.IntN(3) {
					b.WriteRune(pick(newer))
				}
			case 2:
				b.WriteRune(pick(ascii))
			default:
				b.WriteString(words[rng.IntN(len(words))])
			}
		}
		add(&b)
	}
	for range 1800 { // everything: random code points of every plane, words, marks
		var b strings.Builder
		for range 1 + rng.IntN(20) {
			switch rng.IntN(6) {
			case 0:
				r := rune(rng.IntN(0x32000))
				if r >= 0xd800 && r < 0xe000 {
					r = 'x'
				}
				b.WriteRune(r)
			case 1:
				b.WriteRune(pick(testAlphabet))
			case 2:
				b.WriteRune(pick(marks))
			case 3:
				b.WriteRune(pick(newer))
			case 4:
				b.WriteRune(pick(ascii))
			default:
				b.WriteString(words[rng.IntN(len(words))])
			}
		}
		add(&b)
	}
	for range 700 { // ordinary text of every kind
		var b strings.Builder
		for range 1 + rng.IntN(30) {
			b.WriteString(words[rng.IntN(len(words))])
			if rng.IntN(2) == 0 {
				b.WriteRune(pick(ascii))
			}
		}
		add(&b)
	}
	// Single words over 64 KB: letters, punctuation, CJK, one repeated letter, and
	// sequences of long vocabulary tokens.
	for i, alphabet := range []string{"abcdefghijklmnopqrstuvwxyz", "!@#$%^&*()-=+[]{};:,./?~`|", "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生"} {
		for _, n := range []int{70 << 10, 130 << 10} {
			out = append(out, randomWord(alphabet, n, uint64(100+i)))
		}
	}
	out = append(out, strings.Repeat("a", 200<<10), strings.Repeat("ab", 50<<10))
	for i, c := range []struct {
		cls      uint8
		minBytes int
	}{{clsLetter, 8}, {clsOther, 16}, {clsLetter, 4}} {
		text := vocabPieces(rand.New(rand.NewPCG(uint64(7+i), 7)), c.cls, c.minBytes, 100<<10)
		for !utf8.ValidString(text) {
			text = text[:len(text)-1]
		}
		out = append(out, text)
	}
	return out
}

// TestAdversarialCounts compares Count and the one-message chat count with the
// reference tokenizer's, on every adversarial text. The reference's counts are in
// testdata/adversarial_counts.txt (made by gen-unicode.sh with the reference
// tokenizer: "plain user_only" per text).
func TestAdversarialCounts(t *testing.T) {
	t.Parallel()
	texts := adversarialTexts()
	if *adversarialOut != "" {
		f, err := os.Create(*adversarialOut)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		for _, s := range texts {
			b, _ := json.Marshal(s)
			w.Write(append(b, '\n'))
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return
	}
	data, err := os.ReadFile("testdata/adversarial_counts.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != len(texts) {
		t.Fatalf("%d counts for %d texts", len(lines), len(texts))
	}
	tk := Default().withoutCache()
	bad := 0
	for i, s := range texts {
		f := strings.Fields(lines[i])
		plain, _ := strconv.Atoi(f[0])
		chat, _ := strconv.Atoi(f[1])
		got, gotChat := tk.Count(s), 3+3+tk.Count("user\n"+s)
		if got != plain || gotChat != chat {
			bad++
			if bad <= 20 {
				q := fmt.Sprintf("%+q", s)
				if len(q) > 200 {
					q = q[:200] + "…"
				}
				t.Errorf("text %d (%d bytes) %s: count %d, chat %d; reference %d, %d", i, len(s), q, got, gotChat, plain, chat)
			}
		}
	}
	t.Logf("%d of %d texts counted differently from the reference", bad, len(texts))
	if bad > 0 {
		t.Errorf("%d of %d texts counted differently from the reference", bad, len(texts))
	}
}
