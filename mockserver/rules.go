package mockserver

import (
	"fmt"
	"math"
	"math/big"
)

// Request rules found after the first catalogue (spec/api.md §4.1), shape-neutral: the core
// applies them to every wire shape, each answering in its own envelope.

// Exact texts of spec/api.md §4.1.
const (
	thinkingBudgetMessage = "The thinking_budget parameter must be a positive integer and not greater than %d"
	jsonThinkingMessage   = "Json mode response is not supported when enable_thinking is true"
	toolChoiceThinking    = "The tool_choice parameter does not support being set to required or object in thinking mode"
	searchToolMessage     = "Tool names are not allowed to be [search]"
	mediaPartMessage      = "The provided messages input is invalid. The error info is [Unexpected item type in content.]."
	systemFirstMessage    = "The provided messages input is invalid. The error info is [System message must be at the beginning.]."
)

// Seed ranges: the compatible endpoint accepts [0, 2^31−1], the native one [0, 2^63−1].
var (
	compatSeedMax = big.NewInt(1<<31 - 1)
	nativeSeedMax = new(big.Int).SetUint64(1<<63 - 1)
)

// checkSeed applies the seed range with the real message, which quotes the value and the
// bound as sent: "-1 is lesser than the minimum of 0 - 'seed'".
func checkSeed(seed jsonInt, hi *big.Int) *Error {
	if !seed.set {
		return nil
	}
	v, ok := new(big.Int).SetString(seed.text(), 10)
	if !ok { // an integral value written with a fraction or exponent, e.g. 5.0 or 1e300
		v = nil
		if !math.IsInf(seed.v, 0) {
			v, _ = new(big.Float).SetFloat64(seed.v).Int(nil)
		}
		if v == nil {
			v = big.NewInt(int64(math.Copysign(1, seed.v)) * (1 << 62))
			v.Mul(v, big.NewInt(4)) // beyond every bound, on the side of its sign
		}
	}
	switch {
	case v.Sign() < 0:
		return errSeed(fmt.Sprintf("%s is lesser than the minimum of 0 - 'seed'", seed.text()))
	case v.Cmp(hi) > 0:
		return errSeed(fmt.Sprintf("%s is greater than the maximum of %s - 'seed'", seed.text(), hi))
	}
	return nil
}

// checkThinkingRules applies the rules that tie thinking mode to other parameters.
func checkThinkingRules(req *chatRequest, m *Model, thinking bool) *Error {
	if req.ThinkingBudget.set && m.MaxReasoningTokens > 0 && !req.ThinkingBudget.intIn(1, float64(m.MaxReasoningTokens)) {
		return errInvalidParameter(fmt.Sprintf(thinkingBudgetMessage, m.MaxReasoningTokens))
	}
	if !thinking {
		return nil
	}
	if req.ResponseFormat == "json_object" {
		return errInvalidParameter(jsonThinkingMessage)
	}
	if len(req.Tools) > 0 && (req.ToolChoice.Mode == "required" || req.ToolChoice.Mode == "function") {
		return errInvalidParameter(toolChoiceThinking)
	}
	return nil
}

// checkToolNames refuses the reserved tool name "search".
func checkToolNames(tools []toolDef) *Error {
	for _, t := range tools {
		if t.Name == "search" {
			return errInvalidParameter(searchToolMessage)
		}
	}
	return nil
}

// checkSystemFirst refuses a system message anywhere but first (and so a second one).
func checkSystemFirst(msgs []chatMessage) *Error {
	for i, m := range msgs {
		if m.Role == "system" && i > 0 {
			return newError("algo_invalid_parameter", systemFirstMessage)
		}
	}
	return nil
}

// errSeed is the seed range error: code invalid_value in the compatible shape.
func errSeed(msg string) *Error { return newError("invalid_value", msg) }

// checkMedia refuses image, audio and video parts: every model of the catalogue is a text
// model. The core checks it once the model is known (an unknown vision model still gets
// model_not_found) and before the model's own rules.
func checkMedia(msgs []chatMessage) *Error {
	for _, m := range msgs {
		for _, p := range m.Parts {
			if p.Type != "text" {
				return newError("algo_invalid_parameter", mediaPartMessage)
			}
		}
	}
	return nil
}
