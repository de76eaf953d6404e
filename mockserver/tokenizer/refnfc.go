package tokenizer

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// This file normalises text to NFC exactly as the reference tokenizer's normaliser
// does, which differs from golang.org/x/text/unicode/norm (Unicode 15.0) in two ways:
//
//   - Its tables are older. The 109 code points of refNFCUnknown (unicode_tables.go,
//     generated from the reference's own answers by internal/unigen) have a
//     combining class or a canonical composition in Go's tables but not in the
//     reference's: there they are starters that neither decompose nor compose, so
//     "e U+1AC6 U+0327" stays in that order and U+11935 U+11930 stays two
//     characters.
//   - It does not apply the Stream-Safe Text Format: x/text inserts U+034F after 30
//     consecutive non-starters, the reference reorders and composes the whole run.
//
// nfcRef uses x/text whenever neither applies (a byte scan for the first, a count
// of U+034F in the output for the second), and otherwise nfcSlow, a plain
// implementation of the Unicode normalisation algorithm over x/text's per-rune
// properties with the unknown code points taken out. The tests compare it with the
// reference's answers for every code point (testdata/unicode_ref.txt.gz), and with
// x/text on random text where the two tables agree.

const cgj = "\u034f"

// refUnknown reports whether r is one of refNFCUnknown.
func refUnknown(r rune) bool {
	_, ok := slices.BinarySearch(refNFCUnknown[:], r)
	return ok
}

// suspects lists, ascending, the code points whose presence sends text to
// nfcSlow: refNFCUnknown and the characters the unknown composites decompose to
// (U+11935 and U+11930 compose in Go's tables, not in the reference's).
// suspectLeads marks the first two bytes of their UTF-8 encodings, so that text
// without them is recognised by a byte scan.
var suspects = sync.OnceValues(func() ([]rune, *[1 << 16 / 64]uint64) {
	list := slices.Clone(refNFCUnknown[:])
	for _, r := range refNFCUnknown {
		if d := norm.NFD.String(string(r)); d != string(r) {
			for _, x := range d {
				list = append(list, x)
			}
		}
	}
	slices.Sort(list)
	list = slices.Compact(list)
	var m [1 << 16 / 64]uint64
	var b [utf8.UTFMax]byte
	for _, r := range list {
		utf8.EncodeRune(b[:], r)
		k := uint16(b[0])<<8 | uint16(b[1])
		m[k>>6] |= 1 << (k & 63)
	}
	return list, &m
})

// mayHoldUnknown reports whether valid UTF-8 s holds one of the suspects.
func mayHoldUnknown(s string) bool {
	list, m := suspects()
	for i := 0; i+1 < len(s); i++ {
		if s[i] < 0xc0 {
			continue
		}
		k := uint16(s[i])<<8 | uint16(s[i+1])
		if m[k>>6]&(1<<(k&63)) == 0 {
			continue
		}
		r, _ := utf8.DecodeRuneInString(s[i:])
		if _, ok := slices.BinarySearch(list, r); ok {
			return true
		}
	}
	return false
}

// nfcRef returns valid UTF-8 s in the reference normaliser's NFC.
func nfcRef(s string) string {
	if !mayHoldUnknown(s) {
		out := norm.NFC.String(s)
		if !strings.Contains(out, cgj) || strings.Count(out, cgj) == strings.Count(s, cgj) {
			return out
		}
	}
	return nfcSlow(s)
}

// cchar is a character with its canonical combining class.
type cchar struct {
	r   rune
	ccc uint8
}

// props returns the NFD properties of r, or nil properties for an unknown r.
func props(r rune) norm.Properties {
	var b [utf8.UTFMax]byte
	n := utf8.EncodeRune(b[:], r)
	return norm.NFD.Properties(b[:n])
}

// nfcSlow normalises s to NFC with the reference's tables: full canonical
// decomposition, canonical ordering of every run of non-starters (however long),
// then canonical composition.
func nfcSlow(s string) string {
	buf := make([]cchar, 0, len(s))
	for _, r := range s {
		if r < utf8.RuneSelf || refUnknown(r) {
			buf = append(buf, cchar{r, 0})
			continue
		}
		p := props(r)
		d := p.Decomposition()
		if d == nil {
			buf = append(buf, cchar{r, p.CCC()})
			continue
		}
		for _, x := range string(d) {
			buf = append(buf, cchar{x, props(x).CCC()})
		}
	}
	for i := 0; i < len(buf); {
		if buf[i].ccc == 0 {
			i++
			continue
		}
		j := i + 1
		for j < len(buf) && buf[j].ccc != 0 {
			j++
		}
		slices.SortStableFunc(buf[i:j], func(a, b cchar) int { return int(a.ccc) - int(b.ccc) })
		i = j
	}
	out := buf[:0]
	starter := -1
	for _, c := range buf {
		if starter >= 0 {
			last := out[len(out)-1]
			if len(out)-1 == starter || last.ccc != 0 && last.ccc < c.ccc {
				if p, ok := composePair(out[starter].r, c.r); ok {
					out[starter].r = p
					continue
				}
			}
		}
		if c.ccc == 0 {
			starter = len(out)
		}
		out = append(out, c)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, c := range out {
		b.WriteRune(c.r)
	}
	return b.String()
}

// composePair returns the primary composite of a and b in the reference's tables.
// It is called only where the composition algorithm tries a pair: a is the last
// starter, possibly composed already, and b follows it unblocked, after canonical
// ordering. There x/text's NFC of "a b" is one character exactly when a and b
// compose to it.
func composePair(a, b rune) (rune, bool) {
	if a < utf8.RuneSelf && b < utf8.RuneSelf || refUnknown(a) || refUnknown(b) {
		return 0, false
	}
	var buf [2 * utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], a)
	n += utf8.EncodeRune(buf[n:], b)
	if norm.NFC.PropertiesString(string(buf[utf8.RuneLen(a):n])).BoundaryBefore() {
		return 0, false // b never composes with what precedes it
	}
	out := norm.NFC.Append(buf[n:n:n], buf[:n]...)
	p, w := utf8.DecodeRune(out)
	if w != len(out) || refUnknown(p) {
		return 0, false
	}
	return p, true
}
