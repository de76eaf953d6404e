package schemagen

import (
	"strings"
	"testing"

	"github.com/brianvoe/gofakeit/v7"
)

// TestCheckRejects lists schemas Check must refuse, with a fragment of the message.
func TestCheckRejects(t *testing.T) {
	cases := []struct{ schema, want string }{
		{``, "invalid JSON"},
		{`{"type":"object"`, "invalid JSON"},
		{`{} {}`, "after top-level value"},
		{`[]`, "object or a boolean"},
		{`"string"`, "object or a boolean"},
		{`{"type":"text"}`, "type"},
		{`{"properties":{"a":5}}`, "object or a boolean"},
		{`{"minLength":-1}`, "non-negative integer"},
		{`{"maxItems":1.5}`, "non-negative integer"},
		{`{"minimum":"3"}`, "must be a number"},
		{`{"multipleOf":0}`, "greater than 0"},
		{`{"pattern":"(?=lookahead)"}`, "does not compile"},
		{`{"patternProperties":{"[":{}}}`, "does not compile"},
		{`{"required":"a"}`, "array of strings"},
		{`{"allOf":[]}`, "non-empty array"},
		{`{"$ref":"#/$defs/missing"}`, "cannot be resolved"},
		{`{"$ref":"other.json"}`, "within the document"},
		{`{"$ref":"#nope"}`, "no such anchor"},
		{`{"$ref":"#"}`, "circular reference"},
		{`{"$defs":{"a":{"allOf":[{"$ref":"#/$defs/b"}]},"b":{"anyOf":[{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}`, "circular reference"},
		{`{"properties":{"a":{"$id":"http://example.com/a","type":"string"}}}`, "embedded $id"},
		{`{"$dynamicRef":"#meta"}`, "not supported"},
		{`{"minimum":1e999}`, "too long or too large"},
		{strings.Repeat(`{"not":`, 300) + `{}` + strings.Repeat(`}`, 300), "nesting deeper"},
	}
	for _, c := range cases {
		err := Check([]byte(c.schema))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%s) = %v, want error containing %q", short(c.schema), err, c.want)
		}
	}
}

// TestCheckAccepts lists unusual but usable schemas.
func TestCheckAccepts(t *testing.T) {
	for _, s := range []string{
		`true`, `false`, `{}`,
		`{"$id":"https://example.com/tool.json","$ref":"https://example.com/tool.json#/$defs/a","$defs":{"a":{"type":"string"}}}`,
		`{"$defs":{"a b":{"type":"string"},"c/d":{"type":"integer"}},"properties":{"x":{"$ref":"#/$defs/a%20b"},"y":{"$ref":"#/$defs/c~1d"}}}`,
		`{"$defs":{"n":{"$anchor":"node","type":"object","properties":{"next":{"$ref":"#node"}}}},"$ref":"#node"}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"a":{"$id":"#a","type":"integer"}},"$ref":"#a"}`,
		`{"x-custom":{"anything":[1,2]},"description":"unknown keywords are ignored"}`,
	} {
		if err := Check([]byte(s)); err != nil {
			t.Errorf("Check(%s): %v", s, err)
		}
	}
}

// TestUnsatisfiable checks that contradictory schemas give an error rather than an
// invalid value.
func TestUnsatisfiable(t *testing.T) {
	for _, s := range []string{
		`false`,
		`{"not":{}}`,
		`{"type":"string","minLength":5,"maxLength":2}`,
		`{"type":"integer","minimum":1.1,"maximum":1.9}`,
		`{"type":"number","exclusiveMinimum":1,"exclusiveMaximum":1}`,
		`{"allOf":[{"type":"string"},{"type":"integer"}]}`,
		`{"enum":[]}`,
		`{"type":"string","enum":[1,2]}`,
		`{"type":"object","properties":{"a":{}},"required":["b"],"additionalProperties":false}`,
		`{"type":"object","maxProperties":1,"required":["a","b"]}`,
		`{"type":"array","items":{"type":"boolean"},"minItems":3,"uniqueItems":true}`,
		`{"type":"array","minItems":100000}`,
		`{"type":"object","required":["next"],"properties":{"next":{"$ref":"#"}}}`,
		`{"oneOf":[{"type":"string"},{"type":"string"}]}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#","type":"string","format":"email","maxLength":3}`,
	} {
		out, err := Generate([]byte(s), gofakeit.New(1))
		if err == nil {
			t.Errorf("Generate(%s) = %s, want an error", s, out)
		}
	}
}

// TestFormatAnnotation2020 checks that a 2020-12 format that cannot meet the string
// limits yields a plain string, as format is only an annotation there.
func TestFormatAnnotation2020(t *testing.T) {
	out, err := Generate([]byte(`{"type":"string","format":"email","maxLength":3}`), gofakeit.New(1))
	if err != nil || len(out) > 5 {
		t.Fatalf("got %s, %v", out, err)
	}
}

// TestNumbersExact checks exact decimal output for awkward multipleOf and bounds.
func TestNumbersExact(t *testing.T) {
	cases := []struct{ schema, want string }{
		{`{"type":"number","minimum":0.1,"maximum":0.1}`, `0.1`},
		{`{"type":"number","multipleOf":0.1,"minimum":0.3,"maximum":0.3}`, `0.3`},
		{`{"type":"integer","multipleOf":1e20,"minimum":1e20,"maximum":1e20}`, `100000000000000000000`},
		{`{"type":"number","exclusiveMinimum":1e-30,"exclusiveMaximum":2e-30}`, `0.0000000000000000000000000000015`},
		{`{"type":"integer","minimum":-3.5,"maximum":-2.5}`, `-3`},
	}
	for _, c := range cases {
		out, err := Generate([]byte(c.schema), gofakeit.New(1))
		if err != nil || string(out) != c.want {
			t.Errorf("%s: got %s %v, want %s", c.schema, out, err, c.want)
		}
	}
}

// TestNameWords checks how property names are split for hints.
func TestNameWords(t *testing.T) {
	cases := map[string]string{
		"departureCity": "departure city", "max_results": "max results", "X-Request-ID": "x request id",
		"HTTPStatus": "http status", "userID": "user id", "zip code": "zip code",
	}
	for in, want := range cases {
		if got := strings.Join(NameWords(in), " "); got != want {
			t.Errorf("NameWords(%q) = %q, want %q", in, got, want)
		}
	}
}
