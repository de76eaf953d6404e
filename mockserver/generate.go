package mockserver

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/brianvoe/gofakeit/v7"
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
	return paragraphs(f, 1+weighted(f, 5, 4, 2)) // 1, 2 or 3 paragraphs
}

// generateReasoning writes the reasoning of a thinking-mode reply: one or two paragraphs.
func generateReasoning(f *gofakeit.Faker) string {
	return paragraphs(f, 1+weighted(f, 3, 2))
}

func paragraphs(f *gofakeit.Faker, n int) string {
	pool := sentencePool()
	var sb strings.Builder
	for p := range n {
		if p > 0 {
			sb.WriteString("\n\n")
		}
		for i := range 2 + f.IntN(4) { // two to five sentences, as gofakeit's Paragraph
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(pool[f.IntN(len(pool))])
		}
	}
	return sb.String()
}

// sentencePool is a fixed set of gofakeit sentences, made once per process from a constant
// seed. Replies pick from it with their own seeded Faker, so they stay a pure function of
// (seed, request); building sentences from gofakeit's templates on every request cost about a
// third of the handler's time.
var sentencePool = sync.OnceValue(func() []string {
	f := gofakeit.NewFaker(rand.NewPCG(0x5eed, 0x9e3779b97f4a7c15), false)
	pool := make([]string, 4096)
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
	h := sha256.New()
	var buf [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	str := func(v string) {
		put(uint64(len(v)))
		h.Write([]byte(v))
	}
	put(s.cfg.seed)
	str(c.modelID)
	put(uint64(len(c.req.Messages)))
	for _, m := range c.req.Messages {
		str(m.Role)
		str(m.Content)
	}
	if c.req.Seed.set {
		put(1)
		put(uint64(int64(c.req.Seed.v)))
	} else {
		put(0)
	}
	put(uint64(choice))
	sum := h.Sum(nil)
	return rand.NewPCG(binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16]))
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
