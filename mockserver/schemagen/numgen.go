package schemagen

import (
	"errors"
	"math"
	"math/big"
)

// defaultSpan is the width of the window used for a number bounded on one side only.
var defaultSpan = big.NewRat(100, 1)

// genNumber returns a number satisfying the numeric keywords of conj; integer restricts it
// to integral values. Values lie in the realistic range for the property name when that
// range meets the bounds, and in a small window near the bounds (or near zero) otherwise.
func (g *gen) genNumber(conj []*schema, hint string, integer bool) (*value, error) {
	b, err := collectNumBounds(conj, integer)
	if err != nil {
		return nil, err
	}
	decimals := 2
	if h, ok := numberHintFor(hint); ok {
		nb := b.narrow(ratFromFloat(h.lo), ratFromFloat(h.hi))
		if !nb.empty() {
			if v, ok := g.pickNumber(nb, h.decimals); ok {
				return v, nil
			}
		}
		decimals = max(h.decimals, 1)
	}
	if v, ok := g.pickNumber(b.window(), decimals); ok {
		return v, nil
	}
	if v, ok := g.pickNumber(b, decimals); ok {
		return v, nil
	}
	return nil, errors.New("no number satisfies the numeric keywords")
}

// window narrows unbounded sides to a default span: [lo, lo+100], [hi-100, hi], or
// [0, 100] (from 1 for integers) when there are no bounds at all.
func (b numBounds) window() numBounds {
	switch {
	case b.lo != nil && b.hi != nil:
		return b
	case b.lo != nil:
		return b.narrow(nil, new(big.Rat).Add(b.lo, defaultSpan))
	case b.hi != nil:
		return b.narrow(new(big.Rat).Sub(b.hi, defaultSpan), nil)
	case b.step != nil && b.step.IsInt():
		return b.narrow(big.NewRat(1, 1), defaultSpan)
	}
	return b.narrow(new(big.Rat), defaultSpan)
}

// pickNumber picks a value within b: a multiple of the step when there is one, otherwise a
// value rounded to the given number of decimals (or the exact midpoint when rounding would
// leave the range).
func (g *gen) pickNumber(b numBounds, decimals int) (*value, bool) {
	if b.step != nil {
		kLo, kHi, ok := b.stepRange()
		if !ok {
			return nil, false
		}
		switch {
		case kLo == nil && kHi == nil:
			kLo, kHi = big.NewInt(1), big.NewInt(5)
		case kLo == nil:
			kLo = new(big.Int).Sub(kHi, big.NewInt(4))
		case kHi == nil:
			kHi = new(big.Int).Add(kLo, big.NewInt(4))
		}
		k := g.randInt(kLo, kHi)
		return ratValue(new(big.Rat).Mul(new(big.Rat).SetInt(k), b.step))
	}
	if b.lo == nil || b.hi == nil || b.empty() {
		return nil, false
	}
	if b.lo.Cmp(b.hi) == 0 {
		return ratValue(b.lo)
	}
	span := new(big.Rat).Sub(b.hi, b.lo)
	x := new(big.Rat).Add(b.lo, new(big.Rat).Mul(span, ratFromFloat(g.f.Float64())))
	for _, cand := range []*big.Rat{roundDown(x, decimals), roundDown(new(big.Rat).Add(x, new(big.Rat).Inv(pow10(decimals))), decimals)} {
		if b.contains(cand) {
			return ratValue(cand)
		}
	}
	mid := new(big.Rat).Add(b.lo, b.hi)
	return ratValue(mid.Quo(mid, big.NewRat(2, 1)))
}

func ratValue(r *big.Rat) (*value, bool) {
	s, ok := ratString(r)
	if !ok {
		return nil, false
	}
	return &value{kind: kindNumber, str: s, num: r}, true
}

func ratFromFloat(x float64) *big.Rat {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return new(big.Rat)
	}
	return new(big.Rat).SetFloat64(x)
}

// randInt returns a uniformly chosen integer in [lo, hi].
func (g *gen) randInt(lo, hi *big.Int) *big.Int {
	span := new(big.Int).Sub(hi, lo)
	span.Add(span, big.NewInt(1))
	if span.IsInt64() && span.Int64() <= math.MaxInt32 {
		return new(big.Int).Add(lo, big.NewInt(int64(g.f.IntN(int(span.Int64())))))
	}
	r := new(big.Int)
	for words := span.BitLen()/64 + 2; words > 0; words-- {
		r.Lsh(r, 64)
		r.Or(r, new(big.Int).SetUint64(g.f.Uint64()))
	}
	return r.Add(lo, r.Mod(r, span))
}
