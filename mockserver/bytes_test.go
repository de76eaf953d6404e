package mockserver

import (
	"testing"
)

// Table tests for the helpers whose output must match the real service byte for byte.

func TestPythonJSON(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{`{}`, `{}`},
		{`[]`, `[]`},
		{`{"a":1,"b":[true,false,null,"x"]}`, `{"a": 1, "b": [true, false, null, "x"]}`},
		{`{"b":1,"a":2}`, `{"b": 1, "a": 2}`},                               // key order kept
		{`{"n":1.0,"e":1e5,"m":-0.50}`, `{"n": 1.0, "e": 1e5, "m": -0.50}`}, // number literals kept
		{`{"城市":"北京"}`, `{"城市": "北京"}`},                                     // non-ASCII kept
		{`"\u00e9\u4e2d"`, `"é中"`},
		{`"a\/b"`, `"a/b"`},
		{`"q\"b\\s"`, `"q\"b\\s"`},
		{`"\n\r\t\b\f"`, `"\n\r\t\b\f"`},
		{`"\u0001\u001f"`, `"\u0001\u001f"`},
		{"\"\u007f\u2028\"", "\"\u007f\u2028\""},
		{`{"a":{"b":{}}}`, `{"a": {"b": {}}}`},
		{` { "a" : [ 1 , 2 ] } `, `{"a": [1, 2]}`},
		{`{"a":`, `{"a":`}, // invalid JSON comes back unchanged
	}
	for _, tc := range cases {
		if got := pythonJSON([]byte(tc.in)); got != tc.want {
			t.Errorf("pythonJSON(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestCutAtStop(t *testing.T) {
	t.Parallel()
	cases := []struct {
		text  string
		stops []string
		want  string
		cut   bool
	}{
		{"hello world", nil, "hello world", false},
		{"hello world", []string{"xyz"}, "hello world", false},
		{"hello world", []string{"wor"}, "hello ", true},
		{"hello world", []string{"o", "l"}, "he", true}, // the earliest match wins
		{"hello world", []string{"hello"}, "", true},
		{"hello world", []string{"", "d"}, "hello worl", true}, // an empty stop is ignored
		{"abc", []string{""}, "abc", false},
		{"你好，世界", []string{"世"}, "你好，", true},
	}
	for _, tc := range cases {
		got, cut := cutAtStop(tc.text, tc.stops)
		if got != tc.want || cut != tc.cut {
			t.Errorf("cutAtStop(%q, %q) = %q, %v; want %q, %v", tc.text, tc.stops, got, cut, tc.want, tc.cut)
		}
	}
}

func TestRedactKey(t *testing.T) {
	t.Parallel()
	// The "sk-" prefix, the last four characters of keys of 20 bytes or more, and 12 hex
	// digits of the key's SHA-256.
	cases := []struct{ key, want string }{
		{"sk-1234567890abcdefgh", "sk-…efgh#b607a8c6e1c5"},
		{"sk-1234567890abcdef", "sk-…#dd65e03569cf"},
		{"sk-123456", "sk-…#16d87a742d37"},
		{"abcdefghij", "…#72399361da6a"},
		{"x", "…#2d711642b726"},
		{"", "…#e3b0c44298fc"},
	}
	for _, tc := range cases {
		if got := redactKey(tc.key); got != tc.want {
			t.Errorf("redactKey(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestFaultFromHeader(t *testing.T) {
	t.Parallel()
	cases := []struct {
		header string
		want   Fault
		err    string // the message of the invalid_fault error, if any
	}{
		{"internal", Fault{Kind: "internal"}, ""},
		{" timeout ", Fault{Kind: "timeout"}, ""},
		{"stream_drop; after_chunks=2", Fault{Kind: "stream_drop", AfterChunks: 2}, ""},
		{"slow_headers;delay_ms= 150", Fault{Kind: "slow_headers", DelayMs: 150}, ""},
		{"internal; after_chunks=3; delay_ms=4", Fault{Kind: "internal", AfterChunks: 3, DelayMs: 4}, ""},
		{"internal; after_chunks=x", Fault{}, `X-Mock-Fault: "x" is not a number.`},
		{"internal; after_chunks", Fault{}, `X-Mock-Fault: "" is not a number.`},
		{"internal; retries=1", Fault{}, `X-Mock-Fault: unknown parameter "retries" (after_chunks, delay_ms).`},
		{"internal; after_chunks=-1", Fault{}, `X-Mock-Fault: count, after_chunks and delay_ms must not be negative.`},
	}
	for _, tc := range cases {
		got, e := faultFromHeader(tc.header)
		switch {
		case tc.err == "" && e != nil:
			t.Errorf("%q: unexpected error %v", tc.header, e)
		case tc.err == "" && got != tc.want:
			t.Errorf("%q: got %+v, want %+v", tc.header, got, tc.want)
		case tc.err != "" && (e == nil || e.Kind != "invalid_fault" || len(e.Args) != 1 || e.Args[0] != tc.err):
			t.Errorf("%q: error %v, want invalid_fault %q", tc.header, e, tc.err)
		}
	}
	// An unknown kind names the known ones.
	if _, e := faultFromHeader("gremlins"); e == nil || e.Kind != "invalid_fault" || e.Status != 400 {
		t.Errorf("unknown kind: %v", e)
	}
}
