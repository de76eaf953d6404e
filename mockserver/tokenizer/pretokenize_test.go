package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestPretokenizeExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"Hello world", []string{"Hello", " world"}},
		{"I've 'RE you", []string{"I", "'ve", " '", "RE", " you"}},
		{"'sx", []string{"'s", "x"}},
		{"12345", []string{"1", "2", "3", "4", "5"}},
		{"a  b", []string{"a", " ", " b"}},
		{"x\t\t\t}", []string{"x", "\t\t", "\t", "}"}},
		{"x\n\n  \ny  ", []string{"x", "\n\n  \n", "y", "  "}},
		{"!!!\n\nabc", []string{"!!!\n\n", "abc"}},
		{" !!", []string{" !!"}},
		{"\t!!", []string{"\t", "!!"}},
		{"\tabc", []string{"\tabc"}},
		{"\nabc", []string{"\n", "abc"}},
		{"你好，世界", []string{"你好", "，世界"}},
		{"", nil},
	}
	for _, tc := range tests {
		if got := ourPieces(tc.in); !equalStrings(got, tc.want) {
			t.Errorf("pieces(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestPretokenizeMatchesRegexp2 compares the hand-written pre-tokenizer with
// regexp2 running Pattern on random text.
func TestPretokenizeMatchesRegexp2(t *testing.T) {
	t.Parallel()
	re := mustRegexp(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		text := randomText(rng, 1+rng.IntN(60))
		if got, want := ourPieces(text), regexPieces(t, re, text); !equalStrings(got, want) {
			t.Fatalf("case %d: pieces(%q)\n got %q\nwant %q", i, text, got, want)
		}
	}
}

// TestRuneClassesMatchRegexp2 checks the class of every rune against regexp2's
// own character classes (except the letters and numbers of Unicode 15.1 and 16.0,
// which Go's tables do not have yet and TestClassSweep checks), and the
// contraction case folding against (?i:...).
func TestRuneClassesMatchRegexp2(t *testing.T) {
	t.Parallel()
	letter := mustCompile(t, `^\p{L}$`)
	number := mustCompile(t, `^\p{N}$`)
	space := mustCompile(t, `^\s$`)
	folds := mustCompile(t, `^(?i:'s|'t|'re|'ve|'m|'ll|'d)`)
	p := newPretokenizer()
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xd800 && r < 0xe000 {
			continue
		}
		if r > 0x3ffff && r < 0xe0000 {
			r = 0xe0000 // unassigned planes: skip ahead
		}
		s := string(r)
		want := clsOther
		switch {
		case matches(letter, s):
			want = clsLetter
		case matches(number, s):
			want = clsNumber
		case matches(space, s):
			want = clsSpace
		}
		if got := p.class(r); got != want && !(want == clsOther && (got == clsLetter || got == clsNumber)) {
			t.Fatalf("class(%U) = %d, regexp2 says %d", r, got, want)
		}
		if r < 0x80 || unicode.ToLower(r) < 0x80 {
			for _, tail := range []string{"", "e", "E", "l", "L"} {
				in := "'" + s + tail
				n := contraction(in[1:])
				m, _ := folds.FindStringMatch(in)
				wantN := 0
				if m != nil {
					wantN = len(m.String()) - 1
				}
				if n != wantN {
					t.Fatalf("contraction(%q) = %d, regexp2 matched %d bytes", in, n, wantN)
				}
			}
		}
	}
}

// TestSafeCut checks that cutting at safeCut points never changes the pieces, on
// random text.
func TestSafeCut(t *testing.T) {
	t.Parallel()
	re := mustRegexp(t)
	p := newPretokenizer()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		text := randomText(rng, 2+rng.IntN(40))
		want := regexPieces(t, re, text)
		from := rng.IntN(len(text))
		for from > 0 && !utf8.RuneStart(text[from]) {
			from--
		}
		if cut := p.safeCut(text, from); cut >= 0 {
			got := append(regexPieces(t, re, text[:cut]), regexPieces(t, re, text[cut:])...)
			if !equalStrings(got, want) {
				t.Fatalf("case %d: safeCut(%q) = %d splits into %q, want %q", i, text, cut, got, want)
			}
		}
	}
}

// FuzzPretokenize compares the pre-tokenizer with regexp2 on arbitrary input.
func FuzzPretokenize(f *testing.F) {
	for _, s := range []string{"Hello world", "I've 'RE", "  \t\n x", "x\t\t\t}", "\u00a0\u3000a", "e\u0301", "123abc", "你好，世界"} {
		f.Add(s)
	}
	re := mustRegexp(f)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			s = sanitize(s)
		}
		if !goTablesAgree(s) {
			return // regexp2 has Go's character classes (Unicode 15.0), the reference 16.0's
		}
		if got, want := ourPieces(s), regexPieces(t, re, s); !equalStrings(got, want) {
			t.Fatalf("pieces(%q)\n got %q\nwant %q", s, got, want)
		}
		if strings.Join(ourPieces(s), "") != s {
			t.Fatalf("pieces of %q do not tile it", s)
		}
	})
}
