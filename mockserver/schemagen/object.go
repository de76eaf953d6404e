package schemagen

import (
	"fmt"
	"slices"
	"strings"
)

// objPlan is the set of keys chosen for an object, in output order: properties in the
// order the schemas declare them, then other keys in the order they were added.
type objPlan struct {
	conj     []*schema
	declared []string // every name in "properties", in document order
	chosen   map[string]bool
	others   []string // chosen keys that no "properties" declares
	fixed    map[string]bool
	banned   map[string]bool // dropped for an unsatisfiable dependency; never re-added
}

func newObjPlan(conj []*schema) *objPlan {
	p := &objPlan{conj: conj, chosen: map[string]bool{}, fixed: map[string]bool{}, banned: map[string]bool{}}
	for _, s := range conj {
		for _, prop := range s.props {
			if !slices.Contains(p.declared, prop.name) {
				p.declared = append(p.declared, prop.name)
			}
		}
	}
	return p
}

// add marks key as chosen; fixed keys (required ones) are never dropped.
func (p *objPlan) add(key string, fixed bool) {
	if !p.chosen[key] {
		p.chosen[key] = true
		if !slices.Contains(p.declared, key) {
			p.others = append(p.others, key)
		}
	}
	p.fixed[key] = p.fixed[key] || fixed
}

func (p *objPlan) remove(key string) {
	delete(p.chosen, key)
	p.others = slices.DeleteFunc(p.others, func(k string) bool { return k == key })
}

// keys returns the chosen keys in output order.
func (p *objPlan) keys() []string {
	var out []string
	for _, k := range p.declared {
		if p.chosen[k] {
			out = append(out, k)
		}
	}
	return append(out, p.others...)
}

// allowed reports whether every schema of the conjunction accepts a property named key
// (additionalProperties false, unevaluatedProperties false, propertyNames).
func (g *gen) allowed(p *objPlan, key string) bool {
	for _, s := range p.conj {
		if s.propertyNames != nil && !g.vd.valid(s.propertyNames, stringValue(key)) {
			return false
		}
		if s.prop(key) != nil || matchesPattern(s, key) {
			continue
		}
		if s.additional.isFalse() || (s.unevalProps.isFalse() && !slices.Contains(p.declared, key)) {
			return false
		}
	}
	return true
}

func matchesPattern(s *schema, key string) bool {
	for _, pp := range s.patternProps {
		if pp.re.MatchString(key) {
			return true
		}
	}
	return false
}

// valueSchemas returns the schemas the value of key must satisfy.
func valueSchemas(p *objPlan, key string) []*schema {
	var out []*schema
	for _, s := range p.conj {
		matched := false
		if sub := s.prop(key); sub != nil {
			out, matched = append(out, sub), true
		}
		for _, pp := range s.patternProps {
			if pp.re.MatchString(key) {
				out, matched = append(out, pp.schema), true
			}
		}
		switch {
		case matched:
		case s.additional != nil:
			out = append(out, s.additional)
		case s.unevalProps != nil && !slices.Contains(p.declared, key):
			out = append(out, s.unevalProps)
		}
	}
	return out
}

// genObject generates an object: every required property, each optional declared property
// with the configured probability (none beyond the depth limit), the dependencies of the
// chosen ones, and as few extra keys as minProperties needs. Dependent schemas of chosen
// properties join the conjunction and the plan is redone.
func (g *gen) genObject(conj []*schema, hint string, depth int) (*value, error) {
	var p *objPlan
	for round := 0; ; round++ {
		var err error
		if p, err = g.planObject(conj, depth >= g.o.maxDepth); err != nil {
			return nil, err
		}
		var extra []*schema
		for _, s := range conj {
			for _, d := range s.depSchemas {
				if p.chosen[d.name] && !slices.Contains(conj, d.schema) {
					extra = append(extra, d.schema)
				}
			}
		}
		if len(extra) == 0 || round == 3 {
			break
		}
		for _, s := range g.flatten(extra) {
			if !slices.Contains(conj, s) {
				conj = append(conj, s)
			}
		}
	}
	obj := &value{kind: kindObject}
	for _, key := range p.keys() {
		v, err := g.genValue(valueSchemas(p, key), key, depth+1)
		if err != nil {
			return nil, atPath(key, err)
		}
		obj.keys = append(obj.keys, key)
		obj.vals = append(obj.vals, v)
	}
	return obj, nil
}

// planObject chooses the keys of an object.
func (g *gen) planObject(conj []*schema, minimal bool) (*objPlan, error) {
	p := newObjPlan(conj)
	minP, maxP := 0, -1
	for _, s := range conj {
		for _, r := range s.required {
			if !g.allowed(p, r) {
				return nil, fmt.Errorf("required property %q is not allowed by the schema", r)
			}
			p.add(r, true)
		}
		minP = max(minP, s.minProps)
		if s.maxProps >= 0 && (maxP < 0 || s.maxProps < maxP) {
			maxP = s.maxProps
		}
	}
	if !minimal {
		for _, k := range p.declared {
			if !p.chosen[k] && g.f.Float64() < g.o.optionalProb && g.allowed(p, k) {
				p.add(k, false)
			}
		}
	}
	if err := g.addDependencies(p); err != nil {
		return nil, err
	}
	if maxP >= 0 {
		keys := p.keys()
		for i := len(keys) - 1; i >= 0 && len(p.chosen) > maxP; i-- {
			if !p.fixed[keys[i]] {
				p.remove(keys[i])
			}
		}
		if len(p.chosen) > maxP {
			return nil, fmt.Errorf("the required properties exceed maxProperties %d", maxP)
		}
	}
	for _, k := range p.declared {
		if len(p.chosen) >= minP {
			break
		}
		if !p.chosen[k] && !p.banned[k] && g.allowed(p, k) {
			p.add(k, false)
		}
	}
	for tries := 0; len(p.chosen) < minP; tries++ {
		if tries > 4*minP+8 || minP > maxArrayLen {
			return nil, fmt.Errorf("cannot find %d allowed property names", minP)
		}
		if k := g.extraKey(conj, tries); k != "" && !p.chosen[k] && !p.banned[k] && g.allowed(p, k) {
			p.add(k, false)
		}
	}
	return p, g.addDependencies(p)
}

// addDependencies adds the properties that dependentRequired (or the array form of
// dependencies) asks for; an optional key whose dependencies are not allowed is dropped.
func (g *gen) addDependencies(p *objPlan) error {
	for changed := true; changed; {
		changed = false
		for _, s := range p.conj {
			for _, d := range s.depRequired {
				if !p.chosen[d.name] {
					continue
				}
				for _, r := range d.list {
					switch {
					case p.chosen[r]:
						if p.fixed[d.name] && !p.fixed[r] {
							p.fixed[r] = true
							changed = true
						}
					case !p.banned[r] && g.allowed(p, r):
						p.add(r, p.fixed[d.name])
						changed = true
					case p.fixed[d.name]:
						return fmt.Errorf("property %q requires %q, which is not allowed", d.name, r)
					default:
						p.remove(d.name)
						p.banned[d.name] = true
						changed = true
					}
					if !p.chosen[d.name] {
						break
					}
				}
			}
		}
	}
	return nil
}

// extraKey proposes a property name not declared by "properties": a match of a
// patternProperties expression when there is one, otherwise a plain word.
func (g *gen) extraKey(conj []*schema, try int) string {
	for _, s := range conj {
		if len(s.patternProps) > 0 && try%2 == 0 {
			pp := s.patternProps[g.f.IntN(len(s.patternProps))]
			if k, ok := g.regexFill(pp.re.String(), 2); ok {
				if longer := k + asciiLower(g.f.Noun()); pp.re.MatchString(longer) {
					return longer
				}
				return k
			}
		}
	}
	k := asciiLower(g.f.Noun())
	if try > 4 {
		k = fmt.Sprintf("%s_%d", k, try)
	}
	return strings.TrimSpace(k)
}
