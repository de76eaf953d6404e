package mockserver

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// pythonJSON re-serialises a JSON value the way Python's json.dumps(ensure_ascii=False) does
// with its default separators (", " and ": "), keeping key order and number literals: the form
// Qwen's chat template gives tools, and the form the model writes tool-call arguments in.
// Invalid JSON is returned unchanged.
func pythonJSON(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var sb strings.Builder
	if err := writePython(&sb, dec); err != nil {
		return string(raw)
	}
	return sb.String()
}

func writePython(sb *strings.Builder, dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		closing := byte(']')
		if v == '{' {
			closing = '}'
		}
		sb.WriteByte(byte(v))
		first := true
		for dec.More() {
			if !first {
				sb.WriteString(", ")
			}
			first = false
			if v == '{' {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				writePyString(sb, key.(string))
				sb.WriteString(": ")
			}
			if err := writePython(sb, dec); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		sb.WriteByte(closing)
	case string:
		writePyString(sb, v)
	case json.Number:
		sb.WriteString(v.String())
	case bool:
		if v {
			sb.WriteString("true")
		} else {
			sb.WriteString("false")
		}
	case nil:
		sb.WriteString("null")
	}
	return nil
}

// writePyString writes s as Python's json.dumps(ensure_ascii=False) does.
func writePyString(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			sb.WriteString(`\"`)
		case r == '\\':
			sb.WriteString(`\\`)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r == '\b':
			sb.WriteString(`\b`)
		case r == '\f':
			sb.WriteString(`\f`)
		case r < 0x20:
			sb.WriteString(`\u00`)
			sb.WriteByte(hexDigits[r>>4])
			sb.WriteByte(hexDigits[r&0xF])
		default:
			sb.WriteString(s[i : i+size])
		}
		i += size
	}
	sb.WriteByte('"')
}
