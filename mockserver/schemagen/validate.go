package schemagen

import (
	"math/big"
	"unicode/utf8"
)

// validator checks values against compiled schemas. The generator uses it to accept or
// retry candidates, which is what keeps every returned value valid: keywords that are only
// handled on a best-effort basis while generating (not, oneOf exclusivity, if/then/else,
// uniqueItems, ...) are still enforced here.
//
// Every check costs one step; once the budget is spent the validator is exhausted, its
// answers are meaningless and the generation that uses it fails.
type validator struct {
	draft        int
	assertFormat bool
	steps        int
	maxSteps     int
	exhausted    bool
}

func (vd *validator) tick() bool {
	vd.steps++
	if vd.steps > vd.maxSteps {
		vd.exhausted = true
	}
	return !vd.exhausted
}

// valid reports whether v validates against s.
func (vd *validator) valid(s *schema, v *value) bool {
	if !vd.tick() {
		return false
	}
	if s.boolean != nil {
		return *s.boolean
	}
	if s.types != 0 && s.types&typeOf(v) == 0 {
		return false
	}
	if s.constV != nil && !equalValues(v, s.constV) {
		return false
	}
	if s.hasEnum && !containsValue(s.enum, v) {
		return false
	}
	if s.ref != nil && !vd.valid(s.ref, v) {
		return false
	}
	var ok bool
	switch v.kind {
	case kindNumber:
		ok = validNumber(s, v.rat())
	case kindString:
		ok = vd.validString(s, v.str)
	case kindArray:
		ok = vd.validArray(s, v)
	case kindObject:
		ok = vd.validObject(s, v)
	default:
		ok = true
	}
	return ok && vd.validApplicators(s, v) && vd.validUnevaluated(s, v)
}

func containsValue(list []*value, v *value) bool {
	for _, item := range list {
		if equalValues(item, v) {
			return true
		}
	}
	return false
}

func (vd *validator) validApplicators(s *schema, v *value) bool {
	for _, sub := range s.allOf {
		if !vd.valid(sub, v) {
			return false
		}
	}
	if len(s.anyOf) > 0 {
		matched := false
		for _, sub := range s.anyOf {
			if vd.valid(sub, v) {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	if len(s.oneOf) > 0 {
		n := 0
		for _, sub := range s.oneOf {
			if vd.valid(sub, v) {
				n++
			}
		}
		if n != 1 {
			return false
		}
	}
	if s.not != nil && vd.valid(s.not, v) {
		return false
	}
	if s.ifS != nil {
		if vd.valid(s.ifS, v) {
			if s.thenS != nil && !vd.valid(s.thenS, v) {
				return false
			}
		} else if s.elseS != nil && !vd.valid(s.elseS, v) {
			return false
		}
	}
	if v.kind == kindObject {
		for _, d := range s.depSchemas {
			if _, present := v.get(d.name); present && !vd.valid(d.schema, v) {
				return false
			}
		}
	}
	return true
}

// validNumber checks the numeric keywords.
func validNumber(s *schema, n *big.Rat) bool {
	switch {
	case s.minimum != nil && n.Cmp(s.minimum) < 0,
		s.maximum != nil && n.Cmp(s.maximum) > 0,
		s.exclMin != nil && n.Cmp(s.exclMin) <= 0,
		s.exclMax != nil && n.Cmp(s.exclMax) >= 0:
		return false
	case s.multipleOf != nil:
		return new(big.Rat).Quo(n, s.multipleOf).IsInt()
	}
	return true
}

// validString checks the string keywords; lengths count code points.
func (vd *validator) validString(s *schema, str string) bool {
	if s.minLength >= 0 || s.maxLength >= 0 {
		n := utf8.RuneCountInString(str)
		if n < s.minLength || (s.maxLength >= 0 && n > s.maxLength) {
			return false
		}
	}
	if s.pattern != nil && !s.pattern.MatchString(str) {
		return false
	}
	if vd.assertFormat && s.format != "" {
		if check, known := formatCheckers[s.format]; known && !check(str) {
			return false
		}
	}
	return true
}

func (vd *validator) validArray(s *schema, v *value) bool {
	arr := v.arr
	if len(arr) < s.minItems || (s.maxItems >= 0 && len(arr) > s.maxItems) {
		return false
	}
	if s.unique && hasDuplicates(arr) {
		return false
	}
	for i, item := range arr {
		sub := s.items
		if i < len(s.prefix) {
			sub = s.prefix[i]
		}
		if sub != nil && !vd.valid(sub, item) {
			return false
		}
	}
	if s.contains != nil {
		n := 0
		for _, item := range arr {
			if vd.valid(s.contains, item) {
				n++
			}
		}
		if (s.minContains < 0 && n == 0) || n < s.minContains || (s.maxContains >= 0 && n > s.maxContains) {
			return false
		}
	}
	return true
}

func hasDuplicates(arr []*value) bool {
	for i := range arr {
		for j := i + 1; j < len(arr); j++ {
			if equalValues(arr[i], arr[j]) {
				return true
			}
		}
	}
	return false
}

func (vd *validator) validObject(s *schema, v *value) bool {
	n := len(v.keys)
	if n < s.minProps || (s.maxProps >= 0 && n > s.maxProps) {
		return false
	}
	for _, r := range s.required {
		if _, ok := v.get(r); !ok {
			return false
		}
	}
	for _, d := range s.depRequired {
		if _, ok := v.get(d.name); ok {
			for _, r := range d.list {
				if _, ok := v.get(r); !ok {
					return false
				}
			}
		}
	}
	for i, key := range v.keys {
		evaluated := false
		if sub := s.prop(key); sub != nil {
			evaluated = true
			if !vd.valid(sub, v.vals[i]) {
				return false
			}
		}
		for _, p := range s.patternProps {
			if p.re.MatchString(key) {
				evaluated = true
				if !vd.valid(p.schema, v.vals[i]) {
					return false
				}
			}
		}
		if !evaluated && s.additional != nil && !vd.valid(s.additional, v.vals[i]) {
			return false
		}
		if s.propertyNames != nil && !vd.valid(s.propertyNames, stringValue(key)) {
			return false
		}
	}
	return true
}
