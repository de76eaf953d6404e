package schemagen

// validUnevaluated checks "unevaluatedProperties" and "unevaluatedItems" of s, which see
// the properties and items evaluated by s and by every subschema that applied successfully
// to the same instance. It runs after the rest of s has validated.
func (vd *validator) validUnevaluated(s *schema, v *value) bool {
	if s.unevalProps != nil && v.kind == kindObject {
		seen := map[string]bool{}
		if !vd.evalProps(s, v, seen, true) {
			for i, key := range v.keys {
				if !seen[key] && !vd.valid(s.unevalProps, v.vals[i]) {
					return false
				}
			}
		}
	}
	if s.unevalItems != nil && v.kind == kindArray {
		seen := map[int]bool{}
		n, all := vd.evalItems(s, v, seen, true)
		if !all {
			for i := n; i < len(v.arr); i++ {
				if !seen[i] && !vd.valid(s.unevalItems, v.arr[i]) {
					return false
				}
			}
		}
	}
	return true
}

// applied returns the in-place subschemas of s that contribute annotations for v: "$ref",
// "allOf", the branches of "anyOf"/"oneOf" that v satisfies, the taken side of "if", and
// the dependent schemas of present properties.
func (vd *validator) applied(s *schema, v *value) []*schema {
	var out []*schema
	if s.ref != nil {
		out = append(out, s.ref)
	}
	out = append(out, s.allOf...)
	for _, list := range [][]*schema{s.anyOf, s.oneOf} {
		for _, sub := range list {
			if vd.valid(sub, v) {
				out = append(out, sub)
			}
		}
	}
	if s.ifS != nil {
		if vd.valid(s.ifS, v) {
			out = append(out, s.ifS)
			if s.thenS != nil {
				out = append(out, s.thenS)
			}
		} else if s.elseS != nil {
			out = append(out, s.elseS)
		}
	}
	if v.kind == kindObject {
		for _, d := range s.depSchemas {
			if _, ok := v.get(d.name); ok {
				out = append(out, d.schema)
			}
		}
	}
	return out
}

// evalProps adds to seen the properties of object v that s evaluates, and reports whether
// s evaluates all of them.
func (vd *validator) evalProps(s *schema, v *value, seen map[string]bool, top bool) bool {
	if !vd.tick() || s.boolean != nil {
		return false
	}
	if s.additional != nil || (!top && s.unevalProps != nil) {
		return true
	}
	for _, key := range v.keys {
		if s.prop(key) != nil {
			seen[key] = true
			continue
		}
		for _, p := range s.patternProps {
			if p.re.MatchString(key) {
				seen[key] = true
				break
			}
		}
	}
	for _, sub := range vd.applied(s, v) {
		if vd.evalProps(sub, v, seen, false) {
			return true
		}
	}
	return false
}

// evalItems adds to seen the items of array v matched by "contains" (2020-12), and returns
// how many leading items s evaluates and whether it evaluates all of them.
func (vd *validator) evalItems(s *schema, v *value, seen map[int]bool, top bool) (int, bool) {
	if !vd.tick() || s.boolean != nil {
		return 0, false
	}
	if s.items != nil || (!top && s.unevalItems != nil) {
		return 0, true
	}
	n := min(len(s.prefix), len(v.arr))
	if s.contains != nil && vd.draft >= draft2020 {
		for i, item := range v.arr {
			if vd.valid(s.contains, item) {
				seen[i] = true
			}
		}
	}
	for _, sub := range vd.applied(s, v) {
		m, all := vd.evalItems(sub, v, seen, false)
		if all {
			return n, true
		}
		n = max(n, m)
	}
	return n, false
}
