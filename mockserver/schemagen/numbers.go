package schemagen

import (
	"errors"
	"math/big"
	"strings"
)

// maxStepBits bounds the size of a combined multipleOf, to keep arithmetic cheap.
const maxStepBits = 4096

// numBounds is the intersection of the numeric keywords of a conjunction of schemas.
type numBounds struct {
	lo, hi         *big.Rat // nil when unbounded
	loExcl, hiExcl bool
	step           *big.Rat // least common multiple of every multipleOf; nil when none
}

// collectNumBounds intersects the numeric keywords of conj; integer adds a step of 1.
func collectNumBounds(conj []*schema, integer bool) (numBounds, error) {
	var b numBounds
	for _, s := range conj {
		b.raiseLo(s.minimum, false)
		b.raiseLo(s.exclMin, true)
		b.lowerHi(s.maximum, false)
		b.lowerHi(s.exclMax, true)
		if s.multipleOf != nil {
			b.step = lcmRat(b.step, s.multipleOf)
		}
	}
	if integer {
		b.step = lcmRat(b.step, big.NewRat(1, 1))
	}
	if b.step != nil && (b.step.Num().BitLen() > maxStepBits || b.step.Denom().BitLen() > maxStepBits) {
		return b, errors.New("multipleOf values are too large to combine")
	}
	if b.lo != nil && b.hi != nil {
		c := b.lo.Cmp(b.hi)
		if c > 0 || (c == 0 && (b.loExcl || b.hiExcl)) {
			return b, errors.New("numeric bounds leave no value")
		}
	}
	return b, nil
}

func (b *numBounds) raiseLo(r *big.Rat, excl bool) {
	if r == nil {
		return
	}
	if b.lo == nil || r.Cmp(b.lo) > 0 {
		b.lo, b.loExcl = r, excl
	} else if r.Cmp(b.lo) == 0 && excl {
		b.loExcl = true
	}
}

func (b *numBounds) lowerHi(r *big.Rat, excl bool) {
	if r == nil {
		return
	}
	if b.hi == nil || r.Cmp(b.hi) < 0 {
		b.hi, b.hiExcl = r, excl
	} else if r.Cmp(b.hi) == 0 && excl {
		b.hiExcl = true
	}
}

// lcmRat returns the least common multiple of two positive rationals (a may be nil):
// lcm(p/q, r/s) = lcm(p, r) / gcd(q, s) for fractions in lowest terms.
func lcmRat(a, b *big.Rat) *big.Rat {
	if a == nil {
		return new(big.Rat).Set(b)
	}
	g := new(big.Int).GCD(nil, nil, a.Num(), b.Num())
	num := new(big.Int).Mul(a.Num(), b.Num())
	num.Quo(num, g)
	den := new(big.Int).GCD(nil, nil, a.Denom(), b.Denom())
	return new(big.Rat).SetFrac(num, den)
}

// contains reports whether r satisfies the bounds (ignoring the step).
func (b numBounds) contains(r *big.Rat) bool {
	if b.lo != nil {
		if c := r.Cmp(b.lo); c < 0 || (c == 0 && b.loExcl) {
			return false
		}
	}
	if b.hi != nil {
		if c := r.Cmp(b.hi); c > 0 || (c == 0 && b.hiExcl) {
			return false
		}
	}
	return true
}

// narrow intersects the bounds with the inclusive range [lo, hi].
func (b numBounds) narrow(lo, hi *big.Rat) numBounds {
	b.raiseLo(lo, false)
	b.lowerHi(hi, false)
	return b
}

// empty reports whether no number satisfies the bounds (ignoring the step).
func (b numBounds) empty() bool {
	if b.lo == nil || b.hi == nil {
		return false
	}
	c := b.lo.Cmp(b.hi)
	return c > 0 || (c == 0 && (b.loExcl || b.hiExcl))
}

// stepRange returns the range of k for which k*step satisfies the bounds (nil ends are
// unbounded); ok is false when it is empty.
func (b numBounds) stepRange() (kLo, kHi *big.Int, ok bool) {
	if b.lo != nil {
		q := new(big.Rat).Quo(b.lo, b.step)
		kLo = ceilRat(q)
		if b.loExcl && q.IsInt() {
			kLo.Add(kLo, big.NewInt(1))
		}
	}
	if b.hi != nil {
		q := new(big.Rat).Quo(b.hi, b.step)
		kHi = floorRat(q)
		if b.hiExcl && q.IsInt() {
			kHi.Sub(kHi, big.NewInt(1))
		}
	}
	return kLo, kHi, kLo == nil || kHi == nil || kLo.Cmp(kHi) <= 0
}

func floorRat(r *big.Rat) *big.Int {
	q, m := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int))
	_ = m // DivMod rounds towards negative infinity for a positive divisor
	return q
}

func ceilRat(r *big.Rat) *big.Int {
	q := floorRat(r)
	if !r.IsInt() {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// ratString formats a rational with a finite decimal expansion as a JSON number. ok is false
// for other rationals (never produced here) and for results longer than maxNumberLen.
func ratString(r *big.Rat) (string, bool) {
	if r.IsInt() {
		s := r.Num().String()
		return s, len(s) <= maxNumberLen
	}
	den := new(big.Int).Set(r.Denom())
	digits := 0
	two, five, ten := big.NewInt(2), big.NewInt(5), big.NewInt(10)
	rem := new(big.Int)
	for den.Cmp(big.NewInt(1)) != 0 {
		switch {
		case new(big.Int).Rem(den, ten).Sign() == 0:
			den.Quo(den, ten)
		case rem.Rem(den, two).Sign() == 0:
			den.Quo(den, two)
		case rem.Rem(den, five).Sign() == 0:
			den.Quo(den, five)
		default:
			return "", false
		}
		digits++
		if digits > maxNumberLen {
			return "", false
		}
	}
	s := r.FloatString(digits)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s, len(s) <= maxNumberLen
}

// pow10 returns 10^d as a rational.
func pow10(d int) *big.Rat {
	return new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d)), nil))
}

// roundDown rounds r down to d decimals.
func roundDown(r *big.Rat, d int) *big.Rat {
	scale := pow10(d)
	k := floorRat(new(big.Rat).Mul(r, scale))
	return new(big.Rat).Quo(new(big.Rat).SetInt(k), scale)
}
