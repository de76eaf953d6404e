package schemagen

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// resolve finds the node a "$ref" points to. Only references into the same document are
// supported: "#", "#/json/pointer", "#anchor", optionally prefixed by the root "$id".
func (c *compiler) resolve(ref string) (*value, string, error) {
	base, frag, _ := strings.Cut(ref, "#")
	if base != "" && base != c.rootID {
		return nil, "", fmt.Errorf("$ref %q: only references within the document are supported", ref)
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return nil, "", fmt.Errorf("$ref %q: %v", ref, err)
	}
	if frag == "" {
		return c.root, "", nil
	}
	if !strings.HasPrefix(frag, "/") {
		if v, ok := c.anchors[frag]; ok {
			return v, "#" + frag, nil
		}
		return nil, "", fmt.Errorf("$ref %q: no such anchor", ref)
	}
	node := c.root
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		var next *value
		switch node.kind {
		case kindObject:
			next, _ = node.get(tok)
		case kindArray:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(node.arr) && strconv.Itoa(i) == tok {
				next = node.arr[i]
			}
		}
		if next == nil {
			return nil, "", fmt.Errorf("$ref %q cannot be resolved", ref)
		}
		node = next
	}
	return node, frag, nil
}

// subschemaKeywords lists the keywords whose value is a schema, an array of schemas (suffix
// "[]") or an object of schemas (suffix "{}"); scan walks them to find anchors.
var subschemaKeywords = []string{
	"additionalItems", "additionalProperties", "contains", "propertyNames", "not", "if", "then",
	"else", "unevaluatedItems", "unevaluatedProperties", "items", "items[]", "prefixItems[]",
	"allOf[]", "anyOf[]", "oneOf[]", "properties{}", "patternProperties{}", "$defs{}",
	"definitions{}", "dependentSchemas{}", "dependencies{}",
}

// scan records anchors and rejects embedded schema resources (a "$id" below the root), which
// would change how references inside them resolve.
func (c *compiler) scan(v *value, at string, isRoot bool, depth int) error {
	if v.kind != kindObject || depth > maxNesting {
		return nil
	}
	if id, ok := v.get(c.idKeyword()); ok && id.kind == kindString && !isRoot {
		if c.draft >= draft2019 || !strings.HasPrefix(id.str, "#") {
			return fmt.Errorf("unsupported schema at %q: embedded %s %q is not supported", at, c.idKeyword(), id.str)
		}
		c.anchors[id.str[1:]] = v
	}
	if c.draft >= draft2019 {
		for _, key := range []string{"$anchor", "$dynamicAnchor"} {
			if a, ok := v.get(key); ok && a.kind == kindString {
				c.anchors[a.str] = v
			}
		}
	}
	for _, key := range subschemaKeywords {
		name := strings.TrimRight(key, "[]{}")
		sub, ok := v.get(name)
		if !ok {
			continue
		}
		switch {
		case strings.HasSuffix(key, "[]") && sub.kind == kindArray:
			for i, item := range sub.arr {
				if err := c.scan(item, loc(at, name, strconv.Itoa(i)), false, depth+1); err != nil {
					return err
				}
			}
		case strings.HasSuffix(key, "{}") && sub.kind == kindObject:
			for i, item := range sub.vals {
				if err := c.scan(item, loc(at, name, sub.keys[i]), false, depth+1); err != nil {
					return err
				}
			}
		case !strings.HasSuffix(key, "]") && !strings.HasSuffix(key, "}"):
			if err := c.scan(sub, loc(at, name), false, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkCycles rejects schemas that apply to their own instance again without descending
// into it ("$ref": "#" at the root, allOf loops, ...): no value can be checked against them.
func (c *compiler) checkCycles() error {
	const (
		unseen = iota
		active
		done
	)
	state := make(map[*schema]int, len(c.list))
	var visit func(s *schema) *schema
	visit = func(s *schema) *schema {
		switch state[s] {
		case active:
			return s
		case done:
			return nil
		}
		state[s] = active
		for _, sub := range s.inPlace() {
			if bad := visit(sub); bad != nil {
				return bad
			}
		}
		state[s] = done
		return nil
	}
	for _, s := range c.list {
		if bad := visit(s); bad != nil {
			return fmt.Errorf("invalid schema at %q: circular reference without an enclosing object or array", bad.loc)
		}
	}
	return nil
}
