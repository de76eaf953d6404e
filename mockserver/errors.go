package mockserver

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Error is an error the core raises, independent of any wire shape: a kind, the HTTP
// status that kind answers with, and the parameters of its message (a model name, the text
// of a parameter check, …). Each wire adapter owns a table that turns a kind into its own
// code, type and message, and writes its own envelope; the core never sees a shape's code.
type Error struct {
	// Kind names the error, e.g. "rate_limit_requests"; faults and fixtures use these names.
	Kind   string
	Status int
	// Args are the message parameters; an adapter's message template refers to them as
	// {0}, {1}, ….
	Args []string
}

func (e *Error) Error() string {
	if len(e.Args) == 0 {
		return fmt.Sprintf("%d %s", e.Status, e.Kind)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Kind, strings.Join(e.Args, " "))
}

// kindInfo describes an error kind to the core: its status and who may raise it.
type kindInfo struct {
	status int
	// public kinds may be named by faults and fixtures (ErrorKinds).
	public bool
	// mock kinds are conditions of the mock itself (fixtures, faults, the control API), not
	// of the real service; every adapter answers them with the kind as code and {0} as message.
	mock bool
}

// errorKinds is the table of every kind the core raises. The messages live in each wire
// adapter's table; a test checks that every adapter knows every kind.
var errorKinds = map[string]kindInfo{
	// The real service's errors that exist independently of a request's content
	// (https://www.alibabacloud.com/help/en/model-studio/error-code).
	"no_api_key":             {status: http.StatusUnauthorized, public: true},
	"invalid_api_key":        {status: http.StatusUnauthorized, public: true},
	"rate_limit_requests":    {status: http.StatusTooManyRequests, public: true},
	"rate_limit_tokens":      {status: http.StatusTooManyRequests, public: true},
	"burst":                  {status: http.StatusTooManyRequests, public: true},
	"data_inspection":        {status: http.StatusBadRequest, public: true},
	"data_inspection_output": {status: http.StatusBadRequest, public: true},
	"arrearage":              {status: http.StatusBadRequest, public: true},
	"free_tier_exhausted":    {status: http.StatusForbidden, public: true},
	"internal":               {status: http.StatusInternalServerError, public: true},
	"overloaded":             {status: http.StatusServiceUnavailable, public: true},
	"timeout":                {status: http.StatusInternalServerError, public: true},
	"too_large":              {status: http.StatusRequestEntityTooLarge, public: true},
	"missing_model":          {status: http.StatusBadRequest, public: true},
	"empty_messages":         {status: http.StatusBadRequest, public: true},
	"json_mode_without_json": {status: http.StatusBadRequest, public: true},

	// Errors with parameters.
	"invalid_parameter":  {status: http.StatusBadRequest}, // {0}: a parameter check of the model backend
	"bad_request":        {status: http.StatusBadRequest}, // {0}: a decoding or schema check before the model
	"context_length":     {status: http.StatusBadRequest}, // {0}: the model's max input tokens
	"model_not_found":    {status: http.StatusNotFound},   // {0}: the model as named
	"not_found":          {status: http.StatusNotFound},   // {0} method, {1} path
	"method_not_allowed": {status: http.StatusMethodNotAllowed},
	// The rules and texts found after the first catalogue (rules.go).
	"invalid_value":          {status: http.StatusBadRequest}, // {0}: a value outside its schema range, e.g. the seed
	"algo_invalid_parameter": {status: http.StatusBadRequest}, // {0}: a backend check whose captured text has the algo prefix in every shape
	"url_error":              {status: http.StatusBadRequest}, // a path under the native base that does not exist
	"async_not_supported":    {status: http.StatusForbidden},  // X-DashScope-Async: enable on text generation

	// Conditions of the mock itself; {0} is the message.
	"invalid_control_request": {status: http.StatusBadRequest, mock: true},
	"invalid_admin_token":     {status: http.StatusUnauthorized, mock: true},
	"invalid_fault":           {status: http.StatusBadRequest, mock: true},
	"fixture_not_found":       {status: http.StatusBadRequest, mock: true},
	"no_fixture_matched":      {status: http.StatusBadRequest, mock: true},
	"control_api_forbidden":   {status: http.StatusForbidden, mock: true},
	"unsupported_media_type":  {status: http.StatusUnsupportedMediaType, mock: true},
	"tool_schema_unsupported": {status: http.StatusBadRequest, mock: true},
	"api_key_too_long":        {status: http.StatusUnauthorized, mock: true},
	// The shared rate limits of WithRedis cannot be checked: Redis cannot be reached.
	"rate_limit_store_unavailable": {status: http.StatusServiceUnavailable, mock: true},
	"server_busy":                  {status: http.StatusServiceUnavailable, mock: true},
}

// newError raises kind with its message parameters. It panics on an unknown kind: kinds are
// constants of this package, and user-supplied names are checked with IsErrorKind first.
func newError(kind string, args ...string) *Error {
	k, ok := errorKinds[kind]
	if !ok {
		panic("mockserver: unknown error kind " + kind)
	}
	return &Error{Kind: kind, Status: k.status, Args: args}
}

// errorOf raises a kind that takes no parameters.
func errorOf(kind string) *Error { return newError(kind) }

// ErrorKinds lists the kinds that faults and fixtures may name, sorted.
func ErrorKinds() []string {
	kinds := make([]string, 0, len(errorKinds))
	for k, info := range errorKinds {
		if info.public {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	return kinds
}

// IsErrorKind reports whether kind is one that faults and fixtures may name.
func IsErrorKind(kind string) bool { return errorKinds[kind].public }

// isMockKind reports whether kind is a condition of the mock rather than of the real service.
func isMockKind(kind string) bool { return errorKinds[kind].mock }

// errInvalidParameter is a 400 raised by the model backend for a parameter out of range.
func errInvalidParameter(msg string) *Error { return newError("invalid_parameter", msg) }

// errBadRequest is a 400 raised before the model (request decoding and schema checks).
func errBadRequest(msg string) *Error { return newError("bad_request", msg) }

// errContextLength is the context-window rejection: input longer than the model's max input.
func errContextLength(maxInput int) *Error {
	return newError("context_length", fmt.Sprint(maxInput))
}

// errModelNotFound is the 404 for a model outside the model list.
func errModelNotFound(model string) *Error { return newError("model_not_found", model) }

// errNotFound answers a path the real API does not serve.
func errNotFound(method, path string) *Error { return newError("not_found", method, path) }

// errMethodNotAllowed answers a known path called with the wrong method.
func errMethodNotAllowed(method, path string) *Error {
	return newError("method_not_allowed", method, path)
}

// errMock raises a condition of the mock itself (fixtures, faults, the control API).
func errMock(kind, msg string) *Error { return newError(kind, msg) }

// expandMessage fills a message template's {0}, {1}, … with args.
func expandMessage(tmpl string, args []string) string {
	if len(args) == 0 || !strings.Contains(tmpl, "{") {
		return tmpl
	}
	pairs := make([]string, 0, 2*len(args))
	for i, a := range args {
		pairs = append(pairs, fmt.Sprintf("{%d}", i), a)
	}
	return strings.NewReplacer(pairs...).Replace(tmpl)
}
