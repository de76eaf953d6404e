package schemagen

import (
	"fmt"
	"math/big"
	"strings"
)

// keywords fills s from the schema object v.
func (c *compiler) keywords(s *schema, v *value, loc string) error {
	k := &kw{c: c, obj: v, loc: loc}
	for _, unsupported := range []string{"$dynamicRef", "$recursiveRef"} {
		if _, ok := v.get(unsupported); ok && c.draft >= draft2019 {
			return fmt.Errorf("unsupported schema at %q: %s is not supported", loc, unsupported)
		}
	}
	if rv, ok := v.get("$ref"); ok {
		if rv.kind != kindString {
			return fmt.Errorf("invalid schema at %q: \"$ref\" must be a string", loc)
		}
		target, tloc, err := c.resolve(rv.str)
		if err != nil {
			return fmt.Errorf("invalid schema at %q: %w", loc, err)
		}
		if s.ref, err = c.compile(target, tloc); err != nil {
			return err
		}
		if c.draft < draft2019 {
			return nil // siblings of "$ref" are ignored before 2019-09
		}
	}
	c.typeKeywords(k, s, v)
	c.numberKeywords(k, s)
	c.arrayKeywords(k, s, v)
	c.objectKeywords(k, s, v)
	s.allOf = k.subList("allOf", false)
	s.anyOf = k.subList("anyOf", false)
	s.oneOf = k.subList("oneOf", false)
	s.not = k.sub("not")
	if c.draft >= draft7 {
		if s.ifS = k.sub("if"); s.ifS != nil {
			s.thenS = k.sub("then")
			s.elseS = k.sub("else")
		}
	}
	return k.err
}

func (c *compiler) typeKeywords(k *kw, s *schema, v *value) {
	if tv, ok := v.get("type"); ok {
		names := []*value{tv}
		if tv.kind == kindArray {
			names = tv.arr
		}
		for _, n := range names {
			t, ok := typeNames[n.str]
			if n.kind != kindString || !ok {
				k.fail("type", "must name JSON types")
				break
			}
			s.types |= t
		}
	}
	if ev, ok := v.get("enum"); ok {
		if ev.kind != kindArray {
			k.fail("enum", "must be an array")
		}
		s.enum, s.hasEnum = ev.arr, true
	}
	if cv, ok := v.get("const"); ok && c.draft >= draft6 {
		s.constV = cv
	}
	if fv, ok := v.get("format"); ok {
		if fv.kind != kindString {
			k.fail("format", "must be a string")
		}
		s.format = fv.str
	}
	s.minLength = k.count("minLength")
	s.maxLength = k.count("maxLength")
	if pv, ok := v.get("pattern"); ok {
		if pv.kind != kindString {
			k.fail("pattern", "must be a string")
		} else {
			s.pattern = k.regexp("pattern", pv.str)
		}
	}
	s.defaultV, _ = v.get("default")
	if xv, ok := v.get("examples"); ok && xv.kind == kindArray {
		s.examples = xv.arr
	}
}

func (c *compiler) numberKeywords(k *kw, s *schema) {
	s.minimum = k.number("minimum")
	s.maximum = k.number("maximum")
	for _, b := range []struct {
		key   string
		limit **big.Rat
		excl  **big.Rat
	}{{"exclusiveMinimum", &s.minimum, &s.exclMin}, {"exclusiveMaximum", &s.maximum, &s.exclMax}} {
		ev, ok := k.obj.get(b.key)
		switch {
		case !ok:
		case ev.kind == kindBool: // draft-04 form: modifies minimum/maximum
			if ev.b {
				*b.excl, *b.limit = *b.limit, nil
			}
		default:
			*b.excl = k.number(b.key)
		}
	}
	if s.multipleOf = k.number("multipleOf"); s.multipleOf != nil && s.multipleOf.Sign() <= 0 {
		k.fail("multipleOf", "must be greater than 0")
	}
}

func (c *compiler) arrayKeywords(k *kw, s *schema, v *value) {
	iv, hasItems := v.get("items")
	switch {
	case hasItems && iv.kind == kindArray:
		// The tuple form of draft-04 to 2019-09 (also accepted in 2020-12 documents).
		s.prefix = k.subList("items", true)
		s.items = k.sub("additionalItems")
	case hasItems:
		s.items = k.sub("items")
		if c.draft >= draft2020 {
			s.prefix = k.subList("prefixItems", true)
		}
	case c.draft >= draft2020:
		s.prefix = k.subList("prefixItems", true)
	}
	s.minItems = k.count("minItems")
	s.maxItems = k.count("maxItems")
	if uv, ok := v.get("uniqueItems"); ok {
		if uv.kind != kindBool {
			k.fail("uniqueItems", "must be a boolean")
		}
		s.unique = uv.b
	}
	if c.draft >= draft6 {
		s.contains = k.sub("contains")
	}
	if c.draft >= draft2019 {
		if s.contains != nil {
			s.minContains = k.count("minContains")
			s.maxContains = k.count("maxContains")
		}
		s.unevalItems = k.sub("unevaluatedItems")
	}
}

func (c *compiler) objectKeywords(k *kw, s *schema, v *value) {
	s.props = k.subMap("properties")
	for _, p := range k.subMap("patternProperties") {
		if re := k.regexp("patternProperties", p.name); re != nil {
			s.patternProps = append(s.patternProps, patternSchema{re, p.schema})
		}
	}
	s.additional = k.sub("additionalProperties")
	if c.draft >= draft6 {
		s.propertyNames = k.sub("propertyNames")
	}
	if rv, ok := v.get("required"); ok {
		s.required = k.strings(rv, "required")
	}
	s.minProps = k.count("minProperties")
	s.maxProps = k.count("maxProperties")
	if dv, ok := v.get("dependencies"); ok && dv.kind == kindObject {
		for i, name := range dv.keys {
			if dv.vals[i].kind == kindArray {
				s.depRequired = append(s.depRequired, namedList{name, k.strings(dv.vals[i], "dependencies")})
				continue
			}
			sub, err := c.compile(dv.vals[i], loc(k.loc, "dependencies", name))
			if err != nil && k.err == nil {
				k.err = err
			}
			s.depSchemas = append(s.depSchemas, namedSchema{name, sub})
		}
	} else if ok {
		k.fail("dependencies", "must be an object")
	}
	if c.draft >= draft2019 {
		if dv, ok := v.get("dependentRequired"); ok {
			if dv.kind != kindObject {
				k.fail("dependentRequired", "must be an object of string arrays")
			} else {
				for i, name := range dv.keys {
					s.depRequired = append(s.depRequired, namedList{name, k.strings(dv.vals[i], "dependentRequired")})
				}
			}
		}
		s.depSchemas = append(s.depSchemas, k.subMap("dependentSchemas")...)
		s.unevalProps = k.sub("unevaluatedProperties")
	}
}

// loc joins a location and reference tokens into a JSON pointer.
func loc(base string, tokens ...string) string {
	for _, t := range tokens {
		base += "/" + escapeToken(t)
	}
	return base
}

// escapeToken escapes one JSON pointer reference token.
func escapeToken(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}
