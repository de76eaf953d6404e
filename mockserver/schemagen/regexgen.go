package schemagen

import (
	"regexp/syntax"
	"strings"
	"unicode"
)

// maxFillLen bounds the strings built by regexFill.
const maxFillLen = 2 * maxStringLen

// regexFill builds a string matching the regular expression src. Unbounded repetitions
// (*, +, {n,}) repeat about rep times, which lets callers aim at a minimum length that
// gofakeit's generator (at most 10 repetitions) cannot reach; character classes prefer
// printable ASCII. ok is false when the expression does not parse or the string would be
// too long. The result still has to be checked: assertions such as \b are not honoured.
func (g *gen) regexFill(src string, rep int) (string, bool) {
	re, ok := g.regexps[src]
	if !ok {
		parsed, err := syntax.Parse(src, syntax.Perl)
		if err == nil {
			re = parsed.Simplify()
		}
		if g.regexps == nil {
			g.regexps = map[string]*syntax.Regexp{}
		}
		g.regexps[src] = re
	}
	if re == nil {
		return "", false
	}
	var b strings.Builder
	if !g.fill(&b, re, rep) {
		return "", false
	}
	return b.String(), true
}

func (g *gen) fill(b *strings.Builder, re *syntax.Regexp, rep int) bool {
	if b.Len() > maxFillLen || !g.vd.tick() {
		return false
	}
	switch re.Op {
	case syntax.OpNoMatch:
		return false
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		r, ok := g.classRune(re.Rune)
		if !ok {
			return false
		}
		b.WriteRune(r)
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		b.WriteByte(byte('a' + g.f.IntN(26)))
	case syntax.OpCapture:
		return g.fill(b, re.Sub[0], rep)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := repeatRange(re, rep)
		n := lo
		if hi > lo {
			n += g.f.IntN(hi - lo + 1)
		}
		for i := 0; i < n; i++ {
			if !g.fill(b, re.Sub[0], rep) {
				return false
			}
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !g.fill(b, sub, rep) {
				return false
			}
		}
	case syntax.OpAlternate:
		return g.fill(b, re.Sub[g.f.IntN(len(re.Sub))], rep)
	}
	// Empty matches and assertions (^, $, \b, ...) produce nothing.
	return true
}

// repeatRange returns how many times a repetition may repeat, with unbounded maxima
// replaced by min+rep.
func repeatRange(re *syntax.Regexp, rep int) (lo, hi int) {
	switch re.Op {
	case syntax.OpStar:
		return 0, rep
	case syntax.OpPlus:
		return 1, max(1, rep)
	case syntax.OpQuest:
		return 0, 1
	}
	if re.Max < 0 {
		return re.Min, re.Min + rep
	}
	return re.Min, re.Max
}

// classRune picks a rune from a character class given as range pairs, preferring
// printable ASCII (and letters and digits among those) when the class has any.
func (g *gen) classRune(ranges []rune) (rune, bool) {
	if len(ranges) == 0 {
		return 0, false
	}
	for _, pick := range []func(rune) bool{
		func(r rune) bool { return r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) },
		func(r rune) bool { return r >= 0x20 && r < 0x7f },
	} {
		var cands []rune
		for i := 0; i+1 < len(ranges); i += 2 {
			for r := max(ranges[i], 0); r <= min(ranges[i+1], 0x7f); r++ {
				if pick(r) {
					cands = append(cands, r)
				}
			}
		}
		if len(cands) > 0 {
			return cands[g.f.IntN(len(cands))], true
		}
	}
	// No ASCII member: take a rune from a random range, avoiding surrogates.
	i := 2 * g.f.IntN(len(ranges)/2)
	lo, hi := ranges[i], ranges[i+1]
	r := lo + rune(g.f.IntN(int(min(hi-lo, 1<<16))+1))
	if r >= 0xD800 && r <= 0xDFFF {
		r = 0xE000
		if r > hi || r < lo {
			return 0, false
		}
	}
	return r, true
}
