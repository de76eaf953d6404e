package mockserver

import (
	"fmt"
	"net/http"
)

// The errors of the bounds and locks in control_guard.go, keys.go and toolgen.go. All are
// conditions of the mock itself (errMock): every shape answers them with the kind as code.

// writeControlError answers a control request with e in the compatible envelope.
func (s *Server) writeControlError(w http.ResponseWriter, r *http.Request, e *Error) {
	writeCompatError(w, e, s.cfg.newRequestID())
}

func errAdminToken() *Error {
	return errMock("invalid_admin_token", "The control API needs Authorization: Bearer <admin token>.")
}

func errControlForbidden(msg string) *Error { return errMock("control_api_forbidden", msg) }

func errUnsupportedMediaType() *Error {
	return errMock("unsupported_media_type", "Control API bodies must be sent with Content-Type: application/json.")
}

// errKeyTooLong answers a key longer than MaxAPIKeyBytes.
func errKeyTooLong() *Error {
	return errMock("api_key_too_long", fmt.Sprintf("Invalid API-key provided: it is longer than %d bytes.", MaxAPIKeyBytes))
}

// errToolSchema answers a request whose chosen tool has a parameters schema that no
// arguments can be generated for: unsatisfiable, or beyond the generator's budget (5,000
// values, 256 KiB of strings, 200,000 validation steps). The real model would still write
// something; the mock refuses rather than send arguments that break the schema.
func errToolSchema(tool string, err error) *Error {
	return errMock("tool_schema_unsupported", fmt.Sprintf(
		"qwenmock cannot generate arguments for tool '%s' that validate against its parameters schema: %v.", tool, err))
}
