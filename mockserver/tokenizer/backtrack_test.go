package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// lastMerge merges s (at least two bytes) as tiktoken does, the quadratic way,
// without looking s up whole, and returns the ids of the parts before the last
// merge and the ids it ends with.
func lastMerge(s string) (left, right int, ids []int) {
	ranks := testRanks()
	bounds := make([]int, len(s)+1) // part i is s[bounds[i]:bounds[i+1]]
	for i := range bounds {
		bounds[i] = i
	}
	left, right = -1, -1
	for {
		best, at := -1, -1
		for i := 0; i+2 < len(bounds); i++ {
			if r, ok := ranks[s[bounds[i]:bounds[i+2]]]; ok && (best < 0 || r < best) {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		left, right = ranks[s[bounds[at]:bounds[at+1]]], ranks[s[bounds[at+1]:bounds[at+2]]]
		bounds = append(bounds[:at+1], bounds[at+2:]...)
	}
	for i := 0; i+1 < len(bounds); i++ {
		ids = append(ids, ranks[s[bounds[i]:bounds[i+1]]])
	}
	return left, right, ids
}

// TestBacktrackTables checks the tables of the backtracking encoder against the
// vocabulary: every token is made by a merge (its own merge gives it whole), split
// holds that last merge, nextPrefix the longest proper prefix that is a token, and
// the trie finds the longest token a text starts with.
func TestBacktrackTables(t *testing.T) {
	t.Parallel()
	tk := Default()
	b := tk.bt
	ranks := testRanks()
	for id, s := range testTokens()[:NumOrdinaryTokens] {
		if int(b.tokLen[id]) != len(s) {
			t.Fatalf("tokLen[%d] = %d, want %d", id, b.tokLen[id], len(s))
		}
		wantPrefix := -1
		for k := len(s) - 1; k > 0; k-- {
			if r, ok := ranks[s[:k]]; ok {
				wantPrefix = r
				break
			}
		}
		if int(b.nextPrefix[id]) != wantPrefix {
			t.Fatalf("nextPrefix[%q] = %d, want %d", s, b.nextPrefix[id], wantPrefix)
		}
		if got := b.longestPrefix(s, len(s)); int(got) != id {
			t.Fatalf("longestPrefix(%q) = %d, want %d", s, got, id)
		}
		l, r := int(splitLeft(b.split[id])), int(splitRight(b.split[id]))
		if splitLen(b.split[id]) != len(s) {
			t.Fatalf("split length of %q = %d", s, splitLen(b.split[id]))
		}
		if len(s) == 1 {
			if l != id || r != id {
				t.Fatalf("split of byte %q = %d, %d; want itself", s, l, r)
			}
			continue
		}
		wantL, wantR, ids := lastMerge(s)
		if len(ids) != 1 || ids[0] != id {
			t.Fatalf("token %d %q merges to %v, not to itself", id, s, ids)
		}
		if l != wantL || r != wantR {
			t.Fatalf("split of %q = %q + %q, want %q + %q", s, testTokens()[l], testTokens()[r], testTokens()[wantL], testTokens()[wantR])
		}
		if got := tk.backtrack(s, nil); len(got) != 1 || got[0] != id {
			t.Fatalf("backtrack(%q) = %v, want [%d]", s, got, id)
		}
	}
	// Longest prefixes of random texts, against the vocabulary map.
	rng := rand.New(rand.NewPCG(31, 32))
	for i := range 20000 {
		var s string
		switch i % 4 {
		case 0:
			s = randomText(rng, 1+rng.IntN(40))
		case 1:
			s = vocabPieces(rng, uint8(rng.IntN(3)), 1, 1+rng.IntN(200))
		case 2:
			s = strings.Repeat(string(" \t\n=-a"[rng.IntN(6)]), 1+rng.IntN(300)) + randomText(rng, 3)
		default:
			bs := make([]byte, 1+rng.IntN(20))
			for j := range bs {
				bs[j] = byte(rng.IntN(256))
			}
			s = string(bs)
		}
		want := -1
		for k := min(len(s), maxTokenLen); k > 0; k-- {
			if r, ok := ranks[s[:k]]; ok {
				want = r
				break
			}
		}
		if got := b.longestPrefix(s, min(len(s), maxTokenLen)); int(got) != want {
			t.Fatalf("longestPrefix(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestValidPair checks validPair against its definition, the merge of the two
// tokens' bytes, on random pairs of tokens and on pairs from one run of a
// character, where ties between equal ranks decide.
func TestValidPair(t *testing.T) {
	t.Parallel()
	tk := Default()
	rng := rand.New(rand.NewPCG(33, 34))
	tokens := testTokens()
	check := func(a, c int) {
		_, _, ids := lastMerge(tokens[a] + tokens[c])
		want := len(ids) == 2 && ids[0] == a && ids[1] == c
		if got := tk.bt.validPair(tk.merge, int32(a), int32(c)); got != want {
			t.Fatalf("validPair(%q, %q) = %v; the merge gives %v", tokens[a], tokens[c], got, ids)
		}
	}
	short := func() int {
		for {
			if id := rng.IntN(NumOrdinaryTokens); len(tokens[id]) <= 6 {
				return id
			}
		}
	}
	valid := 0
	for range 30000 {
		a, c := short(), short()
		if rng.IntN(3) == 0 {
			// Two parts of one merge of a random text are a valid pair,
			// the cases that matter most.
			ids := tk.mergeLong(randomText(rng, 4+rng.IntN(8)), nil)
			if len(ids) < 2 {
				continue
			}
			k := rng.IntN(len(ids) - 1)
			a, c = ids[k], ids[k+1]
			valid++
		}
		check(a, c)
	}
	for _, ch := range []string{" ", "a", "=", "\n", "0"} {
		for i := 1; i <= 40; i++ {
			for j := 1; j <= 40; j++ {
				a, ok1 := testRanks()[strings.Repeat(ch, i)]
				c, ok2 := testRanks()[strings.Repeat(ch, j)]
				if ok1 && ok2 {
					check(a, c)
				}
			}
		}
	}
	if valid < 5000 {
		t.Errorf("only %d valid pairs checked", valid)
	}
}

// btPieces returns pieces of every kind the backtracking encoder must get right:
// random letters, CJK, punctuation and whitespace, runs and short periods of one
// character, random sequences of vocabulary tokens of 1 to 128 bytes of one class
// or of all, and raw bytes that are not UTF-8.
func btPieces(rng *rand.Rand, n int) []string {
	var out []string
	for _, alpha := range []string{"abcdefghijklmnopqrstuvwxyz", "etaoinshr", "ab", "ЁёЖжЗзИиЙй", "的一是不了人我在有他这为之大来以个中上们", "가나다라마바사아자차카타파하", "!@#$%^&*()-=+[]{};:,./?~`|", " \t\n\r\u3000", " "} {
		out = append(out, randomRunes(rng, alpha, 1+rng.IntN(n)))
	}
	for _, unit := range []string{"a", " ", "=", "-", "\n", "ab", "=-", "的", " \t", "abc"} {
		out = append(out, strings.Repeat(unit, 1+rng.IntN(n/len(unit))))
	}
	for _, cls := range []uint8{clsLetter, clsOther, clsSpace} {
		for _, minLen := range []int{1, 4, 8, 16, 32} {
			out = append(out, vocabPieces(rng, cls, minLen, 1+rng.IntN(n)))
		}
	}
	var mixed strings.Builder
	for mixed.Len() < n {
		mixed.WriteString(testTokens()[rng.IntN(NumOrdinaryTokens)])
	}
	raw := make([]byte, 1+rng.IntN(n))
	for i := range raw {
		raw[i] = byte(rng.IntN(256))
	}
	return append(out, mixed.String(), string(raw), randomText(rng, 1+rng.IntN(n)))
}

// TestBacktrackMatchesMerge compares the backtracking encoder with mergeLong, id
// by id, on pieces of every kind up to 64 KB, and with tiktoken-go's merge on
// pieces of up to 200 bytes.
func TestBacktrackMatchesMerge(t *testing.T) {
	t.Parallel()
	tk := Default()
	rng := rand.New(rand.NewPCG(35, 36))
	compared := 0
	for _, n := range []int{16, 200, 2000, 64 << 10} {
		rounds := 12
		if n == 64<<10 {
			rounds = 2
		}
		for range rounds {
			for _, piece := range btPieces(rng, n) {
				want := tk.mergeLong(piece, nil)
				if got := tk.backtrack(piece, nil); !equalInts(got, want) {
					t.Fatalf("backtrack(%q…, %d bytes): %d ids, mergeLong %d; first difference at %d", piece[:min(20, len(piece))], len(piece), len(got), len(want), firstDiff(got, want))
				}
				compared += len(piece)
				if n <= 200 && utf8.ValidString(piece) && len(ourPieces(piece)) == 1 {
					if ref := reference().EncodeOrdinary(piece); !equalInts(want, ref) {
						t.Fatalf("mergeLong(%q…) differs from tiktoken-go", piece[:min(20, len(piece))])
					}
				}
			}
		}
	}
	if compared < 2<<20 {
		t.Errorf("only %d bytes compared", compared)
	}
}

func firstDiff(a, b []int) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// FuzzBacktrack compares the backtracking encoder with mergeLong on any bytes.
func FuzzBacktrack(f *testing.F) {
	rng := rand.New(rand.NewPCG(37, 38))
	for _, s := range btPieces(rng, 300) {
		f.Add(s)
	}
	f.Add("")
	f.Add("\xff\xfe")
	tk := Default()
	f.Fuzz(func(t *testing.T, piece string) {
		want := tk.mergeLong(piece, nil)
		if got := tk.backtrack(piece, nil); !equalInts(got, want) {
			t.Fatalf("backtrack(%q) = %v, mergeLong %v", piece, got, want)
		}
	})
}
