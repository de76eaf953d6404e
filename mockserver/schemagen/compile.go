package schemagen

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// maxSchemas bounds how many distinct subschemas one document may hold.
const maxSchemas = 5000

// Draft versions, numbered like the validator of the tests numbers them.
const (
	draft4    = 4
	draft6    = 6
	draft7    = 7
	draft2019 = 2019
	draft2020 = 2020
)

// drafts maps "$schema" values (without a trailing "#") to draft versions.
var drafts = map[string]int{
	"http://json-schema.org/draft-04/schema":       draft4,
	"http://json-schema.org/draft-06/schema":       draft6,
	"http://json-schema.org/draft-07/schema":       draft7,
	"https://json-schema.org/draft/2019-09/schema": draft2019,
	"https://json-schema.org/draft/2020-12/schema": draft2020,
}

// compiler turns a decoded document into linked schemas, resolving "$ref" as it goes.
type compiler struct {
	root    *value
	draft   int
	rootID  string // root "$id" without its fragment
	memo    map[*value]*schema
	list    []*schema // compiled schemas, in compile order
	anchors map[string]*value
}

// compileDocument decodes and compiles a schema document.
func compileDocument(data []byte) (*schema, *compiler, error) {
	root, err := parseJSON(data)
	if err != nil {
		return nil, nil, err
	}
	if root.kind != kindObject && root.kind != kindBool {
		return nil, nil, errors.New("invalid schema: the root must be an object or a boolean")
	}
	c := &compiler{root: root, draft: draft2020, memo: map[*value]*schema{}, anchors: map[string]*value{}}
	if sv, ok := root.get("$schema"); ok && sv.kind == kindString {
		if d, ok := drafts[strings.Replace(strings.TrimSuffix(sv.str, "#"), "https://json-schema.org/draft-0", "http://json-schema.org/draft-0", 1)]; ok {
			c.draft = d
		}
	}
	if id, ok := root.get(c.idKeyword()); ok && id.kind == kindString {
		c.rootID, _, _ = strings.Cut(id.str, "#")
	}
	if err := c.scan(root, "", true, 0); err != nil {
		return nil, nil, err
	}
	s, err := c.compile(root, "")
	if err != nil {
		return nil, nil, err
	}
	if err := c.checkCycles(); err != nil {
		return nil, nil, err
	}
	return s, c, nil
}

func (c *compiler) idKeyword() string {
	if c.draft == draft4 {
		return "id"
	}
	return "$id"
}

// compile returns the schema for node v, compiling it on first use. The memo is filled
// before the keywords are read, so recursive references end up as cycles in the graph.
func (c *compiler) compile(v *value, loc string) (*schema, error) {
	if s, ok := c.memo[v]; ok {
		return s, nil
	}
	if len(c.list) >= maxSchemas {
		return nil, fmt.Errorf("invalid schema: more than %d subschemas", maxSchemas)
	}
	s := newSchema(loc)
	c.memo[v] = s
	c.list = append(c.list, s)
	switch v.kind {
	case kindBool:
		b := v.b
		s.boolean = &b
		return s, nil
	case kindObject:
		return s, c.keywords(s, v, loc)
	}
	return nil, fmt.Errorf("invalid schema at %q: a schema must be an object or a boolean", loc)
}

// kw reads the keywords of one schema object.
type kw struct {
	c   *compiler
	obj *value
	loc string
	err error
}

func (k *kw) fail(key, format string, args ...any) {
	if k.err == nil {
		k.err = fmt.Errorf("invalid schema at %q: %q %s", k.loc+"/"+escapeToken(key), key, fmt.Sprintf(format, args...))
	}
}

func (k *kw) sub(key string) *schema {
	v, ok := k.obj.get(key)
	if !ok || k.err != nil {
		return nil
	}
	s, err := k.c.compile(v, k.loc+"/"+escapeToken(key))
	if err != nil {
		k.err = err
	}
	return s
}

func (k *kw) subList(key string, allowEmpty bool) []*schema {
	v, ok := k.obj.get(key)
	if !ok || k.err != nil {
		return nil
	}
	if v.kind != kindArray || (len(v.arr) == 0 && !allowEmpty) {
		k.fail(key, "must be a non-empty array of schemas")
		return nil
	}
	out := make([]*schema, 0, len(v.arr))
	for i, item := range v.arr {
		s, err := k.c.compile(item, k.loc+"/"+escapeToken(key)+"/"+strconv.Itoa(i))
		if err != nil {
			k.err = err
			return nil
		}
		out = append(out, s)
	}
	return out
}

func (k *kw) subMap(key string) []namedSchema {
	v, ok := k.obj.get(key)
	if !ok || k.err != nil {
		return nil
	}
	if v.kind != kindObject {
		k.fail(key, "must be an object of schemas")
		return nil
	}
	out := make([]namedSchema, 0, len(v.keys))
	for i, name := range v.keys {
		s, err := k.c.compile(v.vals[i], k.loc+"/"+escapeToken(key)+"/"+escapeToken(name))
		if err != nil {
			k.err = err
			return nil
		}
		out = append(out, namedSchema{name, s})
	}
	return out
}

func (k *kw) number(key string) *big.Rat {
	v, ok := k.obj.get(key)
	if !ok {
		return nil
	}
	if v.kind != kindNumber {
		k.fail(key, "must be a number")
		return nil
	}
	return v.rat()
}

// count reads a non-negative integer keyword; -1 when absent. Huge values are clamped.
func (k *kw) count(key string) int {
	r := k.number(key)
	if r == nil {
		return -1
	}
	if !r.IsInt() || r.Sign() < 0 {
		k.fail(key, "must be a non-negative integer")
		return -1
	}
	if !r.Num().IsInt64() || r.Num().Int64() > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(r.Num().Int64())
}

func (k *kw) strings(v *value, key string) []string {
	if v.kind != kindArray {
		k.fail(key, "must be an array of strings")
		return nil
	}
	out := make([]string, 0, len(v.arr))
	for _, item := range v.arr {
		if item.kind != kindString {
			k.fail(key, "must be an array of strings")
			return nil
		}
		out = append(out, item.str)
	}
	return out
}

func (k *kw) regexp(key, src string) *regexp.Regexp {
	re, err := regexp.Compile(src)
	if err != nil {
		k.fail(key, "has a pattern that does not compile: %v", err)
		return nil
	}
	return re
}
