package schemagen

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// kind is the JSON type of a value.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// maxNesting bounds how deeply a schema document may nest; deeper input is rejected.
const maxNesting = 200

// maxNumberLen bounds the length of a number literal and the magnitude of its exponent, so
// that exact arithmetic on it stays cheap.
const maxNumberLen = 400

// value is a decoded JSON value. Objects keep their members in document order, which is
// what lets generated objects follow the order of "properties" as written in a schema.
type value struct {
	kind kind
	b    bool
	str  string   // string contents, or the literal of a number
	num  *big.Rat // exact value of a number, set when the value is made; never modified
	arr  []*value
	keys []string
	vals []*value
}

// get returns the member named key of an object value.
func (v *value) get(key string) (*value, bool) {
	if v == nil || v.kind != kindObject {
		return nil, false
	}
	for i, k := range v.keys {
		if k == key {
			return v.vals[i], true
		}
	}
	return nil, false
}

// set adds or replaces the member named key, keeping the position of an earlier member.
func (v *value) set(key string, val *value) {
	for i, k := range v.keys {
		if k == key {
			v.vals[i] = val
			return
		}
	}
	v.keys = append(v.keys, key)
	v.vals = append(v.vals, val)
}

func nullValue() *value           { return &value{kind: kindNull} }
func boolValue(b bool) *value     { return &value{kind: kindBool, b: b} }
func stringValue(s string) *value { return &value{kind: kindString, str: s} }

// parseJSON decodes exactly one JSON value, keeping object member order. A duplicated key
// keeps its first position and its last value, as encoding/json does for maps. Syntax is
// checked by encoding/json first, so exactly the documents it accepts are accepted, and
// strings decode as it decodes them (invalid UTF-8 and lone surrogates become U+FFFD).
func parseJSON(data []byte) (*value, error) {
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		if err == nil {
			err = errors.New("malformed document")
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	p := &jsonParser{data: data}
	return p.value(0)
}

// jsonParser reads a document that encoding/json has already validated.
type jsonParser struct {
	data []byte
	pos  int
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (*value, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("invalid schema: nesting deeper than %d levels", maxNesting)
	}
	p.skipSpace()
	switch c := p.data[p.pos]; c {
	case '{':
		p.pos++
		v := &value{kind: kindObject}
		for {
			p.skipSpace()
			if p.data[p.pos] == '}' {
				p.pos++
				return v, nil
			}
			if p.data[p.pos] == ',' {
				p.pos++
				p.skipSpace()
			}
			key := p.str()
			p.skipSpace()
			p.pos++ // ':'
			item, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v.set(key, item)
		}
	case '[':
		p.pos++
		v := &value{kind: kindArray}
		for {
			p.skipSpace()
			if p.data[p.pos] == ']' {
				p.pos++
				return v, nil
			}
			if p.data[p.pos] == ',' {
				p.pos++
			}
			item, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v.arr = append(v.arr, item)
		}
	case '"':
		return stringValue(p.str()), nil
	case 't':
		p.pos += 4
		return boolValue(true), nil
	case 'f':
		p.pos += 5
		return boolValue(false), nil
	case 'n':
		p.pos += 4
		return nullValue(), nil
	default:
		start := p.pos
		for p.pos < len(p.data) && strings.IndexByte("+-0123456789.eE", p.data[p.pos]) >= 0 {
			p.pos++
		}
		lit := string(p.data[start:p.pos])
		r, ok := parseRat(lit)
		if !ok {
			return nil, fmt.Errorf("invalid schema: number %.40q is too long or too large", lit)
		}
		return &value{kind: kindNumber, str: lit, num: r}, nil
	}
}

// str reads a string literal at the current position.
func (p *jsonParser) str() string {
	p.pos++ // opening quote
	start := p.pos
	for p.data[p.pos] != '"' && p.data[p.pos] != '\\' && p.data[p.pos] < utf8.RuneSelf {
		p.pos++
	}
	if p.data[p.pos] == '"' {
		p.pos++
		return string(p.data[start : p.pos-1])
	}
	var b strings.Builder
	b.Write(p.data[start:p.pos])
	for {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String()
		case c == '\\':
			p.pos++
			switch e := p.data[p.pos]; e {
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r := p.hex4(p.pos + 1)
				p.pos += 4
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if p.pos+6 < len(p.data) && p.data[p.pos+1] == '\\' && p.data[p.pos+2] == 'u' {
						r2 = p.hex4(p.pos + 3)
					}
					if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
						r = dec
						p.pos += 6
					} else {
						r = unicode.ReplacementChar
					}
				}
				b.WriteRune(r)
			default: // '"', '\\', '/'
				b.WriteByte(e)
			}
			p.pos++
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.data[p.pos:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString("\uFFFD")
			} else {
				b.Write(p.data[p.pos : p.pos+size])
			}
			p.pos += size
		}
	}
}

// hex4 decodes the four hex digits at i.
func (p *jsonParser) hex4(i int) rune {
	n, _ := strconv.ParseUint(string(p.data[i:i+4]), 16, 32)
	return rune(n)
}

// parseRat converts a JSON number literal to an exact rational. Literals longer than
// maxNumberLen or with an exponent beyond ±maxNumberLen are refused.
func parseRat(lit string) (*big.Rat, bool) {
	if lit == "" || len(lit) > maxNumberLen {
		return nil, false
	}
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		exp, err := strconv.Atoi(strings.TrimPrefix(lit[i+1:], "+"))
		if err != nil || exp > maxNumberLen || exp < -maxNumberLen {
			return nil, false
		}
	}
	r, ok := new(big.Rat).SetString(lit)
	return r, ok
}

// rat returns the exact value of a number value. The result is shared: callers must not
// modify it.
func (v *value) rat() *big.Rat {
	if v.num != nil {
		return v.num
	}
	r, ok := parseRat(v.str)
	if !ok {
		return new(big.Rat)
	}
	return r
}

// equalValues reports JSON equality: numbers compare by value, objects ignore member order.
func equalValues(a, b *value) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case kindNull:
		return true
	case kindBool:
		return a.b == b.b
	case kindString:
		return a.str == b.str
	case kindNumber:
		return a.str == b.str || a.rat().Cmp(b.rat()) == 0
	case kindArray:
		if len(a.arr) != len(b.arr) {
			return false
		}
		for i := range a.arr {
			if !equalValues(a.arr[i], b.arr[i]) {
				return false
			}
		}
		return true
	default:
		if len(a.keys) != len(b.keys) {
			return false
		}
		for i, k := range a.keys {
			bv, ok := b.get(k)
			if !ok || !equalValues(a.vals[i], bv) {
				return false
			}
		}
		return true
	}
}

// appendJSON appends the compact encoding of v. Strings are escaped like the rest of the
// mock server's output: no HTML escaping, U+2028 and U+2029 escaped, invalid UTF-8 replaced.
func (v *value) appendJSON(dst []byte) []byte {
	switch v.kind {
	case kindNull:
		return append(dst, "null"...)
	case kindBool:
		return strconv.AppendBool(dst, v.b)
	case kindNumber:
		return append(dst, v.str...)
	case kindString:
		return appendString(dst, v.str)
	case kindArray:
		dst = append(dst, '[')
		for i, item := range v.arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = item.appendJSON(dst)
		}
		return append(dst, ']')
	default:
		dst = append(dst, '{')
		for i, k := range v.keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = v.vals[i].appendJSON(dst)
		}
		return append(dst, '}')
	}
}

const hexDigits = "0123456789abcdef"

func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
