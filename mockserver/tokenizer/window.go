package tokenizer

import (
	"strings"
	"unicode/utf8"
	"unsafe"
)

// This file bounds the work spent on huge pieces: pre-tokenizer pieces longer than
// hugePiece (64 KB), which only pathological input has, such as a megabyte of one
// letter or of random punctuation.
//
// A huge piece is cut into windows of at most hugePiece bytes and each window is
// encoded on its own by encodePiece, so the count is that of the windows, which can
// differ from the exact count by a few tokens per cut (see the package
// documentation for measured figures). Every check of the running count (the sink)
// comes after a window, so CountLimit stops within one window of the limit. The
// encoding of a window costs at most about 3 ms, whatever the text (45 ns per
// byte for the costliest text found).
//
// Where a window ends depends only on the bytes of the piece near that point,
// never on how the text reached the encoder: it is the cut, among the last cutSpan
// positions of the window, after whose 8 preceding bytes hash lowest (content-
// defined chunking). Text that repeats with a period of up to cutSpan bytes is
// therefore cut at the same phase each time, so its windows (after the first) are
// equal and merged only once.
//
// Huge pieces are also streamed: while the pending text (normalised text after the
// last safe cut) starts with a huge piece that goes on for more than a window past
// the cut in question, drain merges that window before the rest of the piece has
// even been normalised, so CountLimit on a 32 MB one-word body stops after about
// limit tokens' worth of text. This gives the same windows as merging the complete
// piece, because drain only cuts where the complete piece would be cut and only
// where the pre-tokenizer, resuming there, finds the rest of the same piece.

// cutSpan is the span before a window's longest possible end within which it is
// cut.
const cutSpan = 256

// mergeHuge encodes a piece longer than e.exact bytes in windows. It reports
// whether encoding should go on.
func (e *encoder) mergeHuge(piece string) bool {
	cls := e.p.hugeClass(piece)
	start := 0
	for len(piece)-start > e.huge {
		end := e.p.windowEnd(piece, start, e.huge, cls)
		if !e.mergeWindow(piece[start:end], false) {
			return false
		}
		start = end
	}
	return e.mergeWindow(piece[start:], false)
}

// mergeWindow encodes one window of a huge piece, reusing the ids of the previous
// window if it is equal. If w may change later (it points into e.pending), it is
// copied before being kept for that comparison.
func (e *encoder) mergeWindow(w string, volatile bool) bool {
	e.out.windows++
	e.out.windowBytes += len(w)
	if w != e.lastWindow {
		e.out.merged++
		e.lastIDs = e.t.encodePiece(w, e.lastIDs[:0])
		if volatile {
			w = strings.Clone(w)
		}
		e.lastWindow = w
	}
	return e.out.add(e.lastIDs...)
}

// drain merges windows off the front of e.pending while it starts with a huge
// piece that goes on for more than a window past them. It reports whether encoding
// should go on.
func (e *encoder) drain() bool {
	if e.stalled || len(e.pending) <= max(4*e.huge, e.exact) {
		// Nothing to do. Draining only once pending holds four windows, down to
		// about one, keeps the scans of the first piece below twice its length;
		// and a piece of up to e.exact bytes is merged whole.
		return true
	}
	// A view of pending, which does not change until the end of drain.
	text := unsafe.String(unsafe.SliceData(e.pending), len(e.pending))
	// The first piece of text ends at j or later, or at most one rune earlier if
	// it is whitespace running to the end of text (which the pre-tokenizer gives
	// whole at the end of the text, but all but its last rune before a non-space).
	j := e.p.next(text, 0)
	if j <= max(e.huge+2*utf8.UTFMax, e.exact) {
		return true
	}
	cls := e.p.hugeClass(text[:j])
	start := 0
	for j-start > e.huge+2*utf8.UTFMax {
		end := e.p.windowEnd(text, start, e.huge, cls)
		if !e.p.resumable(text, end, cls) {
			// Only the trailing newlines of a punctuation piece are not
			// resumable, and they run to its end: the rest of the piece is
			// merged once it is complete.
			e.stalled = true
			break
		}
		e.out.drained++
		if !e.mergeWindow(text[start:end], true) {
			return false
		}
		start = end
	}
	if start > 0 {
		e.pending = append(e.pending[:0], text[start:]...) // a memmove
	}
	return true
}

// hugeClass returns the class of the runs that make up piece, a piece of at least
// two runes: letters for a letter piece (whose first rune may be another
// character), other for a punctuation piece (which may start with a space and end
// with newlines), space for a whitespace piece.
func (p pretokenizer) hugeClass(piece string) uint8 {
	_, w, c0 := p.at(piece, 0)
	_, _, c1 := p.at(piece, w)
	switch {
	case c1 == clsLetter:
		return clsLetter
	case c0 == clsOther || c1 == clsOther:
		return clsOther
	}
	return clsSpace
}

// resumable reports whether the pre-tokenizer, started at s[i] strictly inside a
// huge piece of class cls (the rune after i is in the piece too, as it always is
// more than 8 bytes before the piece's end), finds the rest of that piece: whether
// the rune at i has class cls. Then a letter piece resumes as letters (its
// optional leading character is behind), a punctuation piece as punctuation (there
// is no letter inside it to make a contraction or a letter piece), and a
// whitespace piece as whitespace of the same run, which ends where the whole run's
// piece ends: at its last newline, or before its last rune. A punctuation piece
// cannot resume among its trailing newlines, which the pre-tokenizer would join to
// whitespace after them.
func (p pretokenizer) resumable(s string, i int, cls uint8) bool {
	if i >= len(s) || !utf8.RuneStart(s[i]) {
		return false
	}
	_, _, c := p.at(s, i)
	return c == cls
}

// windowEnd returns where the window of a huge piece that starts at s[start:]
// ends, given that the piece goes on past start+size: among the positions in
// (start+size-cutSpan, start+size] where the piece is resumable, the one whose
// preceding 8 bytes hash lowest (the last of equals); or, if there is none, the
// last rune start at or before start+size. It reads s only up to start+size plus
// one rune, and size must exceed cutSpan+8.
func (p pretokenizer) windowEnd(s string, start, size int, cls uint8) int {
	hi := start + size
	best, bestHash := -1, uint64(0)
	for i := hi - cutSpan + 1; i <= hi; i++ {
		if !p.resumable(s, i, cls) {
			continue
		}
		if h := load64(s[i-8:i]) * 0x9e3779b97f4a7c15; best < 0 || h <= bestHash {
			best, bestHash = i, h
		}
	}
	if best < 0 {
		for best = hi; !utf8.RuneStart(s[best]); best-- {
		}
	}
	return best
}

// load64 returns the first 8 bytes of s as a little-endian number.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
