package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/qwenmock/qwenmock/mockserver/tokenizer/internal/uniprobe"
	"golang.org/x/text/unicode/norm"
)

// refNormAnswers reads testdata/unicode_ref.txt.gz: the reference normaliser's
// answer to every normalisation probe whose answer differs from the probe.
func refNormAnswers(t testing.TB) map[string]string {
	t.Helper()
	gz, err := os.ReadFile("testdata/unicode_ref.txt.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		in, out, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("bad line %q", sc.Text())
		}
		m[fromHex(t, in)] = fromHex(t, out)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

func fromHex(t testing.TB, s string) string {
	var b strings.Builder
	for _, f := range strings.Fields(s) {
		r, err := strconv.ParseUint(f, 16, 32)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteRune(rune(r))
	}
	return b.String()
}

// TestNormalisationSweep runs every normalisation probe (every code point alone,
// every combining mark next to marks of class 1 and 230, every decomposable code
// point decomposed) through nfcRef and nfcSlow and compares with the reference's
// answers.
func TestNormalisationSweep(t *testing.T) {
	t.Parallel()
	answers := refNormAnswers(t)
	n := 0
	uniprobe.Each(func(p uniprobe.Probe) {
		if p.Kind != uniprobe.NFC {
			return
		}
		n++
		want, ok := answers[p.Text]
		if !ok {
			want = p.Text
		}
		if got := nfcRef(p.Text); got != want {
			t.Errorf("nfcRef(%+q) = %+q, reference %+q", p.Text, got, want)
		}
		if got := nfcSlow(p.Text); got != want {
			t.Errorf("nfcSlow(%+q) = %+q, reference %+q", p.Text, got, want)
		}
	})
	if n < utf8.MaxRune-2048 {
		t.Fatalf("only %d probes", n)
	}
}

// TestClassSweep checks, for every code point, that the pre-tokenizer cuts the
// class probes "a" r "a" and "a" r "!" as the reference does for r's class, and
// that the reference's classes differ from Go's (regexp2's) only by letters and
// numbers that Unicode 15.1 and 16.0 added.
func TestClassSweep(t *testing.T) {
	t.Parallel()
	p := newPretokenizer()
	newer := 0
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if uniprobe.Skip(r) {
			continue
		}
		w := utf8.RuneLen(r)
		var want [2][]int
		switch cls := slowClass(r); cls {
		case clsLetter:
			want = [2][]int{nil, {1 + w}}
		case clsNumber:
			want = [2][]int{{1, 1 + w}, {1, 1 + w}}
		case clsOther:
			want = [2][]int{{1}, {1}}
		case clsSpace:
			want = [2][]int{{1}, {1, 1 + w}}
		}
		probes := uniprobe.ClassProbes(r)
		for k, text := range probes {
			if got := cuts(ourPieces(text)); !equalInts(got, want[k]) {
				t.Fatalf("pieces of %+q cut at %v, want %v", text, got, want[k])
			}
		}
		if got := p.class(r); got != slowClass(r) {
			t.Fatalf("class(%U) = %d, table %d", r, got, slowClass(r))
		}
		if g := goClass(r); g != slowClass(r) {
			// Go's tables are regexp2's: TestRuneClassesMatchRegexp2.
			if g != clsOther || slowClass(r) == clsOther || slowClass(r) == clsSpace {
				t.Fatalf("%U: class %d, Go's tables %d", r, slowClass(r), g)
			}
			newer++
		}
	}
	// 4,924 letters and 80 numbers, the figures for Unicode 15.1 and 16.0.
	if newer != 5004 {
		t.Errorf("%d code points classed differently from Go's tables, want 5004", newer)
	}
}

func cuts(pieces []string) []int {
	var out []int
	n := 0
	for _, p := range pieces[:len(pieces)-1] {
		n += len(p)
		out = append(out, n)
	}
	return out
}

// TestNFCMatchesXText compares nfcRef and nfcSlow with x/text's NFC on random text
// that holds no code point the two tables disagree on and no run of more than 30
// combining marks.
func TestNFCMatchesXText(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	var marks []rune
	for r := rune(0x300); r < 0x20000; r++ {
		if !refUnknown(r) && (norm.NFD.PropertiesString(string(r)).CCC() != 0 || norm.NFD.String(string(r)) != string(r)) {
			marks = append(marks, r)
		}
	}
	bases := []rune("aeiouAEIOUcnsxyzαωиΩ\u1100\u1161\u11a8가각\u0b47\u0b3e\u0b56\u09c7\u09be\u0dd9\u0dcf\u0dca\u3099\u304b\u30a6 ")
	for i := range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			if rng.IntN(2) == 0 {
				b.WriteRune(bases[rng.IntN(len(bases))])
			} else {
				b.WriteRune(marks[rng.IntN(len(marks))])
			}
		}
		s := b.String()
		want := norm.NFC.String(s)
		if strings.Contains(want, cgj) {
			continue
		}
		if got := nfcRef(s); got != want {
			t.Fatalf("case %d: nfcRef(%+q) = %+q, x/text %+q", i, s, got, want)
		}
		if got := nfcSlow(s); got != want {
			t.Fatalf("case %d: nfcSlow(%+q) = %+q, x/text %+q", i, s, got, want)
		}
	}
}

// TestLongMarkRuns: the reference reorders and composes a run of any length and
// inserts no U+034F.
func TestLongMarkRuns(t *testing.T) {
	t.Parallel()
	for _, n := range []int{29, 30, 31, 32, 100, 5000} {
		s := "a" + strings.Repeat("\u0301", n)
		if got, want := nfcRef(s), "\u00e1"+strings.Repeat("\u0301", n-1); got != want {
			t.Errorf("%d marks: %+q", n, got)
		}
		s = "e" + strings.Repeat("\u0301\u0327", n)
		want := "\u0229" + strings.Repeat("\u0327", n-1) + strings.Repeat("\u0301", n)
		if n < 15 {
			continue
		}
		if got := nfcRef(s); got != want {
			t.Errorf("%d mark pairs: got %+q", n, got)
		}
	}
}

// goClass is the class of r in Go's unicode tables, which regexp2 uses.
func goClass(r rune) uint8 {
	switch {
	case unicode.Is(unicode.L, r):
		return clsLetter
	case unicode.Is(unicode.N, r):
		return clsNumber
	case unicode.IsSpace(r):
		return clsSpace
	}
	return clsOther
}

// goTablesAgree reports whether the reference and Go's Unicode tables (so
// tiktoken-go's regexp2 after x/text's NFC) treat every character of s the same:
// no character whose class or normalisation differs and no run of combining marks
// long enough for x/text to insert U+034F. Only then can tiktoken-go be the
// reference for s.
func goTablesAgree(s string) bool {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for _, r := range s {
		if goClass(r) != slowClass(r) || refUnknown(r) {
			return false
		}
	}
	return nfcRef(s) == norm.NFC.String(s)
}
