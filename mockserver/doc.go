// Package mockserver is an offline stand-in for Alibaba's Qwen3-Max API (Model Studio /
// DashScope): the same paths, JSON field order, SSE framing, error codes and messages, and
// token counts (with the real Qwen vocabulary) as the real service.
//
// A Server is an http.Handler that opens no socket:
//
//	srv, err := mockserver.New(mockserver.WithSeed(7), mockserver.WithMaxInputTokens(100))
//	if err != nil { ... }
//	http.ListenAndServe("127.0.0.1:8080", srv)
//
// In Go tests, NewTestServer starts one on a free port and closes it when the test ends:
//
//	ts := mockserver.NewTestServer(t)
//	client := openai.NewClient(option.WithBaseURL(ts.OpenAIBaseURL()), option.WithAPIKey("sk-test"))
//
// Generated replies are a pure function of the seed and the request. The request pipeline
// is shared by every wire shape: auth, validation, token counting, the context-window check,
// the reply and its truncation at max_tokens; each shape only decodes and encodes.
package mockserver
