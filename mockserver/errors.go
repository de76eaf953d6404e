package mockserver

import (
	"fmt"
	"net/http"
	"sort"
)

// Error is one entry of the real service's error catalogue (spec/api.md §4): the HTTP status
// and the code and message in each wire shape. The core raises an *Error; each wire adapter
// turns it into its own envelope in one place (writeCompatError, nativeErrorBody).
type Error struct {
	// Kind names the error, e.g. "rate_limit_requests"; faults and fixtures use these names.
	Kind   string
	Status int

	NativeCode    string
	NativeMessage string

	CompatCode    string
	CompatType    string
	CompatMessage string

	// Backend marks errors raised by the model backend; in the compatible shape their body
	// also carries "id":"chatcmpl-<request id>".
	Backend bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.CompatCode, e.CompatMessage)
}

const (
	docLink   = "https://www.alibabacloud.com/help/en/model-studio/error-code"
	algoParam = "<400> InternalError.Algo.InvalidParameter: "
)

// catalogue holds the errors that exist independently of a request's content. Faults and
// fixtures name them by Kind.
var catalogue = map[string]Error{
	"no_api_key": {
		Status: http.StatusUnauthorized, NativeCode: "InvalidApiKey", NativeMessage: "No API-key provided.",
		CompatCode: "invalid_api_key", CompatType: "invalid_request_error", CompatMessage: "No API-key provided.",
	},
	"invalid_api_key": {
		Status: http.StatusUnauthorized, NativeCode: "InvalidApiKey", NativeMessage: "Invalid API-key provided.",
		CompatCode: "invalid_api_key", CompatType: "invalid_request_error",
		CompatMessage: "Incorrect API key provided. For details, see: " + docLink + "#apikey-error",
	},
	"rate_limit_requests": {
		Status: http.StatusTooManyRequests, NativeCode: "Throttling.RateQuota",
		NativeMessage: "Requests rate limit exceeded, please try again later.",
		CompatCode:    "limit_requests", CompatType: "limit_requests",
		CompatMessage: "You have exceeded your current request limit. For details, see: " + docLink + "#rate-limit",
	},
	"rate_limit_tokens": {
		Status: http.StatusTooManyRequests, NativeCode: "Throttling.AllocationQuota",
		NativeMessage: "Allocated quota exceeded, please increase your quota limit.",
		CompatCode:    "insufficient_quota", CompatType: "insufficient_quota",
		CompatMessage: "You exceeded your current quota, please check your plan and billing details. For details, see: " + docLink + "#token-limit",
	},
	"burst": {
		Status: http.StatusTooManyRequests, NativeCode: "Throttling.BurstRate",
		NativeMessage: burstMessage, CompatCode: "limit_burst_rate", CompatType: "limit_burst_rate", CompatMessage: burstMessage,
	},
	"data_inspection": {
		Status: http.StatusBadRequest, NativeCode: "DataInspectionFailed", NativeMessage: "Input data may contain inappropriate content.",
		CompatCode: "data_inspection_failed", CompatType: "data_inspection_failed", CompatMessage: "Input data may contain inappropriate content.",
	},
	"data_inspection_output": {
		Status: http.StatusBadRequest, NativeCode: "DataInspectionFailed", NativeMessage: "Output data may contain inappropriate content.",
		CompatCode: "data_inspection_failed", CompatType: "data_inspection_failed", CompatMessage: "Output data may contain inappropriate content.",
	},
	"arrearage": {
		Status: http.StatusBadRequest, NativeCode: "Arrearage", NativeMessage: arrearageMessage,
		CompatCode: "Arrearage", CompatType: "Arrearage", CompatMessage: arrearageMessage,
	},
	"free_tier_exhausted": {
		Status: http.StatusForbidden, NativeCode: "AllocationQuota.FreeTierOnly", NativeMessage: freeTierMessage,
		CompatCode: "AllocationQuota.FreeTierOnly", CompatType: "AllocationQuota.FreeTierOnly", CompatMessage: freeTierMessage,
	},
	"internal": {
		Status: http.StatusInternalServerError, NativeCode: "InternalError", NativeMessage: internalMessage,
		CompatCode: "internal_server_error", CompatType: "internal_server_error", CompatMessage: internalMessage, Backend: true,
	},
	"overloaded": {
		Status: http.StatusServiceUnavailable, NativeCode: "ServiceUnavailable", NativeMessage: overloadedMessage,
		CompatCode: "ServiceUnavailable", CompatType: "ServiceUnavailable", CompatMessage: overloadedMessage, Backend: true,
	},
	"timeout": {
		Status: http.StatusInternalServerError, NativeCode: "RequestTimeOut", NativeMessage: "Request timed out, please try again later.",
		CompatCode: "RequestTimeOut", CompatType: "RequestTimeOut", CompatMessage: "Request timed out, please try again later.",
	},
	"too_large": {
		Status: http.StatusRequestEntityTooLarge, NativeCode: "BadRequest.TooLarge", NativeMessage: "Payload Too Large.",
		CompatCode: "BadRequest.TooLarge", CompatType: "BadRequest.TooLarge", CompatMessage: "Payload Too Large.",
	},
	"missing_model": {
		Status: http.StatusBadRequest, NativeCode: "InvalidParameter", NativeMessage: "you must provide a model parameter",
		CompatCode: "invalid_request_error", CompatType: "invalid_request_error", CompatMessage: "you must provide a model parameter",
	},
	"empty_messages": {
		Status: http.StatusBadRequest, NativeCode: "InvalidParameter", NativeMessage: "[] is too short - 'messages'",
		CompatCode: "invalid_parameter_error", CompatType: "invalid_request_error", CompatMessage: "[] is too short - 'messages'",
	},
	// Not an error of the real service: the shared rate limits of WithRedis cannot be
	// checked because Redis cannot be reached.
	"rate_limit_store_unavailable": {
		Status: http.StatusServiceUnavailable, NativeCode: "ServiceUnavailable", NativeMessage: storeUnavailableMessage,
		CompatCode: "ServiceUnavailable", CompatType: "ServiceUnavailable", CompatMessage: storeUnavailableMessage,
	},
	"json_mode_without_json": {
		Status: http.StatusBadRequest, NativeCode: "InvalidParameter", NativeMessage: jsonModeMessage,
		CompatCode: "invalid_parameter_error", CompatType: "invalid_request_error", CompatMessage: jsonModeMessage,
	},
}

const (
	burstMessage      = "Request rate increased too quickly. To ensure system stability, please adjust your client logic to scale requests more smoothly over time."
	arrearageMessage  = "Access denied, please make sure your account is in good standing. For details, see: " + docLink + "#overdue-payment"
	freeTierMessage   = `The free tier of the model has been exhausted. If you wish to continue access the model on a paid basis, please disable the "use free tier only" mode in the management console.`
	internalMessage   = "<500> InternalError.Algo: An error occurred in model serving, error message is: [Inference engine abort. Finish reason: [UNKNOWN].]"
	overloadedMessage = "<503> InternalError.Algo: An error occurred in model serving, error message is: [Too many requests. Your requests are being throttled due to system capacity limits. Please try again later.]"
	jsonModeMessage   = "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'."

	storeUnavailableMessage = "qwenmock: the rate-limit store (Redis) cannot be reached, so this request cannot be checked against the shared limits. Retry when it is back, or start qwenmock with --redis-fail-open."
)

// errorOf returns a copy of the catalogue entry kind. It panics on an unknown kind: kinds
// are constants of this package, and user-supplied names are checked with IsErrorKind first.
func errorOf(kind string) *Error {
	e, ok := catalogue[kind]
	if !ok {
		panic("mockserver: unknown error kind " + kind)
	}
	e.Kind = kind
	return &e
}

// ErrorKinds lists the names of the catalogue errors, sorted.
func ErrorKinds() []string {
	kinds := make([]string, 0, len(catalogue))
	for k := range catalogue {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// IsErrorKind reports whether kind names a catalogue error.
func IsErrorKind(kind string) bool { _, ok := catalogue[kind]; return ok }

// errInvalidParameter is a 400 InvalidParameter raised by the model backend: the compatible
// shape prefixes the message with "<400> InternalError.Algo.InvalidParameter: " and carries
// the chatcmpl id, as in the real captures of range errors.
func errInvalidParameter(msg string) *Error {
	return &Error{
		Kind: "invalid_parameter", Status: http.StatusBadRequest,
		NativeCode: "InvalidParameter", NativeMessage: msg,
		CompatCode: "invalid_parameter_error", CompatType: "invalid_request_error", CompatMessage: algoParam + msg,
		Backend: true,
	}
}

// errBadRequest is a 400 InvalidParameter raised before the model (request decoding and
// schema checks): no algo prefix, no chatcmpl id.
func errBadRequest(msg string) *Error {
	return &Error{
		Kind: "invalid_parameter", Status: http.StatusBadRequest,
		NativeCode: "InvalidParameter", NativeMessage: msg,
		CompatCode: "invalid_parameter_error", CompatType: "invalid_request_error", CompatMessage: msg,
	}
}

// errContextLength is the context-window rejection: input longer than the model's max input.
func errContextLength(maxInput int) *Error {
	e := errInvalidParameter(fmt.Sprintf("Range of input length should be [1, %d]", maxInput))
	e.Kind = "context_length"
	return e
}

// errModelNotFound is the 404 for a model outside the catalogue.
func errModelNotFound(model string) *Error {
	return &Error{
		Kind: "model_not_found", Status: http.StatusNotFound,
		NativeCode: "ModelNotFound", NativeMessage: "Model can not be found.",
		CompatCode: "model_not_found", CompatType: "invalid_request_error",
		CompatMessage: "The model `" + model + "` does not exist or you do not have access to it.",
	}
}

// errNotFound answers a path the real API does not serve.
func errNotFound(method, path string) *Error {
	msg := fmt.Sprintf("No route for %s %s.", method, path)
	return &Error{
		Kind: "not_found", Status: http.StatusNotFound,
		NativeCode: "NotFound", NativeMessage: msg,
		CompatCode: "not_found", CompatType: "invalid_request_error", CompatMessage: msg,
	}
}

// errMethodNotAllowed answers a known path called with the wrong method.
func errMethodNotAllowed(method, path string) *Error {
	msg := fmt.Sprintf("Method %s is not allowed on %s.", method, path)
	return &Error{
		Kind: "method_not_allowed", Status: http.StatusMethodNotAllowed,
		NativeCode: "MethodNotAllowed", NativeMessage: msg,
		CompatCode: "method_not_allowed", CompatType: "invalid_request_error", CompatMessage: msg,
	}
}
