package mockserver

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/brianvoe/gofakeit/v7"

	"github.com/qwenmock/qwenmock/mockserver/tokenizer"
)

// generateProse writes a generated reply: English prose from gofakeit, one to three
// paragraphs of two to five sentences (tens to a few hundred tokens).
//
// Every reply is a pure function of (server seed, request): its Faker is seeded from a hash
// of the seed, the model, the conversation, the request's own seed parameter and the choice
// index (replySource). A Faker shared by a whole server could not give that under concurrent
// requests (its state would depend on arrival order), so each reply gets its own, made from
// the server's seed; gofakeit's package-level functions, which share global state, are never
// used.
func generateProse(f *gofakeit.Faker) string {
	text, _ := paragraphs(f, 1+weighted(f, 5, 4, 2), nil, nil) // 1, 2 or 3 paragraphs
	return text
}

// generateReasoning writes the reasoning of a thinking-mode reply: one or two paragraphs.
func generateReasoning(f *gofakeit.Faker) string {
	text, _ := paragraphs(f, 1+weighted(f, 3, 2), nil, nil)
	return text
}

// generateProseTokens is generateProse with the reply's token ids, assembled from the
// sentences' precomputed ids instead of tokenizing the reply (see sentenceTokens).
func generateProseTokens(f *gofakeit.Faker, tok *tokenizer.Tokenizer) (string, []int) {
	return generateProseInto(f, tok, nil)
}

// generateProseInto is generateProseTokens with the text and ids in sc's buffers (nil: new
// ones).
func generateProseInto(f *gofakeit.Faker, tok *tokenizer.Tokenizer, sc *replyScratch) (string, []int) {
	return paragraphs(f, 1+weighted(f, 5, 4, 2), tok, sc)
}

// generateReasoningTokens is generateReasoning with its token ids.
func generateReasoningTokens(f *gofakeit.Faker, tok *tokenizer.Tokenizer) (string, []int) {
	return generateReasoningInto(f, tok, nil)
}

// generateReasoningInto is generateReasoningTokens with the text and ids in sc's buffers.
func generateReasoningInto(f *gofakeit.Faker, tok *tokenizer.Tokenizer, sc *replyScratch) (string, []int) {
	return paragraphs(f, 1+weighted(f, 3, 2), tok, sc)
}

// paragraphs writes n paragraphs from the sentence pool and, when tok is given, their token
// ids. It draws from f the same way either way, so the text does not depend on tok. With sc
// the text and ids are carved from sc's buffers instead of allocated.
func paragraphs(f *gofakeit.Faker, n int, tok *tokenizer.Tokenizer, sc *replyScratch) (string, []int) {
	pool := sentencePool()
	var picks [3 * 5]uint16 // sentence indices; at most 3 paragraphs of 5 sentences
	var ends [3]int         // the number of picks at the end of each paragraph
	n = min(n, len(ends))
	k := 0
	for p := range n {
		for range 2 + f.IntN(4) { // two to five sentences, as gofakeit's Paragraph
			picks[k] = uint16(f.IntN(len(pool)))
			k++
		}
		ends[p] = k
	}
	size := 0
	for _, i := range picks[:k] {
		size += len(pool[i]) + 2
	}
	var buf []byte
	if sc != nil {
		buf = sc.carveText(size)
	} else {
		buf = make([]byte, 0, size)
	}
	var units [3 * 5][]int
	total := 0
	j := 0
	for p := range n {
		for first := true; j < ends[p]; first = false {
			v := 0
			if !first {
				buf = append(buf, ' ')
				v |= unitSpace
			}
			buf = append(buf, pool[picks[j]]...)
			if j == ends[p]-1 && p < n-1 {
				buf = append(buf, "\n\n"...)
				v |= unitBreak
			}
			if tok != nil {
				units[j] = sentenceTokens(tok, int(picks[j]), v)
				total += len(units[j])
			}
			j++
		}
	}
	text := unsafe.String(unsafe.SliceData(buf), len(buf))
	if tok == nil || !poolTokenizable() {
		return text, nil
	}
	var ids []int
	if sc != nil {
		ids = sc.carveIDs(total)
	} else {
		ids = make([]int, 0, total)
	}
	for _, u := range units[:k] {
		ids = append(ids, u...)
	}
	return text, ids
}

// The forms a pool sentence takes in a reply: after a space (not first in its paragraph),
// and followed by a paragraph break.
const (
	unitSpace = 1 << iota
	unitBreak
)

// sentenceIDs holds the token ids of each pool sentence in each of its four forms, made on
// first use: a bounded table (4 × the pool) that never grows.
var sentenceIDs [4 * sentencePoolSize]atomic.Pointer[[]int]

// sentenceTokens returns the token ids of pool sentence i in form v. The ids of a reply are
// the concatenation of its sentences' ids: every sentence starts with a letter and ends
// without whitespace (poolTokenizable), so the tokenizer's pre-tokenization splits a reply
// exactly where one sentence's form ends and the next begins (before " Word", after ".\n\n"),
// and no token spans two of them. TestGeneratedTokensMatchEncode checks it against Encode.
func sentenceTokens(tok *tokenizer.Tokenizer, i, v int) []int {
	slot := &sentenceIDs[i*4+v]
	if ids := slot.Load(); ids != nil {
		return *ids
	}
	text := sentencePool()[i]
	if v&unitSpace != 0 {
		text = " " + text
	}
	if v&unitBreak != 0 {
		text += "\n\n"
	}
	ids := slices.Clip(tok.Encode(text))
	slot.Store(&ids)
	return ids
}

// poolTokenizable reports whether every pool sentence starts with a letter and holds no
// whitespace at its ends and no line break, which sentenceTokens relies on.
var poolTokenizable = sync.OnceValue(func() bool {
	for _, s := range sentencePool() {
		r, _ := utf8.DecodeRuneInString(s)
		last, _ := utf8.DecodeLastRuneInString(s)
		if !unicode.IsLetter(r) || unicode.IsSpace(last) || strings.ContainsAny(s, "\r\n") {
			return false
		}
	}
	return true
})

const sentencePoolSize = 4096

// sentencePool is a fixed set of gofakeit sentences, made once per process from a constant
// seed. Replies pick from it with their own seeded Faker, so they stay a pure function of
// (seed, request); building sentences from gofakeit's templates on every request cost about a
// third of the handler's time.
var sentencePool = sync.OnceValue(func() []string {
	f := gofakeit.NewFaker(rand.NewPCG(0x5eed, 0x9e3779b97f4a7c15), false)
	pool := make([]string, sentencePoolSize)
	for i := range pool {
		pool[i] = f.Sentence()
	}
	return pool
})

// generateJSONObject writes the content of a JSON-mode reply: a small object with a few
// typical fields, formatted as the model writes JSON.
func generateJSONObject(f *gofakeit.Faker) string {
	obj := map[string]any{
		"answer":     f.Sentence(),
		"confidence": float64(50+f.IntN(50)) / 100,
		"topics":     []string{f.Noun(), f.Noun()},
		"sources":    f.IntN(5),
	}
	return pythonJSON(marshalJSON(obj))
}

// replySource derives the random source of one reply from the server seed and the request.
func (s *Server) replySource(c *call, choice int) rand.Source {
	var f hashFeed
	a, b := s.replySeed(&f, c, choice)
	return rand.NewPCG(a, b)
}

// replySeed is the seed of replySource: the first 16 bytes of a SHA-256 of the server seed,
// the model, the conversation, the request's seed parameter and the choice index, written
// through f.
func (s *Server) replySeed(f *hashFeed, c *call, choice int) (uint64, uint64) {
	f.reset()
	str := func(v string) {
		f.uint64(uint64(len(v)))
		f.string(v)
	}
	f.uint64(s.cfg.seed)
	str(c.modelID)
	f.uint64(uint64(len(c.req.Messages)))
	for _, m := range c.req.Messages {
		str(m.Role)
		str(m.Content)
	}
	if c.req.Seed.set {
		f.uint64(1)
		f.uint64(uint64(int64(c.req.Seed.v)))
	} else {
		f.uint64(0)
	}
	f.uint64(uint64(choice))
	sum := f.digest()
	return binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16])
}

// weighted picks index i with probability weights[i] / Σ weights.
func weighted(f *gofakeit.Faker, weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	r := f.IntN(total)
	for i, w := range weights {
		if r < w {
			return i
		}
		r -= w
	}
	return len(weights) - 1
}
