// Package uniprobe lists the probe texts that measure, code point by code point, how
// the reference tokenizer (Hugging Face tokenizers with Qwen's tokenizer.json)
// classes and normalises text. The generator (../unigen) runs them through the
// reference; the tokenizer's tests run them through the Go code and compare.
package uniprobe

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Kind says what a probe measures.
type Kind byte

const (
	// Pre probes go through the reference pre-tokenizer; the answer is where it cuts.
	Pre Kind = 'p'
	// NFC probes go through the reference normaliser; the answer is its output.
	NFC Kind = 'n'
)

// Probe is one text to run through the reference.
type Probe struct {
	Kind Kind
	Rune rune   // the code point it is about
	Text string // the text
}

// Mark1 (U+0334, combining class 1) and Mark230 (U+0301, class 230) are the marks
// the reordering probes put next to a combining mark.
const (
	Mark1   = "\u0334"
	Mark230 = "\u0301"
)

// ClassProbes returns the two pre-tokenizer probes of r: "a" r "a" and "a" r "!".
// The reference cuts them as follows, by the class of r:
//
//	letter  "a r a"            "a r" "!"
//	number  "a" "r" "a"        "a" "r" "!"
//	other   "a" "r a"          "a" "r !"
//	space   "a" "r a"          "a" "r" "!"
func ClassProbes(r rune) [2]string {
	s := string(r)
	return [2]string{"a" + s + "a", "a" + s + "!"}
}

// Skip reports whether r gets no class probes: surrogates (not valid in UTF-8),
// and the space, \r and \n, which the pattern names itself (they are spaces).
func Skip(r rune) bool {
	return r >= 0xd800 && r < 0xe000 || r == ' ' || r == '\r' || r == '\n'
}

// All returns every probe, in the order of Each.
func All() []Probe {
	var out []Probe
	Each(func(p Probe) { out = append(out, p) })
	return out
}

// Each calls yield with every probe, in a fixed order: for each code point, its
// class probes and its normalisation alone; for a combining mark (by Go's tables),
// the two reordering probes U+0301 r and r U+0334; for a code point that Go's
// tables decompose, its decomposition.
func Each(yield func(Probe)) {
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0xd800 && r < 0xe000 {
			continue
		}
		s := string(r)
		if !Skip(r) {
			c := ClassProbes(r)
			yield(Probe{Pre, r, c[0]})
			yield(Probe{Pre, r, c[1]})
		}
		yield(Probe{NFC, r, s})
		if norm.NFD.PropertiesString(s).CCC() != 0 {
			yield(Probe{NFC, r, Mark230 + s})
			yield(Probe{NFC, r, s + Mark1})
		}
		if d := norm.NFD.String(s); d != s {
			yield(Probe{NFC, r, d})
		}
	}
}
