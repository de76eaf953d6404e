package tokenizer

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Tuning constants of the encoding pipeline (see the package documentation).
const (
	// nfcWindow is the amount of raw text normalised at a time, so that CountLimit
	// can stop early without normalising a whole 32 MB body.
	nfcWindow = 64 << 10
	// hugePiece is the length above which a piece is merged in windows of at most
	// hugePiece bytes, each merged independently (window.go). No real word comes
	// near it: the longest pieces of real text are runs of spaces or punctuation
	// and CJK sentences without punctuation, a few hundred bytes to a few KB. Such
	// pieces are runs of one character or machine-made junk, and 64 KB windows
	// keep their counts within about 0.2% (5–16 ppm for random characters) while
	// a window costs at most about 3 ms.
	hugePiece = 64 << 10
	// exactPiece is the length up to which a piece is encoded whole, exactly as
	// the reference merges every piece: encoding 1 MiB costs at most about 50 ms.
	// Only longer pieces are encoded in windows of hugePiece bytes.
	exactPiece = 1 << 20
)

// sink receives the ids of consecutive parts of the text.
type sink struct {
	collect bool  // keep the ids
	ids     []int // the ids so far, if collect
	n       int   // the number of ids so far
	limit   int   // stop once n > limit

	// Work done, for tests: bytes of text normalised (or found to be NFC already);
	// windows of huge pieces encoded, their total length, how many of them were
	// merged rather than equal to the window before, and how many were drained.
	normalized, windows, windowBytes, merged, drained int
}

// add records ids and reports whether encoding should go on.
func (s *sink) add(ids ...int) bool {
	s.n += len(ids)
	if s.collect {
		s.ids = append(s.ids, ids...)
	}
	return s.n <= s.limit
}

// encoder is the state of one Encode or Count call.
type encoder struct {
	t       *Tokenizer
	p       pretokenizer
	out     *sink
	window  int    // nfcWindow, smaller in tests
	huge    int    // hugePiece, smaller in tests
	exact   int    // exactPiece; equal to huge in tests
	pending []byte // normalised text not yet cut into pieces
	stalled bool   // drain cannot go on in the piece pending starts with
	scratch []int
	// The last window of a huge piece merged, and its ids: a run of one character
	// (or any periodic text) is cut into equal windows, merged only once.
	lastWindow string
	lastIDs    []int
}

// run encodes text into s; it stops early once s.n exceeds s.limit.
func (t *Tokenizer) run(text string, s *sink) {
	t.runExact(text, s, nfcWindow, hugePiece, exactPiece)
}

// runWindow is run with NFC windows of window bytes, for tests.
func (t *Tokenizer) runWindow(text string, s *sink, window int) {
	t.runWith(text, s, window, hugePiece)
}

// runWith is run with NFC windows of window bytes and huge pieces cut into windows
// of huge bytes.
func (t *Tokenizer) runWith(text string, s *sink, window, huge int) {
	t.runExact(text, s, window, huge, huge)
}

// runExact is runWith with pieces of up to exact bytes merged whole.
func (t *Tokenizer) runExact(text string, s *sink, window, huge, exact int) {
	var e encoder
	t.runIn(&e, text, s, window, huge, exact)
}

// runIn is runExact with the encoder's state in e, whose buffers it reuses.
func (t *Tokenizer) runIn(e *encoder, text string, s *sink, window, huge, exact int) {
	if s.limit < 0 {
		return
	}
	*e = encoder{t: t, p: newPretokenizer(), out: s, window: window, huge: huge, exact: exact,
		pending: e.pending[:0], scratch: e.scratch[:0], lastIDs: e.lastIDs[:0]}
	for len(text) > 0 {
		i, id := nextSpecial(text)
		if i < 0 {
			e.segment(text)
			return
		}
		if !e.segment(text[:i]) || !s.add(id) {
			return
		}
		text = text[i+len(specialTokens[id-EndOfText]):]
	}
}

// counter is the memory of one count (CountLimit), reused from a pool: its sink and
// encoder, whose buffers are kept when within counterKeep bytes each.
type counter struct {
	s sink
	e encoder
}

const counterKeep = 64 << 10

var counters = sync.Pool{New: func() any { return new(counter) }}

// release clears c of its text and puts it back in the pool.
func (c *counter) release() {
	e := &c.e
	*e = encoder{pending: keepBytes(e.pending), scratch: keepIDs(e.scratch), lastIDs: keepIDs(e.lastIDs)}
	c.s = sink{}
	counters.Put(c)
}

func keepBytes(b []byte) []byte {
	if cap(b) > counterKeep {
		return nil
	}
	return b[:0]
}

func keepIDs(ids []int) []int {
	if cap(ids)*8 > counterKeep {
		return nil
	}
	return ids[:0]
}

// nextSpecial returns the offset and id of the leftmost special token in s, or -1.
func nextSpecial(s string) (int, int) {
	for off := 0; ; {
		j := strings.IndexByte(s[off:], '<')
		if j < 0 {
			return -1, 0
		}
		i := off + j
		if i+1 < len(s) {
			if c := s[i+1]; c == '|' || c == 't' || c == '/' {
				for k, sp := range specialTokens {
					if strings.HasPrefix(s[i:], sp) {
						return i, EndOfText + k
					}
				}
			}
		}
		off = i + 1
	}
}

// sanitize replaces every byte that is not part of valid UTF-8 with U+FFFD, as
// Go's []rune conversion (and so tiktoken-go) does.
func sanitize(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 32)
	for len(s) > 0 {
		r, w := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && w == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[:w])
		}
		s = s[w:]
	}
	return b.String()
}

// segment encodes text that holds no special token. It normalises the text to NFC
// window by window, cutting windows where normalisation cannot interact, and feeds
// the result to the pre-tokenizer. It reports whether encoding should go on.
//
// Bytes that are not valid UTF-8 are replaced window by window too, so CountLimit
// never checks text it will not count. That equals sanitizing the whole text
// first: windows are cut only before a byte that starts a rune, so a cut never
// falls inside a valid sequence, and sanitize reads each invalid byte on its own.
// (The special tokens, found first in the raw text, are ASCII, which sanitizing
// leaves in place.)
func (e *encoder) segment(seg string) bool {
	for start := 0; start < len(seg); {
		end := nfcBoundary(seg, start+e.window)
		w := seg[start:end]
		if !utf8.ValidString(w) {
			w = sanitize(w)
		}
		if !nfcInert(w) && !nfcStable(w) {
			w = nfcRef(w)
		}
		e.out.normalized += end - start
		start = end
		if !e.feed(w, end == len(seg)) {
			return false
		}
	}
	return true
}

// nfcInert reports whether valid UTF-8 s holds only ASCII and characters U+4000 to
// U+9FFF (CJK ideographs and the Yijing hexagrams, 3-byte sequences led by 0xE4 to
// 0xE9). None of these has a decomposition or a non-zero combining class, and none
// combines with a character before it, so such text is its own NFC. Checking this
// costs a byte scan, where x/text's quick check costs about 15 ns per byte of
// Chinese.
func nfcInert(s string) bool {
	for i := 0; i < len(s); {
		if i+8 <= len(s) && load64(s[i:i+8])&0x8080808080808080 == 0 {
			i += 8 // eight ASCII bytes
			continue
		}
		switch c := s[i]; {
		case c < utf8.RuneSelf:
			i++
		case c >= 0xe4 && c <= 0xe9:
			i += 3
		default:
			return false
		}
	}
	return true
}

// nfcStable reports whether valid UTF-8 s holds only characters of up to three
// bytes (U+0000 to U+FFFF) that stable marks: starters that NFC leaves as they are
// and that combine with nothing before them. Such text is its own NFC, in the
// reference's tables as in Go's: none of these characters is one of the suspects
// nfcRef watches for, and two of them cannot compose, since the second would have
// to combine with the one before it. nfcInert checks the same for ASCII and CJK
// ideographs alone; this check costs a table look-up per character outside ASCII,
// where x/text's quick check costs 10 ns or more per byte. It lets through
// Latin, Greek, Cyrillic, Hebrew, Arabic, Hangul syllables, kana and the other
// letters of the Basic Multilingual Plane, but no combining mark.
func nfcStable(s string) bool {
	m := stable()
	for i := 0; i < len(s); {
		if i+8 <= len(s) && load64(s[i:i+8])&0x8080808080808080 == 0 {
			i += 8
			continue
		}
		var r uint
		switch c := s[i]; {
		case c < utf8.RuneSelf:
			i++
			continue
		case c < 0xe0:
			if i+1 >= len(s) {
				return false
			}
			r = uint(c&0x1f)<<6 | uint(s[i+1]&0x3f)
			i += 2
		case c < 0xf0:
			if i+2 >= len(s) {
				return false
			}
			r = uint(c&0x0f)<<12 | uint(s[i+1]&0x3f)<<6 | uint(s[i+2]&0x3f)
			i += 3
		default:
			return false
		}
		if m[r>>6]&(1<<(r&63)) == 0 {
			return false
		}
	}
	return true
}

// stable marks, by code point, the characters below U+10000 that nfcStable lets
// through: those of combining class 0 that no character before them combines
// with (BoundaryBefore), that NFC leaves unchanged, and that are not among the
// suspects of nfcRef. ASCII is marked too. It takes 8 KiB and is built on first
// use.
var stable = sync.OnceValue(func() *[0x10000 / 64]uint64 {
	var m [0x10000 / 64]uint64
	list, _ := suspects()
	var b [utf8.UTFMax]byte
	for r := rune(0); r < 0x10000; r++ {
		if r >= 0xd800 && r < 0xe000 {
			continue // surrogates are not UTF-8
		}
		s := b[:utf8.EncodeRune(b[:], r)]
		p := norm.NFC.Properties(s)
		if p.CCC() != 0 || !p.BoundaryBefore() || !norm.NFC.IsNormal(s) {
			continue
		}
		if _, suspect := slices.BinarySearch(list, r); suspect {
			continue
		}
		m[r>>6] |= 1 << (r & 63)
	}
	return &m
})

// nfcBoundary returns the first offset at or after i where s can be split so that
// both sides normalise independently, or len(s).
func nfcBoundary(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	for i < len(s) {
		if s[i] < utf8.RuneSelf {
			return i
		}
		p := norm.NFC.PropertiesString(s[i:])
		if p.BoundaryBefore() {
			return i
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return len(s)
}

// feed takes the next normalised part of a segment. Pieces are cut only up to the
// last point where the pre-tokenization cannot depend on what follows; the rest
// waits in e.pending. At the end of a segment everything is cut.
func (e *encoder) feed(w string, final bool) bool {
	if final {
		if len(e.pending) == 0 {
			return e.pieces(w)
		}
		e.pending = append(e.pending, w...)
		text := string(e.pending)
		e.pending, e.stalled = e.pending[:0], false
		return e.pieces(text)
	}
	cut := e.p.safeCut(w, 1)
	if cut < 0 {
		e.pending = append(e.pending, w...)
		return e.drain()
	}
	var text string
	if len(e.pending) == 0 {
		text = w[:cut]
	} else {
		e.pending = append(e.pending, w[:cut]...)
		text = string(e.pending)
	}
	e.pending, e.stalled = append(e.pending[:0], w[cut:]...), false
	return e.pieces(text)
}

// pieces encodes normalised text that ends at a safe cut, piece by piece: a piece
// seen before comes from the memo; a new one is merged by mergeLong (the merges of
// tiktoken's byte-pair encoding, in the same order, in time about linear in the
// piece), a huge one by mergeHuge; the result is remembered.
func (e *encoder) pieces(text string) bool {
	for i := 0; i < len(text); {
		j := e.p.next(text, i)
		piece := text[i:j]
		i = j
		ids, hit := e.t.memo.get(piece, e.scratch[:0])
		if !hit {
			if len(piece) > e.exact {
				if !e.mergeHuge(piece) {
					return false
				}
				continue
			}
			ids = e.t.encodePiece(piece, ids)
			e.t.memo.put(piece, ids)
		}
		e.scratch = ids
		if !e.out.add(ids...) {
			return false
		}
	}
	return true
}
