package schemagen

import (
	"errors"
	"fmt"
)

// genKind is the JSON type chosen for a generated value; numbers are integral or not.
type genKind uint8

const (
	genString genKind = iota
	genInteger
	genNumber
	genBool
	genNull
	genObject
	genArray
)

// exampleProb is the chance of offering a schema's "default" or "examples" as the value.
const exampleProb = 0.3

// genConj generates one candidate for a flattened conjunction of schemas. attempt rotates
// through the allowed types after the first (weighted random) choice fails.
func (g *gen) genConj(conj []*schema, hint string, depth, attempt int) (*value, error) {
	for _, s := range conj {
		if s.isFalse() {
			return nil, fmt.Errorf("schema at %q allows no value", s.loc)
		}
	}
	if v, found, err := g.pickListed(conj); found {
		return v, err
	}
	if attempt == 0 {
		if v := g.pickExample(conj); v != nil {
			return v, nil
		}
	}
	kinds, err := g.kindOrder(conj, hint)
	if err != nil {
		return nil, err
	}
	switch kinds[attempt%len(kinds)] {
	case genNull:
		return nullValue(), nil
	case genBool:
		return boolValue(g.f.Bool()), nil
	case genInteger:
		return g.genNumber(conj, hint, true)
	case genNumber:
		return g.genNumber(conj, hint, false)
	case genObject:
		return g.genObject(conj, hint, depth)
	case genArray:
		return g.genArray(conj, hint, depth)
	default:
		return g.genString(conj, hint)
	}
}

// pickListed handles "const" and "enum": when any schema of conj lists its values, the
// result is one of the listed values of the first such schema that every schema accepts.
func (g *gen) pickListed(conj []*schema) (v *value, found bool, err error) {
	for _, s := range conj {
		var list []*value
		switch {
		case s.constV != nil:
			list = []*value{s.constV}
		case s.hasEnum:
			list = s.enum
		default:
			continue
		}
		var ok []*value
		for _, item := range list {
			if g.validAll(conj, item) {
				ok = append(ok, item)
			}
		}
		if len(ok) == 0 {
			return nil, true, fmt.Errorf("no value listed by enum/const at %q satisfies the schema", s.loc)
		}
		return ok[g.f.IntN(len(ok))], true, nil
	}
	return nil, false, nil
}

// pickExample offers, with probability exampleProb, one of the "default" and "examples"
// values of conj, if it is valid.
func (g *gen) pickExample(conj []*schema) *value {
	var list []*value
	for _, s := range conj {
		if s.defaultV != nil {
			list = append(list, s.defaultV)
		}
		list = append(list, s.examples...)
	}
	if len(list) == 0 || g.f.Float64() >= exampleProb {
		return nil
	}
	v := list[g.f.IntN(len(list))]
	if g.validAll(conj, v) {
		return v
	}
	return nil
}

// kindOrder returns the types to try, best first. With explicit "type" keywords the
// allowed types are their intersection, the first chosen at random (null rarely); without,
// the type is inferred from the keywords present and the property name, a string if
// nothing hints otherwise, and the remaining types follow as fallbacks.
func (g *gen) kindOrder(conj []*schema, hint string) ([]genKind, error) {
	allowed, explicit := typeAny, false
	for _, s := range conj {
		if s.types != 0 {
			allowed &= s.types
			explicit = true
		}
	}
	if allowed == 0 {
		return nil, errors.New("the schemas allow no common type")
	}
	var kinds []genKind
	add := func(k genKind) {
		for _, x := range kinds {
			if x == k {
				return
			}
		}
		kinds = append(kinds, k)
	}
	if !explicit {
		add(inferKind(conj, hint))
		for _, k := range []genKind{genString, genInteger, genNumber, genBool, genObject, genArray, genNull} {
			add(k)
		}
		return kinds, nil
	}
	for _, k := range []genKind{genObject, genArray, genString, genNumber, genBool, genNull} {
		switch {
		case k == genObject && allowed&typeObject != 0,
			k == genArray && allowed&typeArray != 0,
			k == genString && allowed&typeString != 0,
			k == genBool && allowed&typeBool != 0,
			k == genNull && allowed&typeNull != 0:
			add(k)
		case k == genNumber && allowed&typeFrac != 0:
			add(genNumber)
		case k == genNumber && allowed&typeInt != 0:
			add(genInteger)
		}
	}
	if len(kinds) > 1 {
		weights := make([]int, len(kinds))
		total := 0
		for i, k := range kinds {
			weights[i] = 6
			if k == genNull {
				weights[i] = 1
			}
			total += weights[i]
		}
		r := g.f.IntN(total)
		for i, w := range weights {
			if r < w {
				kinds[0], kinds[i] = kinds[i], kinds[0]
				break
			}
			r -= w
		}
	}
	return kinds, nil
}

// inferKind guesses the type of a schema without "type" from its keywords and name.
func inferKind(conj []*schema, hint string) genKind {
	var obj, arr, num, str bool
	intStep := false
	for _, s := range conj {
		obj = obj || s.hasObjectKeywords()
		arr = arr || s.hasArrayKeywords()
		num = num || s.hasNumberKeywords()
		str = str || s.hasStringKeywords()
		if s.multipleOf != nil && s.multipleOf.IsInt() {
			intStep = true
		}
	}
	switch {
	case obj:
		return genObject
	case arr:
		return genArray
	case str:
		return genString
	case num && intStep:
		return genInteger
	case num:
		return genNumber
	}
	if stringHint(hint) == nil {
		if h, ok := numberHintFor(hint); ok {
			if h.decimals == 0 {
				return genInteger
			}
			return genNumber
		}
	}
	return genString
}
