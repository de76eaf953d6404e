package schemagen

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

// Limits that no option lifts: they keep time and output size bounded for any schema.
const (
	hardDepthSlack = 32   // nesting allowed beyond the depth limit for required content
	maxArrayLen    = 256  // largest minItems that is generated
	maxStringLen   = 4096 // largest minLength that is generated
	attempts       = 8    // candidates tried per value before giving up
)

// Option adjusts how values are generated.
type Option func(*options)

type options struct {
	maxDepth     int
	maxItems     int
	optionalProb float64
	maxNodes     int
	maxSteps     int
	maxBytes     int
}

func defaultOptions() options {
	return options{maxDepth: 5, maxItems: 3, optionalProb: 0.5, maxNodes: 5000, maxSteps: 200_000, maxBytes: DefaultMaxBytes}
}

// WithMaxDepth sets how deeply objects and arrays nest before only required properties and
// the minimum number of items are generated (default 5). Recursive schemas stop there.
func WithMaxDepth(n int) Option { return func(o *options) { o.maxDepth = max(n, 0) } }

// WithMaxItems sets the usual largest array length when the schema sets no maxItems
// (default 3; arrays get 1 to 3 items unless minItems asks for more).
func WithMaxItems(n int) Option { return func(o *options) { o.maxItems = max(n, 1) } }

// WithOptionalProbability sets the chance that each optional property is present
// (default 0.5).
func WithOptionalProbability(p float64) Option {
	return func(o *options) { o.optionalProb = min(max(p, 0), 1) }
}

// WithMaxNodes bounds how many JSON values one call may generate, discarded candidates
// included (default 5000).
func WithMaxNodes(n int) Option { return func(o *options) { o.maxNodes = max(n, 1) } }

// DefaultMaxBytes is the default size budget of one generation (WithMaxBytes).
const DefaultMaxBytes = 256 << 10

// WithMaxBytes bounds the bytes of string candidates one call may build, discarded ones
// included (default DefaultMaxBytes). It bounds memory and, with the node and step limits,
// time: a schema that needs more makes Generate fail with ErrBudget.
func WithMaxBytes(n int) Option { return func(o *options) { o.maxBytes = max(n, 1) } }

// Schema is a compiled JSON Schema. It is immutable and safe for concurrent use; compiling
// once and generating many times avoids decoding the schema on every call.
type Schema struct {
	root  *schema
	draft int
}

// Compile decodes and checks a schema document (an object or a boolean schema). Supported
// drafts are 2020-12 (the default when "$schema" is absent), 2019-09, 07, 06 and 04.
func Compile(data []byte) (s *Schema, err error) {
	defer recoverError(&err)
	root, c, err := compileDocument(data)
	if err != nil {
		return nil, err
	}
	return &Schema{root: root, draft: c.draft}, nil
}

// Check reports whether schema is usable: valid JSON, an object or boolean schema, every
// keyword well-formed, every pattern a valid regular expression, every "$ref" resolvable
// within the document and no reference loop that never descends into a property or item.
func Check(schema []byte) error {
	_, err := Compile(schema)
	return err
}

// Generate returns a JSON value (compact encoding, object keys in the order of
// "properties" as written in the schema) that validates against schema, using only f for
// randomness. Same schema, same options and same Faker state give the same bytes.
func Generate(schema []byte, f *gofakeit.Faker, opts ...Option) ([]byte, error) {
	s, err := Compile(schema)
	if err != nil {
		return nil, err
	}
	return s.Generate(f, opts...)
}

// Generate returns a JSON value that validates against s; see the package function.
func (s *Schema) Generate(f *gofakeit.Faker, opts ...Option) (out []byte, err error) {
	defer recoverError(&err)
	if f == nil {
		return nil, errors.New("schemagen: nil Faker")
	}
	if s == nil || s.root == nil {
		return nil, errors.New("schemagen: Schema not made by Compile")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	g := &gen{f: f, o: o, vd: &validator{
		draft:        s.draft,
		assertFormat: s.draft < draft2019,
		maxSteps:     o.maxSteps,
	}}
	v, err := g.genValue([]*schema{s.root}, "", 0)
	if err != nil {
		return nil, err
	}
	return v.appendJSON(nil), nil
}

func recoverError(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("schemagen: internal error: %v", r)
	}
}

// gen holds the state of one generation.
type gen struct {
	f       *gofakeit.Faker
	o       options
	vd      *validator
	nodes   int
	bytes   int                       // bytes of string candidates built so far, see spend
	regexps map[string]*syntax.Regexp // parsed patterns for regexFill
	lastDay time.Time                 // the last date generated, see day
}

// ErrBudget is the error (wrapped, see errors.Is) of a generation that ran out of its step,
// node or size budget before finding a valid value.
var ErrBudget = errors.New("schema too complex: generation budget exhausted")

var errBudget = ErrBudget

// spend charges n bytes of string building to the size budget; false once it is spent,
// which also exhausts the validator so that every caller stops.
func (g *gen) spend(n int) bool {
	g.bytes += n
	if g.bytes > g.o.maxBytes {
		g.vd.exhausted = true
		return false
	}
	return true
}

// pathError locates a generation failure in the value being built ("/passengers/0/age").
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return "at " + e.path + ": " + e.err.Error() }

func (e *pathError) Unwrap() error { return e.err }

// atPath prefixes the location of err with one reference token.
func atPath(token string, err error) error {
	if pe, ok := err.(*pathError); ok {
		return &pathError{"/" + escapeToken(token) + pe.path, pe.err}
	}
	return &pathError{"/" + escapeToken(token), err}
}

// genValue returns a value valid against every schema of list (an empty list allows any
// value). Each attempt picks branches of anyOf/oneOf/if afresh and a type in turn; the
// candidate is kept only if the validator accepts it.
func (g *gen) genValue(list []*schema, hint string, depth int) (*value, error) {
	if depth > g.o.maxDepth+hardDepthSlack {
		return nil, fmt.Errorf("schema requires nesting deeper than %d levels", depth-1)
	}
	g.nodes++
	if g.nodes > g.o.maxNodes {
		return nil, fmt.Errorf("schema requires more than %d values: %w", g.o.maxNodes, ErrBudget)
	}
	var firstErr error
	for a := 0; a < attempts; a++ {
		if !g.vd.tick() {
			return nil, errBudget
		}
		conj := g.flatten(list)
		v, err := g.genConj(conj, hint, depth, a)
		if err == nil && g.validAll(list, v) {
			return v, nil
		}
		if g.vd.exhausted {
			return nil, errBudget
		}
		if err == nil {
			err = errors.New("no candidate value satisfied the schema")
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// validAll reports whether v is valid against every schema of list.
func (g *gen) validAll(list []*schema, v *value) bool {
	for _, s := range list {
		if !g.vd.valid(s, v) {
			return false
		}
	}
	return true
}

// flatten returns the schemas that apply in place to one instance: the list, what their
// "$ref" and "allOf" point to, and one chosen branch of each anyOf/oneOf and of if/else.
func (g *gen) flatten(list []*schema) []*schema {
	var out []*schema
	seen := map[*schema]bool{}
	var add func(s *schema)
	add = func(s *schema) {
		if seen[s] {
			return
		}
		seen[s] = true
		out = append(out, s)
		if s.ref != nil {
			add(s.ref)
		}
		for _, sub := range s.allOf {
			add(sub)
		}
		if len(s.anyOf) > 0 {
			add(g.pickBranch(s.anyOf))
		}
		if len(s.oneOf) > 0 {
			add(g.pickBranch(s.oneOf))
		}
		if s.ifS != nil {
			if g.f.IntN(2) == 0 {
				add(s.ifS)
				if s.thenS != nil {
					add(s.thenS)
				}
			} else if s.elseS != nil {
				add(s.elseS)
			}
		}
	}
	for _, s := range list {
		add(s)
	}
	return out
}

// pickBranch chooses a branch of anyOf/oneOf: never the false schema when another exists,
// and a branch that only allows null less often than the others.
func (g *gen) pickBranch(branches []*schema) *schema {
	weights := make([]int, len(branches))
	total := 0
	for i, b := range branches {
		switch {
		case b.isFalse():
			weights[i] = 0
		case b.types == typeNull:
			weights[i] = 1
		default:
			weights[i] = 4
		}
		total += weights[i]
	}
	if total == 0 {
		return branches[g.f.IntN(len(branches))]
	}
	r := g.f.IntN(total)
	for i, w := range weights {
		if r < w {
			return branches[i]
		}
		r -= w
	}
	return branches[len(branches)-1]
}
