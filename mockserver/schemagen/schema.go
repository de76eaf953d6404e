package schemagen

import (
	"math/big"
	"regexp"
)

// typeSet is a set of JSON Schema types. Numbers are split into integral and fractional
// values so that "integer" is a subset of "number" and intersections stay exact.
type typeSet uint8

const (
	typeNull typeSet = 1 << iota
	typeBool
	typeObject
	typeArray
	typeString
	typeInt  // a number with an integral value
	typeFrac // a number with a fractional part

	typeNumber = typeInt | typeFrac
	typeAny    = typeNull | typeBool | typeObject | typeArray | typeString | typeNumber
)

// typeNames maps the names used by the "type" keyword to sets.
var typeNames = map[string]typeSet{
	"null":    typeNull,
	"boolean": typeBool,
	"object":  typeObject,
	"array":   typeArray,
	"string":  typeString,
	"integer": typeInt,
	"number":  typeNumber,
}

// typeOf returns the single-member set holding the type of v.
func typeOf(v *value) typeSet {
	switch v.kind {
	case kindNull:
		return typeNull
	case kindBool:
		return typeBool
	case kindObject:
		return typeObject
	case kindArray:
		return typeArray
	case kindString:
		return typeString
	default:
		if v.rat().IsInt() {
			return typeInt
		}
		return typeFrac
	}
}

// namedSchema is a schema attached to a property name ("properties", "dependentSchemas").
type namedSchema struct {
	name   string
	schema *schema
}

// patternSchema is one entry of "patternProperties".
type patternSchema struct {
	re     *regexp.Regexp
	schema *schema
}

// namedList is one entry of "dependentRequired" (or the array form of "dependencies").
type namedList struct {
	name string
	list []string
}

// schema is one compiled (sub)schema. Keywords that do not apply to the document's draft
// are left unset, exactly as a validator for that draft ignores them. Unset integer limits
// are -1; unset numeric limits and subschemas are nil.
type schema struct {
	loc     string // JSON pointer of the schema in its document, for error messages
	boolean *bool  // set for the boolean schemas true and false

	types   typeSet // 0 when "type" is absent
	enum    []*value
	hasEnum bool
	constV  *value
	format  string

	minLength, maxLength int
	pattern              *regexp.Regexp

	minimum, maximum, exclMin, exclMax, multipleOf *big.Rat

	prefix                   []*schema // prefixItems, or the array form of items
	items                    *schema   // applies to the items after prefix
	minItems, maxItems       int
	unique                   bool
	contains                 *schema
	minContains, maxContains int
	unevalItems              *schema

	props              []namedSchema
	patternProps       []patternSchema
	additional         *schema
	propertyNames      *schema
	required           []string
	minProps, maxProps int
	depRequired        []namedList
	depSchemas         []namedSchema
	unevalProps        *schema

	ref                 *schema
	allOf, anyOf, oneOf []*schema
	not                 *schema
	ifS, thenS, elseS   *schema

	defaultV *value
	examples []*value
}

func newSchema(loc string) *schema {
	return &schema{
		loc:       loc,
		minLength: -1, maxLength: -1,
		minItems: -1, maxItems: -1,
		minContains: -1, maxContains: -1,
		minProps: -1, maxProps: -1,
	}
}

// isFalse reports whether s is the boolean schema false.
func (s *schema) isFalse() bool { return s != nil && s.boolean != nil && !*s.boolean }

// prop returns the "properties" entry named name.
func (s *schema) prop(name string) *schema {
	for _, p := range s.props {
		if p.name == name {
			return p.schema
		}
	}
	return nil
}

// inPlace returns the subschemas that apply to the same instance as s itself: following
// only these edges must never lead back to s.
func (s *schema) inPlace() []*schema {
	var out []*schema
	if s.ref != nil {
		out = append(out, s.ref)
	}
	out = append(out, s.allOf...)
	out = append(out, s.anyOf...)
	out = append(out, s.oneOf...)
	for _, sub := range []*schema{s.not, s.ifS, s.thenS, s.elseS} {
		if sub != nil {
			out = append(out, sub)
		}
	}
	for _, d := range s.depSchemas {
		out = append(out, d.schema)
	}
	return out
}

// hasObjectKeywords reports whether s constrains objects.
func (s *schema) hasObjectKeywords() bool {
	return len(s.props) > 0 || len(s.required) > 0 || len(s.patternProps) > 0 ||
		s.additional != nil || s.minProps >= 0 || s.maxProps >= 0 || s.propertyNames != nil ||
		len(s.depRequired) > 0 || len(s.depSchemas) > 0 || s.unevalProps != nil
}

// hasArrayKeywords reports whether s constrains arrays.
func (s *schema) hasArrayKeywords() bool {
	return len(s.prefix) > 0 || s.items != nil || s.minItems >= 0 || s.maxItems >= 0 ||
		s.unique || s.contains != nil || s.unevalItems != nil
}

// hasNumberKeywords reports whether s constrains numbers.
func (s *schema) hasNumberKeywords() bool {
	return s.minimum != nil || s.maximum != nil || s.exclMin != nil || s.exclMax != nil ||
		s.multipleOf != nil
}

// hasStringKeywords reports whether s constrains strings.
func (s *schema) hasStringKeywords() bool {
	return s.minLength >= 0 || s.maxLength >= 0 || s.pattern != nil || s.format != ""
}
