package mockserver

import (
	"crypto/sha256"
	"hash"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/brianvoe/gofakeit/v7"
)

// chatState is the memory one chat request uses on its way through the pipeline and that
// nothing keeps after it: the call, the journal record being filled in, the limiter's answer,
// and for the compatible shape the decoded request and its messages, the result and the
// buffers of the generated reply. serveChat takes one from a pool and gives it back once the
// request is in the journal, so a request allocates only what outlives it (the request id,
// the body, the journal's copies) and what other code makes.
//
// What the journal, the usage book, the metrics or the request log keep never points into a
// state: the record is copied out by value and its strings are the request's own (the body,
// the response as sent, labels and ids). Everything a state holds is cleared before it goes
// back (release), and the buffers it keeps are bounded (maxPooledMessages, maxPooledBytes).
type chatState struct {
	c   call
	rec RequestRecord
	adm admission

	// The compatible shape's request, decoded without allocating (decodeCompatInto): its
	// strings point into the body, which is the request's own and never changes.
	req  chatRequest
	msgs []chatMessage

	// The reply of a compatible non-stream request (call.pooled): its result, and the text
	// and token ids of generated prose in gen.
	res    result
	choice [1]choiceResult
	gen    replyScratch

	block []byte // one prompt block at a time (countPrompt)

	plain bool // not from the pool: see unpooledStates
}

// Bounds of what a pooled state keeps between requests: a longer messages array or larger
// buffers, which only a large request makes, are left to the garbage collector.
const (
	maxPooledMessages = 64
	maxPooledBytes    = 64 << 10
)

var chatStates = sync.Pool{New: func() any { return new(chatState) }}

// unpooledStates makes every request use a new state and decode its request and make its
// reply in memory of their own, as they did before states were pooled, for tests that compare
// answers with and without the pool.
var unpooledStates atomic.Bool

func getChatState() *chatState {
	if unpooledStates.Load() {
		return &chatState{plain: true}
	}
	return chatStates.Get().(*chatState)
}

// release clears st and puts it back in the pool, keeping only its bounded buffers.
func (st *chatState) release() {
	if st.plain {
		return
	}
	msgs, block, gen := st.msgs, st.block, st.gen.keep()
	*st = chatState{gen: gen}
	if cap(msgs) <= maxPooledMessages {
		clear(msgs[:cap(msgs)]) // drop the strings of the old request's body
		st.msgs = msgs[:0]
	}
	if cap(block) <= maxPooledBytes {
		st.block = block[:0]
	}
	chatStates.Put(st)
}

// replyScratch is what the generation of one reply reuses: the hash that derives its random
// source, the source and the Faker drawing from it, and the buffers the text and token ids of
// generated prose are appended to. Text and ids are only appended during a request, so the
// strings and slices handed out stay valid until the state is released.
type replyScratch struct {
	feed  hashFeed
	pcg   rand.PCG
	faker *gofakeit.Faker // made once per state
	text  []byte
	ids   []int
}

// keep returns the parts of sc worth reusing: the hash, and the buffers if they are within
// maxPooledBytes.
func (sc *replyScratch) keep() replyScratch {
	k := replyScratch{feed: hashFeed{h: sc.feed.h}, faker: sc.faker}
	if cap(sc.text) <= maxPooledBytes {
		k.text = sc.text[:0]
	}
	if cap(sc.ids)*8 <= maxPooledBytes {
		k.ids = sc.ids[:0]
	}
	return k
}

// source seeds the scratch's generator with the two words of a reply's seed and returns the
// Faker that draws from it: the same draws as gofakeit.NewFaker(rand.NewPCG(a, b), false).
func (sc *replyScratch) source(a, b uint64) *gofakeit.Faker {
	sc.pcg.Seed(a, b)
	if sc.faker == nil {
		sc.faker = new(gofakeit.Faker)
	}
	sc.faker.Rand = &sc.pcg
	return sc.faker
}

// hashFeed writes strings and numbers to a SHA-256 through a fixed buffer, so that no string
// is converted to a byte slice.
type hashFeed struct {
	h   hash.Hash
	buf [256]byte
	n   int
	sum [sha256.Size]byte
}

func (f *hashFeed) reset() {
	if f.h == nil {
		f.h = sha256.New()
	}
	f.h.Reset()
	f.n = 0
}

func (f *hashFeed) flush() {
	if f.n > 0 {
		f.h.Write(f.buf[:f.n])
		f.n = 0
	}
}

func (f *hashFeed) uint64(v uint64) {
	if len(f.buf)-f.n < 8 {
		f.flush()
	}
	for i := range 8 {
		f.buf[f.n+i] = byte(v >> (8 * i)) // little-endian, as binary.LittleEndian.PutUint64
	}
	f.n += 8
}

func (f *hashFeed) string(s string) {
	for len(s) > 0 {
		if f.n == len(f.buf) {
			f.flush()
		}
		k := copy(f.buf[f.n:], s)
		f.n += k
		s = s[k:]
	}
}

// digest returns the SHA-256 of everything written since reset.
func (f *hashFeed) digest() []byte {
	f.flush()
	return f.h.Sum(f.sum[:0])
}

// carveText returns an empty slice with room for exactly n bytes at the end of sc.text, which
// counts them as used. A buffer too small is replaced; strings made from the old one keep it.
func (sc *replyScratch) carveText(n int) []byte {
	if cap(sc.text)-len(sc.text) < n {
		sc.text = make([]byte, 0, max(n, 2*cap(sc.text), 1024))
	}
	start := len(sc.text)
	sc.text = sc.text[:start+n]
	return sc.text[start : start : start+n]
}

// carveIDs is carveText for token ids.
func (sc *replyScratch) carveIDs(n int) []int {
	if cap(sc.ids)-len(sc.ids) < n {
		sc.ids = make([]int, 0, max(n, 2*cap(sc.ids), 256))
	}
	start := len(sc.ids)
	sc.ids = sc.ids[:start+n]
	return sc.ids[start : start : start+n]
}
