package tokenizer

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// This file is a linear-time re-implementation of Pattern as regexp2 (the engine
// tiktoken-go uses) executes it:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)     1 contraction (case folded with unicode.ToLower)
//	[^\r\n\p{L}\p{N}]?\p{L}+         2 letters, with at most one leading non-letter
//	\p{N}                            3 one number character
//	 ?[^\s\p{L}\p{N}]+[\r\n]*        4 punctuation/symbols, optional leading space
//	\s*[\r\n]+                       5 whitespace up to and including its last newline
//	\s+(?!\S)                        6 whitespace except the one before a non-space
//	\s+                              7 any other whitespace
//
// regexp2 tries the alternatives in order at each position and backtracks within
// them; every position matches some alternative, so the pieces tile the text.
// \s is unicode.IsSpace, \p{L} and \p{N} are Go's unicode.L and unicode.N tables,
// exactly the definitions regexp2 uses. The input must be valid UTF-8.

// Rune classes; a rune in none of them is "other" (the [^\s\p{L}\p{N}] class).
const (
	clsOther  uint8 = 0
	clsLetter uint8 = 1
	clsNumber uint8 = 2
	clsSpace  uint8 = 3
)

// bmpClasses holds the class of every rune below 0x10000.
var bmpClasses = sync.OnceValue(func() *[0x10000]uint8 {
	var t [0x10000]uint8
	for r := range rune(0x10000) {
		t[r] = slowClass(r)
	}
	return &t
})

func slowClass(r rune) uint8 {
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

// pretokenizer splits valid UTF-8 text into the pieces Pattern would produce.
type pretokenizer struct {
	bmp *[0x10000]uint8
}

func newPretokenizer() pretokenizer {
	return pretokenizer{bmp: bmpClasses()}
}

func (p pretokenizer) class(r rune) uint8 {
	if r < 0x10000 {
		return p.bmp[r]
	}
	return slowClass(r)
}

// at decodes the rune at s[i] and returns it with its width and class.
func (p pretokenizer) at(s string, i int) (rune, int, uint8) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1, p.bmp[c]
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	return r, w, p.class(r)
}

// next returns the end of the piece that starts at s[i]; i < len(s).
func (p pretokenizer) next(s string, i int) int {
	r, w, cls := p.at(s, i)
	// 1: contractions.
	if r == '\'' {
		if n := contraction(s[i+1:]); n > 0 {
			return i + 1 + n
		}
	}
	// 2: letters, optionally preceded by one character that is not \r, \n, letter or number.
	if cls == clsLetter {
		return p.skip(s, i+w, clsLetter)
	}
	if cls != clsNumber && r != '\r' && r != '\n' && i+w < len(s) {
		if _, w2, c2 := p.at(s, i+w); c2 == clsLetter {
			return p.skip(s, i+w+w2, clsLetter)
		}
	}
	// 3: one number.
	if cls == clsNumber {
		return i + w
	}
	// 4: optional space, then others, then newlines.
	j := i
	if r == ' ' {
		j = i + 1
	}
	if j < len(s) {
		if _, _, c := p.at(s, j); c == clsOther {
			j = p.skip(s, j, clsOther)
			for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
				j++
			}
			return j
		}
	}
	// Here r is whitespace. 5: whitespace up to and including its last newline.
	end, lastNL := i, -1
	for end < len(s) {
		if b := s[end]; b < utf8.RuneSelf { // fast path for ASCII
			if p.bmp[b] != clsSpace {
				break
			}
			if b == '\r' || b == '\n' {
				lastNL = end
			}
			end++
			continue
		}
		_, w, c := p.at(s, end)
		if c != clsSpace {
			break
		}
		end += w
	}
	if lastNL >= 0 {
		return lastNL + 1
	}
	// 6: at the end of the text, all of it; otherwise all but the last whitespace
	// character, if that leaves at least one.
	if end == len(s) {
		return end
	}
	_, lw := utf8.DecodeLastRuneInString(s[:end])
	if end-lw > i {
		return end - lw
	}
	// 7: the single whitespace character before a non-space.
	return end
}

// skip returns the end of the run of class cls that starts at s[i].
func (p pretokenizer) skip(s string, i int, cls uint8) int {
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if p.bmp[c] != cls {
				return i
			}
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if p.class(r) != cls {
			return i
		}
		i += w
	}
	return i
}

// contraction returns the length of the contraction suffix (s, t, re, ve, m, ll, d,
// compared after unicode.ToLower) at the start of s, or 0.
func contraction(s string) int {
	r1, w1 := lowerAt(s, 0)
	switch r1 {
	case 's', 't', 'm', 'd':
		return w1
	case 'r', 'v', 'l':
		want := 'e'
		if r1 == 'l' {
			want = 'l'
		}
		if r2, w2 := lowerAt(s, w1); r2 == want {
			return w1 + w2
		}
	}
	return 0
}

func lowerAt(s string, i int) (rune, int) {
	if i >= len(s) {
		return -1, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		return rune(c), 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	return unicode.ToLower(r), w
}

// safeCut returns the largest i in [from, len(s)) at which s can be cut without
// changing any piece: s[:i] and s[i:] pre-tokenize to the pieces of s. It returns -1
// if there is none. A cut is safe after a number (always a piece of its own), after
// a letter that is followed by a non-letter (a letter run never extends further and
// nothing looks past it), and after \r or \n followed by a non-space (the newline
// ends its piece whatever comes next).
func (p pretokenizer) safeCut(s string, from int) int {
	if from < 1 {
		from = 1
	}
	i := len(s)
	_, w, after := p.lastRune(s[:i])
	i -= w
	for i >= from {
		if b := s[i-1]; b < utf8.RuneSelf && b != '\n' && b != '\r' { // fast path for ASCII
			before := p.bmp[b]
			if before == clsNumber || before == clsLetter && after != clsLetter {
				return i
			}
			after = before
			i--
			continue
		}
		r, w, before := p.lastRune(s[:i])
		switch {
		case before == clsNumber,
			before == clsLetter && after != clsLetter,
			(r == '\n' || r == '\r') && after != clsSpace:
			return i
		}
		after = before
		i -= w
	}
	return -1
}

func (p pretokenizer) lastRune(s string) (rune, int, uint8) {
	if c := s[len(s)-1]; c < utf8.RuneSelf {
		return rune(c), 1, p.bmp[c]
	}
	r, w := utf8.DecodeLastRuneInString(s)
	return r, w, p.class(r)
}
