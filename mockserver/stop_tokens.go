package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// stopParam is the "stop" parameter of both endpoints (spec/api.md §2.1, §4.1): a string, a
// list of strings, or lists of token ids ([[37763, 367]], the docs' own example; a flat list
// of ids is one sequence). Generation stops before the first match of any of them.
type stopParam struct {
	strings []string
	tokens  [][]int
}

func (p *stopParam) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch jsonKind(b) {
	case "null":
		return nil
	case "string":
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		p.strings = []string{one}
		return nil
	case "array":
	default:
		return &wireError{fmt.Sprintf("Invalid type for 'stop': expected a string or an array, but got %s instead.", article(jsonKind(b)))}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return err
	}
	var flat []int
	for i, it := range items {
		switch jsonKind(it) {
		case "string":
			var s string
			if err := json.Unmarshal(it, &s); err != nil {
				return err
			}
			p.strings = append(p.strings, s)
		case "number":
			var id int
			if err := json.Unmarshal(it, &id); err != nil || id < 0 {
				return &wireError{fmt.Sprintf("stop[%d]: a token id must be a non-negative integer.", i)}
			}
			flat = append(flat, id)
		case "array":
			var seq []int
			if err := json.Unmarshal(it, &seq); err != nil || len(seq) == 0 || slicesHasNegative(seq) {
				return &wireError{fmt.Sprintf("stop[%d]: a token-id sequence must be a non-empty array of non-negative integers.", i)}
			}
			p.tokens = append(p.tokens, seq)
		default:
			return &wireError{fmt.Sprintf("stop[%d]: expected a string, a token id or an array of token ids, but got %s instead.", i, article(jsonKind(it)))}
		}
	}
	if len(flat) > 0 {
		p.tokens = append(p.tokens, flat)
	}
	return nil
}

func slicesHasNegative(s []int) bool {
	for _, v := range s {
		if v < 0 {
			return true
		}
	}
	return false
}

// cutAtStopTokens returns ids before the earliest occurrence of any token sequence.
func cutAtStopTokens(ids []int, seqs [][]int) ([]int, bool) {
	best := -1
	for _, seq := range seqs {
		if len(seq) == 0 {
			continue
		}
	scan:
		for i := 0; i+len(seq) <= len(ids) && (best < 0 || i < best); i++ {
			for j, id := range seq {
				if ids[i+j] != id {
					continue scan
				}
			}
			best = i
			break
		}
	}
	if best < 0 {
		return ids, false
	}
	return ids[:best], true
}
