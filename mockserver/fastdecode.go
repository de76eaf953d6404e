package mockserver

import (
	"encoding/json"
	"unicode/utf8"
	"unsafe"
)

// fastCompatRequest decodes the most common compatible request, a body that holds only
// "model", "messages" (objects with a string "role" and a string "content"), "stream" and
// "stream_options" ({"include_usage": bool}), without reflection. It reports false for anything
// else (another key, another type, null, a duplicate key, bad JSON, trailing data), and the
// caller then decodes with encoding/json, which gives every error its message: the fast path
// only accepts what the strict decoder accepts, and fills the wire struct as it would.
func fastCompatRequest(body []byte, w *compatRequestWire) bool {
	var f fastCompat
	if !f.parse(body, false) {
		return false
	}
	if f.hasModel {
		w.Model = &f.model
	}
	if f.hasMessages {
		w.Messages = make([]messageWire, len(f.msgs))
		for i, m := range f.msgs {
			w.Messages[i] = messageWire{Role: m.Role, Content: messageContent{text: m.Content}}
		}
	}
	if f.hasStream {
		w.Stream = &f.stream
	}
	if f.hasStreamOptions {
		w.StreamOptions = &struct {
			IncludeUsage *bool `json:"include_usage"`
		}{}
		if f.hasIncludeUsage {
			w.StreamOptions.IncludeUsage = &f.includeUsage
		}
	}
	return true
}

// fastCompat is what fastCompatRequest finds in a body. A message's role and content are
// all it can hold of it (as a chatMessage, what decodeMessages makes of such a message).
type fastCompat struct {
	model            string
	hasModel         bool
	msgs             []chatMessage
	hasMessages      bool
	stream           bool
	hasStream        bool
	hasStreamOptions bool
	includeUsage     bool
	hasIncludeUsage  bool
}

// parse decodes body into f, appending the messages to f.msgs (which may hold a reused
// array), and reports whether it is a body the fast path takes. With alias, strings without
// escapes point into body instead of being copied.
func (f *fastCompat) parse(body []byte, alias bool) bool {
	d := fastDecoder{b: body, alias: alias}
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		d.ws()
		return d.i == len(d.b)
	}
	var seen uint8
	for {
		key, ok := d.rawString()
		if !ok || !d.byte(':') {
			return false
		}
		var bit uint8
		switch string(key) {
		case "model":
			bit = 1
			if f.model, ok = d.str(); !ok {
				return false
			}
			f.hasModel = true
		case "messages":
			bit = 2
			if f.msgs, ok = d.messages(f.msgs[:0]); !ok {
				return false
			}
			f.hasMessages = true
		case "stream":
			bit = 4
			if f.stream, ok = d.boolean(); !ok {
				return false
			}
			f.hasStream = true
		case "stream_options":
			bit = 8
			if f.includeUsage, f.hasIncludeUsage, ok = d.streamOptions(); !ok {
				return false
			}
			f.hasStreamOptions = true
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		if d.byte(',') {
			continue
		}
		if !d.byte('}') {
			return false
		}
		break
	}
	d.ws()
	return d.i == len(d.b)
}

// fastDecoder is a cursor over a JSON body for fastCompatRequest.
type fastDecoder struct {
	b     []byte
	i     int
	alias bool // strings without escapes point into b
}

func (d *fastDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// byte skips whitespace and consumes c if it comes next.
func (d *fastDecoder) byte(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// rawString returns the bytes of a string without escapes, control characters or non-ASCII
// bytes (an object key).
func (d *fastDecoder) rawString() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], true
		case c < 0x20 || c == '\\' || c >= utf8.RuneSelf:
			return nil, false
		}
		d.i++
	}
	return nil, false
}

// str decodes a string value as encoding/json does; escapes and invalid UTF-8 go through it.
func (d *fastDecoder) str() (string, bool) {
	if !d.byte('"') {
		return "", false
	}
	start := d.i
	plain := true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			raw := d.b[start : d.i-1]
			if plain && utf8.Valid(raw) {
				if d.alias {
					return unsafe.String(unsafe.SliceData(raw), len(raw)), true
				}
				return string(raw), true
			}
			var s string
			if json.Unmarshal(d.b[start-1:d.i], &s) != nil {
				return "", false
			}
			return s, true
		case c < 0x20:
			return "", false
		case c == '\\':
			plain = false
			d.i++ // the escaped byte cannot end the string
		}
		d.i++
	}
	return "", false
}

func (d *fastDecoder) literal(lit string) bool {
	d.ws()
	if len(d.b)-d.i >= len(lit) && string(d.b[d.i:d.i+len(lit)]) == lit {
		d.i += len(lit)
		return true
	}
	return false
}

func (d *fastDecoder) boolean() (bool, bool) {
	switch {
	case d.literal("true"):
		return true, true
	case d.literal("false"):
		return false, true
	}
	return false, false
}

// streamOptions decodes {"include_usage": bool} or {}: the value, whether it was given, and
// whether the object is one the fast path takes.
func (d *fastDecoder) streamOptions() (v, given, ok bool) {
	if !d.byte('{') {
		return false, false, false
	}
	if d.byte('}') {
		return false, false, true
	}
	key, ok := d.rawString()
	if !ok || string(key) != "include_usage" || !d.byte(':') {
		return false, false, false
	}
	v, ok = d.boolean()
	if !ok || !d.byte('}') {
		return false, false, false
	}
	return v, true, true
}

// messages decodes an array of {"role": string, "content": string} objects (either key
// optional, each at most once), appending them to msgs.
func (d *fastDecoder) messages(msgs []chatMessage) ([]chatMessage, bool) {
	if !d.byte('[') {
		return nil, false
	}
	if d.byte(']') {
		return msgs, true
	}
	for {
		if !d.byte('{') {
			return nil, false
		}
		var m chatMessage
		if !d.byte('}') {
			var seen uint8
			for {
				key, ok := d.rawString()
				if !ok || !d.byte(':') {
					return nil, false
				}
				var bit uint8
				switch string(key) {
				case "role":
					bit = 1
					m.Role, ok = d.role()
				case "content":
					bit = 2
					m.Content, ok = d.str()
				default:
					return nil, false
				}
				if !ok || seen&bit != 0 {
					return nil, false
				}
				seen |= bit
				if d.byte(',') {
					continue
				}
				if !d.byte('}') {
					return nil, false
				}
				break
			}
		}
		msgs = append(msgs, m)
		if d.byte(',') {
			continue
		}
		if d.byte(']') {
			return msgs, true
		}
		return nil, false
	}
}

// role decodes a role, without allocating for the four the service knows.
func (d *fastDecoder) role() (string, bool) {
	save := d.i
	if raw, ok := d.rawString(); ok {
		switch string(raw) {
		case "system":
			return "system", true
		case "user":
			return "user", true
		case "assistant":
			return "assistant", true
		case "tool":
			return "tool", true
		}
	}
	d.i = save
	return d.str()
}
