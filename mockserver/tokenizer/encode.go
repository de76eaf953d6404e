package tokenizer

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Tuning constants of the encoding pipeline (see the package documentation).
const (
	// nfcWindow is the amount of raw text normalised at a time, so that CountLimit
	// can stop early without normalising a whole 32 MB body.
	nfcWindow = 64 << 10
	// chunkSize is the size of the runs of short pieces handed to tiktoken-go at once.
	chunkSize = 4 << 10
	// longPiece is the length above which a piece is merged by mergeLong instead of
	// tiktoken-go, whose merge is quadratic in the piece length.
	longPiece = 256
)

// sink receives the ids of consecutive parts of the text.
type sink struct {
	collect bool  // keep the ids
	ids     []int // the ids so far, if collect
	n       int   // the number of ids so far
	limit   int   // stop once n > limit
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
	pending []byte // normalised text not yet cut into pieces
	scratch []int
}

// run encodes text into s; it stops early once s.n exceeds s.limit.
func (t *Tokenizer) run(text string, s *sink) {
	t.runWindow(text, s, nfcWindow)
}

func (t *Tokenizer) runWindow(text string, s *sink, window int) {
	if s.limit < 0 {
		return
	}
	if !utf8.ValidString(text) {
		text = sanitize(text)
	}
	e := encoder{t: t, p: newPretokenizer(), out: s, window: window}
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
func (e *encoder) segment(seg string) bool {
	for start := 0; start < len(seg); {
		end := nfcBoundary(seg, start+e.window)
		w := norm.NFC.String(seg[start:end])
		start = end
		if !e.feed(w, end == len(seg)) {
			return false
		}
	}
	return true
}

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
		e.pending = e.pending[:0]
		return e.pieces(text)
	}
	cut := e.p.safeCut(w, 1)
	if cut < 0 {
		e.pending = append(e.pending, w...)
		return true
	}
	var text string
	if len(e.pending) == 0 {
		text = w[:cut]
	} else {
		e.pending = append(e.pending, w[:cut]...)
		text = string(e.pending)
	}
	e.pending = append(e.pending[:0], w[cut:]...)
	return e.pieces(text)
}

// pieces encodes normalised text that ends at a safe cut. Long pieces go to
// mergeLong; a short piece whose ids tiktoken-go produced before comes from the
// memo; consecutive other pieces are handed to tiktoken-go together, in runs of
// about chunkSize bytes.
func (e *encoder) pieces(text string) bool {
	run, safe := 0, 0 // text[run:i] awaits tiktoken-go; text[run:safe] may be cut off
	for i := 0; i < len(text); {
		j := e.p.next(text, i)
		piece := text[i:j]
		switch ids, hit := e.t.memo.get(piece, e.scratch[:0]); {
		case hit:
			e.scratch = ids
			if !e.flush(text, run, safe, i) || !e.out.add(ids...) {
				return false
			}
			run, safe = j, j
		case j-i > longPiece:
			if !e.flush(text, run, safe, i) {
				return false
			}
			e.scratch = e.t.mergeLong(piece, e.scratch[:0])
			if !e.out.add(e.scratch...) {
				return false
			}
			run, safe = j, j
		default:
			if e.p.cutAfter(piece) {
				safe = j
			}
			if j-run >= chunkSize {
				if !e.flush(text, run, safe, j) {
					return false
				}
				run, safe = j, j
			}
		}
		i = j
	}
	return e.flush(text, run, safe, len(text))
}

// flush encodes the pieces of text[run:end] with tiktoken-go: text[run:safe] in one
// call, then each piece after safe on its own (at most a couple of whitespace
// pieces, whose split would change if the text ended there).
func (e *encoder) flush(text string, run, safe, end int) bool {
	if safe > run {
		ids := e.t.tk.EncodeOrdinary(text[run:safe])
		e.remember(text[run:safe], ids)
		if !e.out.add(ids...) {
			return false
		}
	}
	for i := safe; i < end; {
		j := e.p.next(text, i)
		ids := e.t.tk.EncodeOrdinary(text[i:j])
		e.t.memo.put(text[i:j], ids)
		if !e.out.add(ids...) {
			return false
		}
		i = j
	}
	return true
}

// remember stores in the memo the ids of each piece of s, given the ids of all of s.
// Tokens never cross piece boundaries, so the ids split by their byte lengths.
func (e *encoder) remember(s string, ids []int) {
	k := 0
	for i := 0; i < len(s); {
		j := e.p.next(s, i)
		first, n := k, 0
		for k < len(ids) && n < j-i {
			n += len(e.t.tokens[ids[k]])
			k++
		}
		if n != j-i {
			return // cannot happen: the pre-tokenizer matches tiktoken-go's
		}
		e.t.memo.put(s[i:j], ids[first:k])
		i = j
	}
}
