package schemagen

import (
	"testing"

	"github.com/brianvoe/gofakeit/v7"
)

// FuzzGenerate feeds arbitrary schema bytes to Check and Generate: neither may panic, and
// whenever Generate succeeds on a schema that the reference validator compiles, the value
// must validate with that validator's default settings. Large inputs and schemas the
// reference validator rejects are skipped.
func FuzzGenerate(f *testing.F) {
	for _, tc := range toolSchemas {
		f.Add([]byte(tc.schema), uint64(1))
	}
	for _, s := range []string{
		`{"$ref":"#"}`, `{"allOf":[{"$ref":"#"}]}`, `{"not":{}}`, `false`, `[]`, `{"type":"nope"}`,
		`{"minLength":5,"maxLength":2}`, `{"pattern":"(?=x)"}`, `{"$ref":"#/$defs/missing"}`,
		`{"type":"string","format":"email","maxLength":3}`, `{"enum":[]}`, `{"minItems":100000}`,
		`{"type":"integer","minimum":1e300,"multipleOf":1e-300}`, `{"type":"number","exclusiveMinimum":1,"exclusiveMaximum":1}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#","not":{"format":"email"}}`,
		`{"type":"object","required":["a"],"properties":{"a":{"$ref":"#"}}}`,
		`{"oneOf":[{},{}]}`, `{"type":"array","items":{"enum":[1,1.0]},"uniqueItems":true,"minItems":2}`,
		`{"dependencies":{"a":["b"],"b":{"required":["c"]}},"minProperties":2}`,
	} {
		f.Add([]byte(s), uint64(3))
	}
	f.Fuzz(func(t *testing.T, schema []byte, seed uint64) {
		if len(schema) > 2048 {
			return
		}
		_ = Check(schema)
		out, err := Generate(schema, gofakeit.New(seed|1))
		if err != nil {
			return
		}
		ref, err := refValidator(schema, false)
		if err != nil {
			return
		}
		if err := refValidate(ref, out); err != nil {
			t.Fatalf("schema %s\nvalue %s\ninvalid: %v", schema, out, err)
		}
	})
}
