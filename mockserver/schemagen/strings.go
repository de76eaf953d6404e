package schemagen

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// patternTries is how many candidates are drawn for a pattern before giving up.
const patternTries = 16

// strBounds is the intersection of the string keywords of a conjunction.
type strBounds struct {
	minLen, maxLen int // maxLen -1 when unbounded
	patterns       []*regexp.Regexp
	format         string
}

func collectStrBounds(conj []*schema) (strBounds, error) {
	b := strBounds{maxLen: -1}
	for _, s := range conj {
		b.minLen = max(b.minLen, s.minLength)
		if s.maxLength >= 0 && (b.maxLen < 0 || s.maxLength < b.maxLen) {
			b.maxLen = s.maxLength
		}
		if s.pattern != nil {
			b.patterns = append(b.patterns, s.pattern)
		}
		if s.format != "" && b.format == "" {
			b.format = s.format
		}
	}
	switch {
	case b.maxLen >= 0 && b.minLen > b.maxLen:
		return b, fmt.Errorf("minLength %d exceeds maxLength %d", b.minLen, b.maxLen)
	case b.minLen > maxStringLen:
		return b, fmt.Errorf("minLength %d is larger than the supported %d", b.minLen, maxStringLen)
	}
	return b, nil
}

// genString returns a string for conj. In order of preference: a realistic value of the
// format, a realistic value for the property name, a match of the pattern(s) (padded when
// too short and the pattern is unanchored), a short phrase fitted to the length limits.
// Each candidate is checked against every schema of conj.
func (g *gen) genString(conj []*schema, hint string) (*value, error) {
	b, err := collectStrBounds(conj)
	if err != nil {
		return nil, err
	}
	accept := func(s string) (*value, bool) {
		if !g.spend(len(s)) {
			return nil, false
		}
		v := stringValue(strings.ToValidUTF8(s, "\uFFFD"))
		return v, g.validAll(conj, v)
	}
	if b.format != "" {
		for i := 0; i < 3; i++ {
			s, known := g.formatValue(b.format)
			if !known {
				break
			}
			if v, ok := accept(s); ok {
				return v, nil
			}
		}
	}
	if h := stringHint(hint); h != nil {
		for i := 0; i < 3; i++ {
			if v, ok := accept(h(g)); ok {
				return v, nil
			}
		}
	}
	if len(b.patterns) > 0 {
		for i := 0; i < patternTries; i++ {
			s, ok := g.patternString(b.patterns[i%len(b.patterns)], b, i)
			if !ok {
				continue
			}
			for _, cand := range g.padded(s, b) {
				if v, ok := accept(cand); ok {
					return v, nil
				}
			}
			if g.vd.exhausted {
				return nil, errBudget
			}
		}
		return nil, fmt.Errorf("no generated string matched pattern %q within the other limits", b.patterns[0].String())
	}
	for i := 0; i < 3; i++ {
		if v, ok := accept(g.fitLength(fakePhrase(g.f), b.minLen, b.maxLen)); ok {
			return v, nil
		}
		if g.vd.exhausted {
			return nil, errBudget
		}
	}
	if b.format != "" {
		return nil, fmt.Errorf("no %q value satisfies the string limits", b.format)
	}
	return nil, fmt.Errorf("no string satisfies the schema")
}

// patternString draws a candidate for re: gofakeit's generator on even tries, this
// package's length-aware generator on odd ones (and for long patterns).
func (g *gen) patternString(re *regexp.Regexp, b strBounds, try int) (string, bool) {
	src := re.String()
	if try%2 == 0 && len(src) <= 200 {
		out := g.f.Regex(src)
		// On overlong output gofakeit recovers and returns the Faker printed with %v,
		// which holds a pointer and would make the result depend on memory layout.
		if strings.HasPrefix(out, "&{") && out == fmt.Sprint(g.f) {
			return "", false
		}
		return out, true
	}
	rep := []int{3, 1, 6, b.minLen, b.minLen / 2, b.maxLen, 0, 12}[(try/2)%8]
	return g.regexFill(src, max(rep, 0))
}

// padded returns s and, when s is shorter than minLength, s with filler appended and
// prepended: an unanchored pattern still matches those.
func (g *gen) padded(s string, b strBounds) []string {
	n := utf8.RuneCountInString(s)
	if n >= b.minLen {
		return []string{s}
	}
	filler := g.fitLength(asciiLower(g.f.Noun()), b.minLen-n, b.minLen-n)
	return []string{s, s + filler, filler + s}
}

// fitLength pads s with words or cuts it (at a word boundary when possible) so that its
// length in code points lies within [minLen, maxLen].
func (g *gen) fitLength(s string, minLen, maxLen int) string {
	n := utf8.RuneCountInString(s)
	if n < minLen {
		var sb strings.Builder
		sb.Grow(len(s) + minLen - n + 16)
		sb.WriteString(s)
		for n < minLen {
			w := strings.ToLower(g.f.Noun())
			if w == "" {
				w = "item"
			}
			sb.WriteByte(' ')
			sb.WriteString(w)
			n += 1 + utf8.RuneCountInString(w)
		}
		s = sb.String()
	}
	if maxLen < 0 || n <= maxLen {
		return s
	}
	r := []rune(s)[:maxLen]
	cut := strings.TrimRight(string(r), " ")
	if i := strings.LastIndexByte(cut, ' '); i > 0 && utf8.RuneCountInString(cut[:i]) >= minLen {
		cut = cut[:i]
	}
	for n := utf8.RuneCountInString(cut); n < minLen; n++ {
		cut += "x"
	}
	return cut
}
