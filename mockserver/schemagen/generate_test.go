package schemagen

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/brianvoe/gofakeit/v7"
)

const seedsPerSchema = 50

// TestToolSchemas generates from every tool schema with many seeds and checks each value
// with an independent validator (formats asserted), determinism, and property order.
func TestToolSchemas(t *testing.T) {
	for _, tc := range toolSchemas {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			schema := compact(tc.schema)
			if err := Check(schema); err != nil {
				t.Fatalf("Check: %v", err)
			}
			ref, err := refValidator(schema, true)
			if err != nil {
				t.Fatalf("reference validator rejects the schema: %v", err)
			}
			distinct := map[string]bool{}
			for seed := uint64(1); seed <= seedsPerSchema; seed++ {
				out, err := Generate(schema, gofakeit.New(seed))
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				if !json.Valid(out) || !bytes.Equal(out, compact(string(out))) {
					t.Fatalf("seed %d: not compact JSON: %s", seed, out)
				}
				if err := refValidate(ref, out); err != nil {
					t.Fatalf("seed %d: %s\ninvalid: %v", seed, out, err)
				}
				again, _ := Generate(schema, gofakeit.New(seed))
				if !bytes.Equal(out, again) {
					t.Fatalf("seed %d: not deterministic:\n%s\n%s", seed, out, again)
				}
				checkOrder(t, schema, out, "")
				distinct[string(out)] = true
			}
			if tc.name != "consts" && len(distinct) < 5 {
				t.Errorf("only %d distinct values from %d seeds", len(distinct), seedsPerSchema)
			}
			example, _ := Generate(schema, gofakeit.New(7))
			t.Logf("%s", example)
		})
	}
}

// TestPropertyOrder checks that keys follow the schema even when it lists them in
// non-alphabetical order, including required keys and keys from allOf.
func TestPropertyOrder(t *testing.T) {
	schema := []byte(`{"type":"object","properties":{"zeta":{"type":"integer"},"alpha":{"type":"string"},
		"mid":{"type":"boolean"}},"required":["mid","alpha","zeta"],
		"allOf":[{"properties":{"last":{"const":1}},"required":["last"]}]}`)
	for seed := uint64(1); seed <= 10; seed++ {
		out, err := Generate(schema, gofakeit.New(seed))
		if err != nil {
			t.Fatal(err)
		}
		keys, _, _ := orderedKeys(out)
		if got := strings.Join(keys, ","); got != "zeta,alpha,mid,last" {
			t.Fatalf("keys %s, want zeta,alpha,mid,last", got)
		}
	}
}

// TestRealisticValues spot-checks that names and formats pick realistic generators.
func TestRealisticValues(t *testing.T) {
	cases := []struct {
		schema string
		want   *regexp.Regexp
	}{
		{`{"type":"string","format":"email"}`, regexp.MustCompile(`^[a-z0-9._-]+@[a-z0-9.-]+\.[a-z]+$`)},
		{`{"type":"string","format":"date-time"}`, regexp.MustCompile(`^202[4-7]-\d\d-\d\dT\d\d:\d\d:00Z$`)},
		{`{"type":"string","format":"duration"}`, regexp.MustCompile(`^P`)},
		{`{"type":"object","properties":{"website":{"type":"string"}},"required":["website"]}`, regexp.MustCompile(`^\{"website":"https?://`)},
		{`{"type":"object","properties":{"birth_date":{"type":"string"}},"required":["birth_date"]}`, regexp.MustCompile(`^\{"birth_date":"\d{4}-\d\d-\d\d"\}$`)},
		{`{"type":"object","properties":{"age":{"type":"integer"}},"required":["age"]}`, regexp.MustCompile(`^\{"age":([1-7]\d|8[0-5])\}$`)},
		{`{"type":"object","properties":{"price":{"type":"number"}},"required":["price"]}`, regexp.MustCompile(`^\{"price":\d+(\.\d{1,2})?\}$`)},
	}
	for _, c := range cases {
		for seed := uint64(1); seed <= 20; seed++ {
			out, err := Generate([]byte(c.schema), gofakeit.New(seed))
			if err != nil {
				t.Fatalf("%s: %v", c.schema, err)
			}
			s := string(out)
			if strings.HasPrefix(s, `"`) {
				var str string
				_ = json.Unmarshal(out, &str)
				s = str
			}
			if !c.want.MatchString(s) {
				t.Errorf("%s seed %d: %s does not match %s", c.schema, seed, out, c.want)
			}
		}
	}
	out, _ := Generate([]byte(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`), gofakeit.New(3))
	want := gofakeit.New(3).City()
	if string(out) != `{"city":"`+want+`"}` {
		t.Errorf("city: got %s, want f.City() = %q", out, want)
	}
}

// TestConcurrentCompiled generates from one compiled Schema in parallel.
func TestConcurrentCompiled(t *testing.T) {
	s, err := Compile(compact(toolSchemas[3].schema))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := s.Generate(gofakeit.New(99))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.Generate(gofakeit.New(99))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("concurrent generate: %s %v", got, err)
			}
		}()
	}
	wg.Wait()
}

// TestOptions checks the depth, item and optional-property options.
func TestOptions(t *testing.T) {
	tree := compact(toolSchemas[12].schema) // recursive_tree: children required
	out, err := Generate(tree, gofakeit.New(1), WithMaxDepth(0))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); !regexp.MustCompile(`^\{"name":"[^"]*","children":\[\]\}$`).MatchString(got) {
		t.Errorf("depth 0: %s", got)
	}
	list := []byte(`{"type":"array","items":{"type":"integer"}}`)
	for seed := uint64(1); seed <= 20; seed++ {
		out, _ := Generate(list, gofakeit.New(seed), WithMaxItems(1))
		var arr []int
		if err := json.Unmarshal(out, &arr); err != nil || len(arr) != 1 {
			t.Fatalf("max items 1: %s", out)
		}
	}
	obj := []byte(`{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}}}`)
	none, _ := Generate(obj, gofakeit.New(1), WithOptionalProbability(0))
	all, _ := Generate(obj, gofakeit.New(1), WithOptionalProbability(1))
	if string(none) != `{}` || !strings.HasPrefix(string(all), `{"a":`) || !strings.Contains(string(all), `"b":`) {
		t.Errorf("optional probability: %s %s", none, all)
	}
}
