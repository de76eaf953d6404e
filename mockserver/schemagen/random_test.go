package schemagen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/brianvoe/gofakeit/v7"
)

// schemaMaker builds random schemas that mix keywords freely, to compare Generate with the
// reference validator far beyond the hand-written table.
type schemaMaker struct {
	r     *rand.Rand
	draft int
}

var (
	randNames    = []string{"id", "name", "city", "email", "count", "price", "tags", "date", "a", "b"}
	randPatterns = []string{`^[a-z]+$`, `^[A-Z]{2,4}-\d{3}$`, `\d`, `^(foo|bar)+$`, `^.{3}$`, `x`, `^[^@]+@[^@]+$`}
	randFormats  = []string{"email", "date", "date-time", "time", "uri", "hostname", "ipv4", "ipv6", "uuid", "duration", "regex", "json-pointer", "semver", "custom"}
)

func (m *schemaMaker) pick(n int) int { return m.r.IntN(n) }

func (m *schemaMaker) defsKey() string {
	if m.draft < draft2019 {
		return "#/definitions"
	}
	return "#/$defs"
}

func (m *schemaMaker) maybe() bool { return m.r.IntN(3) == 0 }

func (m *schemaMaker) number() any {
	switch m.pick(4) {
	case 0:
		return m.r.IntN(20) - 5
	case 1:
		return float64(m.r.IntN(400)-100) / 4
	case 2:
		return json.Number(fmt.Sprintf("%d.%02d", m.r.IntN(10), m.r.IntN(100)))
	}
	return m.r.IntN(3)
}

func (m *schemaMaker) literal() any {
	switch m.pick(5) {
	case 1:
		return m.number()
	case 2:
		return m.pick(2) == 0
	case 3:
		return nil
	case 4:
		return []any{m.pick(3), "x"}
	}
	return map[string]any{"k": m.pick(3)}
}

func (m *schemaMaker) schema(depth int) any {
	if m.draft != draft4 && m.pick(12) == 0 {
		return m.pick(4) != 0
	}
	s := map[string]any{}
	kinds := []string{"string", "integer", "number", "boolean", "null", "object", "array"}
	switch k := m.pick(10); {
	case k < 7:
		if m.maybe() {
			s["type"] = []any{kinds[k], kinds[(k+1+m.pick(len(kinds)-1))%len(kinds)]}
		} else if m.pick(5) != 0 {
			s["type"] = kinds[k]
		}
		m.typed(s, kinds[k], depth)
	case k == 7:
		s["enum"] = []any{m.literal(), randNames[m.pick(5)], randNames[5+m.pick(5)]}
	case k == 8 && m.draft != draft4:
		s["const"] = m.literal()
	default:
		s["$ref"] = m.defsKey() + "/d" + fmt.Sprint(m.pick(2))
	}
	if depth < 3 {
		for _, kw := range []string{"allOf", "anyOf", "oneOf"} {
			if m.pick(8) == 0 {
				s[kw] = []any{m.schema(depth + 1), m.schema(depth + 1)}
			}
		}
		if m.pick(10) == 0 {
			s["not"] = m.schema(depth + 1)
		}
		if m.draft >= draft7 && m.pick(12) == 0 {
			s["if"], s["then"], s["else"] = m.schema(depth+1), m.schema(depth+1), m.schema(depth+1)
		}
	}
	return s
}

func (m *schemaMaker) typed(s map[string]any, kind string, depth int) {
	switch kind {
	case "string":
		if m.maybe() {
			s["minLength"] = m.pick(6)
		}
		if m.maybe() {
			s["maxLength"] = m.pick(12)
		}
		if m.maybe() {
			s["pattern"] = randPatterns[m.pick(len(randPatterns))]
		}
		if m.maybe() {
			s["format"] = randFormats[m.pick(len(randFormats))]
		}
	case "integer", "number":
		for _, kw := range []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} {
			if m.maybe() {
				s[kw] = m.number()
			}
		}
		if m.draft == draft4 {
			for _, kw := range []string{"exclusiveMinimum", "exclusiveMaximum"} {
				if _, ok := s[kw]; ok {
					s[kw] = m.pick(2) == 0
				}
			}
		}
		if m.maybe() {
			s["multipleOf"] = []any{0.5, 3, 0.01, 2.5, 7}[m.pick(5)]
		}
	case "object":
		if depth >= 3 {
			return
		}
		props := map[string]any{}
		var req []any
		for i := m.pick(4); i > 0; i-- {
			name := randNames[m.pick(len(randNames))]
			props[name] = m.schema(depth + 1)
			if m.maybe() {
				req = append(req, name)
			}
		}
		s["properties"] = props
		if len(req) > 0 {
			s["required"] = req
		}
		if m.maybe() {
			s["additionalProperties"] = []any{false, true, map[string]any{"type": "integer"}}[m.pick(3)]
		}
		if m.pick(6) == 0 {
			s["patternProperties"] = map[string]any{"^x_": map[string]any{"type": "string"}}
		}
		if m.pick(6) == 0 {
			s["minProperties"] = m.pick(4)
		}
		if m.pick(6) == 0 {
			s["maxProperties"] = m.pick(4)
		}
		if m.draft >= draft6 && m.pick(8) == 0 {
			s["propertyNames"] = map[string]any{"maxLength": 4}
		}
		if m.pick(8) == 0 {
			key := "dependentRequired"
			if m.draft < draft2019 {
				key = "dependencies"
			}
			s[key] = map[string]any{"a": []any{"b"}}
		}
		if m.draft >= draft2019 && m.pick(8) == 0 {
			s["unevaluatedProperties"] = m.pick(2) == 0
		}
		if m.draft >= draft2019 && m.pick(8) == 0 {
			s["dependentSchemas"] = map[string]any{"a": m.schema(depth + 1)}
		}
	case "array":
		if depth >= 3 {
			return
		}
		if m.draft >= draft2020 && m.maybe() {
			s["prefixItems"] = []any{m.schema(depth + 1), m.schema(depth + 1)}
		}
		if m.pick(4) != 0 {
			s["items"] = m.schema(depth + 1)
		}
		if m.maybe() {
			s["minItems"] = m.pick(4)
		}
		if m.maybe() {
			s["maxItems"] = m.pick(5)
		}
		if m.maybe() {
			s["uniqueItems"] = true
		}
		if m.draft >= draft2019 && m.pick(6) == 0 {
			s["unevaluatedItems"] = []any{false, map[string]any{"type": "string"}}[m.pick(2)]
		}
		if m.draft >= draft6 && m.pick(6) == 0 {
			s["contains"] = m.schema(depth + 1)
			if m.draft >= draft2019 && m.maybe() {
				s["minContains"], s["maxContains"] = m.pick(2), 1+m.pick(3)
			}
		}
	}
}

var draftURLs = map[int]string{
	draft4:    "http://json-schema.org/draft-04/schema#",
	draft6:    "http://json-schema.org/draft-06/schema#",
	draft7:    "http://json-schema.org/draft-07/schema#",
	draft2019: "https://json-schema.org/draft/2019-09/schema",
	draft2020: "https://json-schema.org/draft/2020-12/schema",
}

// TestRandomSchemas generates from thousands of random schemas: every value Generate
// returns must pass the reference validator, and most schemas must be generated.
func TestRandomSchemas(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	ok, skipped := 0, 0
	for i := 0; i < n; i++ {
		r := rand.New(rand.NewPCG(uint64(i), 7))
		m := &schemaMaker{r: r, draft: []int{draft4, draft6, draft7, draft2019, draft2020}[r.IntN(5)]}
		root, isObj := m.schema(0).(map[string]any)
		if !isObj {
			root = map[string]any{}
		}
		root["$schema"] = draftURLs[m.draft]
		root[m.defsKey()[2:]] = map[string]any{"d0": map[string]any{"type": "string", "minLength": 2}, "d1": map[string]any{"type": "integer"}}
		schema, _ := json.Marshal(root)
		ref, err := refValidator(schema, false)
		if err != nil {
			skipped++
			continue
		}
		out, err := Generate(schema, gofakeit.New(uint64(i)+1))
		if err != nil {
			continue
		}
		ok++
		if err := refValidate(ref, out); err != nil {
			t.Fatalf("schema %s\nvalue %s\ninvalid: %v", schema, out, err)
		}
	}
	t.Logf("%d schemas: %d generated, %d rejected by the reference validator", n, ok, skipped)
	if ok < (n-skipped)/2 {
		t.Errorf("only %d of %d schemas generated", ok, n-skipped)
	}
}
