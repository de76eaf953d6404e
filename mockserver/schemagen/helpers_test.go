package schemagen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// noLoader refuses every URL, so compiling a test schema never reads files or the network.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) { return nil, errors.New("no loader: " + url) }

// refValidator compiles schema with an independent validator. strictFormats makes formats
// assertions in every draft (realism checks); without it the validator's defaults apply,
// which are the semantics Generate promises.
func refValidator(schema []byte, strictFormats bool) (sch *jsonschema.Schema, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("validator panic: %v", r)
		}
	}()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	if strictFormats {
		c.AssertFormat()
	}
	const url = "mem:///schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// refValidate validates a JSON instance.
func refValidate(sch *jsonschema.Schema, instance []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("validator panic: %v", r)
		}
	}()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(instance))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// orderedKeys decodes the member names of the JSON object at the start of dec, in order,
// together with their raw values.
func orderedKeys(raw []byte) ([]string, []json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, nil, false
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		keys = append(keys, kt.(string))
		vals = append(vals, v)
	}
	return keys, vals, true
}

// checkOrder verifies that the keys of every generated object follow the order of the
// "properties" that declare them, descending through properties and items.
func checkOrder(t *testing.T, schema, out []byte, path string) {
	t.Helper()
	sKeys, sVals, ok := orderedKeys(schema)
	if !ok {
		return
	}
	var props, items []byte
	for i, k := range sKeys {
		switch k {
		case "properties":
			props = sVals[i]
		case "items":
			items = sVals[i]
		}
	}
	if items != nil && bytes.HasPrefix(bytes.TrimSpace(out), []byte("[")) {
		var arr []json.RawMessage
		if json.Unmarshal(out, &arr) == nil {
			for i, item := range arr {
				checkOrder(t, items, item, fmt.Sprintf("%s/%d", path, i))
			}
		}
	}
	if props == nil {
		return
	}
	declared, declVals, ok := orderedKeys(props)
	if !ok {
		return
	}
	oKeys, oVals, ok := orderedKeys(out)
	if !ok {
		return
	}
	index := map[string]int{}
	for i, k := range declared {
		index[k] = i
	}
	last := -1
	for i, k := range oKeys {
		j, known := index[k]
		if !known {
			continue
		}
		if j < last {
			t.Errorf("%s: key %q out of schema order in %s", path, k, out)
		}
		last = j
		checkOrder(t, declVals[j], oVals[i], path+"/"+k)
	}
}

func compact(s string) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
