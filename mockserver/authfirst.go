package mockserver

import (
	"io"
	"net/http"
)

// peekBodyBytes is how much of an unauthenticated request's body is read to tell whether it
// asked for a stream (its 401 is then framed as a stream error, as every error before a
// stream starts is).
const peekBodyBytes = 64 << 10

// peekBody returns the body of a request that failed authentication if it is at most
// peekBodyBytes long, else nil (the 401 then goes out unframed). The rest of a longer body is
// never read, and nothing of it is journaled.
func peekBody(r *http.Request) []byte {
	if r.Body == nil || r.ContentLength > peekBodyBytes {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, peekBodyBytes+1))
	if err != nil || len(b) > peekBodyBytes {
		return nil
	}
	return b
}
