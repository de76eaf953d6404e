package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// TestMergeLongMatchesTiktokenGo compares mergeLong with tiktoken-go's quadratic
// merge on single pieces of up to a few KB.
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
			want := reference().EncodeOrdinary(piece)
			if got := tk.mergeLong(piece, nil); !equalInts(got, want) {
				t.Fatalf("mergeLong(%q…, %d bytes) = %v…, want %v…", piece[:min(20, len(piece))], len(piece), got[:min(10, len(got))], want[:min(10, len(want))])
			}
		}
	}
	// Pieces made of long tokens (the costliest per byte), and runs of one
	// character. "<|" repeated has no mergeable pair at all: the queue starts empty.
	pieces := []string{"a", "é", "Hello", "<|<|", strings.Repeat("<|", 300), strings.Repeat(" ", 5000), strings.Repeat("\n", 700), strings.Repeat("ab", 1500), " \t\t \t \u3000\t   \t"}
	noNewlines := strings.NewReplacer("\n", "", "\r", "") // so that whitespace is one piece
	for _, cls := range []uint8{clsLetter, clsOther, clsSpace} {
		for _, minLen := range []int{1, 4, 12} {
			pieces = append(pieces, noNewlines.Replace(vocabPieces(rng, cls, minLen, 2000)))
		}
	}
	for _, piece := range pieces {
		if got := ourPieces(piece); len(got) != 1 {
			t.Fatalf("test piece %q is %d pieces", piece[:min(20, len(piece))], len(got))
		}
		want := reference().EncodeOrdinary(piece)
		if got := tk.mergeLong(piece, nil); !equalInts(got, want) {
			t.Errorf("mergeLong(%q…) = %v…, want %v…", piece[:min(20, len(piece))], got[:min(10, len(got))], want[:min(10, len(want))])
		}
	}
}

// TestLongPiecesInText checks whole texts with pieces of hundreds of bytes.
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
		if got, want := tk.Encode(text), reference().EncodeOrdinary(sanitize(text)); !equalInts(got, want) {
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

// classTokens lists, for each rune class, the ordinary tokens whose runes all have
// that class (never newlines for clsOther, which would end a punctuation piece's
// core).
var classTokens = sync.OnceValue(func() map[uint8][]string {
	p := newPretokenizer()
	out := map[uint8][]string{}
	for _, s := range testTokens()[:NumOrdinaryTokens] {
		if !utf8.ValidString(s) {
			continue
		}
		cls := uint8(255)
		for _, r := range s {
			c := p.class(r)
			if r == utf8.RuneError || cls != 255 && c != cls || c == clsOther && (r == '\r' || r == '\n') {
				cls = 254
				break
			}
			cls = c
		}
		out[cls] = append(out[cls], s)
	}
	return out
})

// vocabPieces returns a string of about n bytes made of random ordinary tokens of
// at least minLen bytes whose runes all have class cls: one pre-tokenizer piece of
// long, varied tokens, the costliest input for the merge per byte.
func vocabPieces(rng *rand.Rand, cls uint8, minLen, n int) string {
	var pool []string
	for _, s := range classTokens()[cls] {
		if len(s) >= minLen {
			pool = append(pool, s)
		}
	}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(pool[rng.IntN(len(pool))])
	}
	return b.String()
}

// TestMergeLongMatchesHeapMerge compares mergeLong with mergeHeap, an independent
// heap merge over the vocabulary map, on pieces up to hugePiece bytes: too long
// for tiktoken-go, and long enough to exercise the rank queue's coarse buckets and
// the pair cache's evictions.
func TestMergeLongMatchesHeapMerge(t *testing.T) {
	t.Parallel()
	tk := Default()
	rng := rand.New(rand.NewPCG(13, 14))
	pieces := []string{
		strings.Repeat("a", 20000),
		strings.Repeat(" ", hugePiece),
		strings.Repeat("=-", 9000),
		vocabPieces(rng, clsLetter, 8, 16000),
		vocabPieces(rng, clsOther, 8, 16000),
		vocabPieces(rng, clsSpace, 4, 16000),
		vocabPieces(rng, clsLetter, 1, 16000),
	}
	for _, alpha := range []string{"abcdefghijklmnopqrstuvwxyz", "!@#$%^&*()-=+[]{};:,./?~`|", "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生", " \t\n\r\u3000"} {
		runes := []rune(alpha)
		var b strings.Builder
		for b.Len() < 16000 {
			b.WriteRune(runes[rng.IntN(len(runes))])
		}
		pieces = append(pieces, b.String())
	}
	for _, piece := range pieces {
		if got, want := tk.mergeLong(piece, nil), tk.mergeHeap(piece); !equalInts(got, want) {
			t.Errorf("mergeLong(%q…, %d bytes): %d ids, mergeHeap %d", piece[:20], len(piece), len(got), len(want))
		}
	}
}

// TestRankQueue checks the queue against sorting, with keys pushed below the last
// key taken (which go to the low heap) as well as above it.
func TestRankQueue(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(15, 16))
	var q rankQueue
	for round := range 50 {
		q.reset()
		var pending []uint64
		last := uint64(0)
		seen := map[uint64]bool{}
		for step := range 3000 {
			if len(pending) > 0 && rng.IntN(3) == 0 {
				k, ok := q.pop()
				if !ok || k != pending[0] {
					t.Fatalf("round %d step %d: pop = %#x, %v; want %#x", round, step, k, ok, pending[0])
				}
				pending, last = pending[1:], k
				continue
			}
			var r int32
			switch rng.IntN(4) {
			case 0: // near the last rank, often below it
				r = max(1, int32(last>>32)+int32(rng.IntN(64))-48)
			case 1: // in another block of fine buckets
				r = 1 + int32(rng.IntN(NumOrdinaryTokens-1))
			default:
				r = max(1, int32(last>>32)+int32(rng.IntN(2000)))
			}
			r = min(r, NumOrdinaryTokens-1)
			k := key(r, int32(rng.IntN(1<<16)))
			if seen[k] {
				continue
			}
			seen[k] = true
			q.push(k)
			i, _ := slices.BinarySearch(pending, k)
			pending = slices.Insert(pending, i, k)
		}
		for _, want := range pending {
			if k, ok := q.pop(); !ok || k != want {
				t.Fatalf("round %d drain: pop = %#x, %v; want %#x", round, k, ok, want)
			}
		}
		if k, ok := q.pop(); ok {
			t.Fatalf("round %d: pop from empty queue = %#x", round, k)
		}
	}
}

// TestMergeTables checks the tables of mergeLong against the vocabulary map.
func TestMergeTables(t *testing.T) {
	t.Parallel()
	tk := Default()
	m := tk.merge
	for x := range 256 {
		if want := testRanks()[string([]byte{byte(x)})]; int(m.byteID[x]) != want {
			t.Fatalf("byteID[%#x] = %d, want %d", x, m.byteID[x], want)
		}
		for y := range 256 {
			want, ok := testRanks()[string([]byte{byte(x), byte(y)})]
			if !ok {
				want = int(noRank)
			}
			if int(m.bytePair[x<<8|y]) != want {
				t.Fatalf("bytePair[%#x %#x] = %d, want %d", x, y, m.bytePair[x<<8|y], want)
			}
		}
	}
	// Every split of every token into two tokens is in pairs, and nothing else.
	splits := 0
	for id, s := range testTokens()[:NumOrdinaryTokens] {
		for k := 1; k < len(s); k++ {
			a, ok1 := testRanks()[s[:k]]
			b, ok2 := testRanks()[s[k:]]
			if !ok1 || !ok2 {
				continue
			}
			splits++
			if got := m.pairID(int32(a), int32(b)); got != int32(id) {
				t.Fatalf("pairID(%q, %q) = %d, want %d", s[:k], s[k:], got, id)
			}
		}
	}
	stored := 0
	for _, v := range m.pairs {
		if v != 0 {
			stored++
		}
	}
	if splits != 294166 || stored != splits {
		t.Errorf("%d splits, %d pairs stored; want 294166 of each", splits, stored)
	}
	rng := rand.New(rand.NewPCG(17, 18))
	for range 20000 {
		a, b := rng.IntN(NumOrdinaryTokens), rng.IntN(NumOrdinaryTokens)
		if rng.IntN(2) == 0 {
			a = int(m.byteID[rng.IntN(256)])
		}
		want, ok := testRanks()[testTokens()[a]+testTokens()[b]]
		if !ok {
			want = int(noRank)
		}
		if got := m.pairID(int32(a), int32(b)); int(got) != want {
			t.Fatalf("pairID(%q, %q) = %d, want %d", testTokens()[a], testTokens()[b], got, want)
		}
	}
}

// TestVocabIndex checks the index used to build the pairs table.
func TestVocabIndex(t *testing.T) {
	t.Parallel()
	x, err := newVocabIndex(testTokens()[:NumOrdinaryTokens])
	if err != nil {
		t.Fatal(err)
	}
	hash := func(s string) uint64 {
		var h uint64
		for i := range len(s) {
			h = h*hashMul + uint64(s[i]) + 1
		}
		return h
	}
	for id, s := range testTokens()[:NumOrdinaryTokens] {
		if x.hashOf(int32(id)) != hash(s) {
			t.Fatalf("hash of token %d is wrong", id)
		}
		if got := x.lookup(hash(s), s); got != int32(id) {
			t.Fatalf("lookup(%q) = %d, want %d", s, got, id)
		}
	}
	rng := rand.New(rand.NewPCG(19, 20))
	for range 20000 {
		b := make([]byte, 2+rng.IntN(20))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		s := string(b)
		want, ok := testRanks()[s]
		if !ok {
			want = int(noRank)
		}
		if got := x.lookup(hash(s), s); int(got) != want {
			t.Fatalf("lookup(%q) = %d, want %d", s, got, want)
		}
		// With a wrong hash, the bytes still decide: never another token.
		if got := x.lookup(hash(s)^1<<50, s); got != noRank && int(got) != want {
			t.Fatalf("lookup(%q, wrong hash) = %d", s, got)
		}
	}
}
