package schemagen

import (
	"fmt"
	"strconv"
)

// uniqueTries is how many candidates are drawn for an item that must differ from the
// items before it.
const uniqueTries = 6

// arrBounds is the intersection of the array keywords of a conjunction.
type arrBounds struct {
	minItems, maxItems int // maxItems -1 when unbounded
	unique             bool
	prefixLen          int
	contains           []*schema // schemas that some items must match
	need               int       // how many leading items get the contains schemas
}

func collectArrBounds(conj []*schema) (arrBounds, error) {
	b := arrBounds{maxItems: -1}
	lower := func(n int) {
		if b.maxItems < 0 || n < b.maxItems {
			b.maxItems = n
		}
	}
	for _, s := range conj {
		b.minItems = max(b.minItems, s.minItems)
		if s.maxItems >= 0 {
			lower(s.maxItems)
		}
		b.unique = b.unique || s.unique
		b.prefixLen = max(b.prefixLen, len(s.prefix))
		if s.items.isFalse() || (s.items == nil && s.unevalItems.isFalse()) {
			lower(len(s.prefix))
		}
		if s.contains != nil {
			n := s.minContains
			if n < 0 {
				n = 1
			}
			if n > 0 {
				b.contains = append(b.contains, s.contains)
				b.need = max(b.need, n)
			}
		}
	}
	b.minItems = max(b.minItems, b.need)
	switch {
	case b.maxItems >= 0 && b.minItems > b.maxItems:
		return b, fmt.Errorf("minItems %d exceeds maxItems %d", b.minItems, b.maxItems)
	case b.minItems > maxArrayLen:
		return b, fmt.Errorf("minItems %d is larger than the supported %d", b.minItems, maxArrayLen)
	}
	return b, nil
}

// length chooses how many items to generate: the minimum beyond the depth limit, the
// tuple length for prefixItems, and otherwise 1 to the configured count (more when
// minItems asks), never beyond maxItems.
func (g *gen) length(b arrBounds, minimal bool) int {
	n := b.minItems
	switch {
	case minimal:
	case b.prefixLen > 0:
		n = max(n, b.prefixLen)
	default:
		lo := max(n, 1)
		hi := max(g.o.maxItems, lo+2)
		if b.minItems <= 1 {
			hi = max(g.o.maxItems, lo)
		}
		n = lo + g.f.IntN(hi-lo+1)
	}
	if b.maxItems >= 0 {
		n = min(n, b.maxItems)
	}
	return n
}

// itemSchemas returns the schemas the item at index i must satisfy.
func itemSchemas(conj []*schema, i int) []*schema {
	var out []*schema
	for _, s := range conj {
		switch {
		case i < len(s.prefix):
			out = append(out, s.prefix[i])
		case s.items != nil:
			out = append(out, s.items)
		case s.unevalItems != nil:
			out = append(out, s.unevalItems)
		}
	}
	return out
}

// genArray generates an array. Items beyond the minimum are dropped rather than failing
// when they cannot be generated (or, with uniqueItems, cannot be made distinct).
func (g *gen) genArray(conj []*schema, hint string, depth int) (*value, error) {
	b, err := collectArrBounds(conj)
	if err != nil {
		return nil, err
	}
	n := g.length(b, depth >= g.o.maxDepth)
	arr := &value{kind: kindArray}
	for i := 0; i < n; i++ {
		list := itemSchemas(conj, i)
		if i < b.need {
			list = append(list, b.contains...)
		}
		item, err := g.genItem(list, arr.arr, b.unique, hint, depth)
		if err != nil {
			if i >= b.minItems && !g.vd.exhausted {
				break
			}
			return nil, atPath(strconv.Itoa(i), err)
		}
		arr.arr = append(arr.arr, item)
	}
	return arr, nil
}

// genItem generates one item, distinct from the previous ones when unique is set.
func (g *gen) genItem(list []*schema, prev []*value, unique bool, hint string, depth int) (*value, error) {
	for try := 0; ; try++ {
		item, err := g.genValue(list, hint, depth+1)
		if err != nil {
			return nil, err
		}
		if !unique || !containsValue(prev, item) {
			return item, nil
		}
		if try == uniqueTries {
			return nil, fmt.Errorf("could not generate an item distinct from the previous %d", len(prev))
		}
	}
}
