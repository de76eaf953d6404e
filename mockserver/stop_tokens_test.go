package mockserver

import (
	"fmt"
	"testing"

	"github.com/qwenmock/qwenmock/mockserver/tokenizer"
)

// TestStopTokenIDs: "stop" as lists of token ids stops generation where that sequence would
// appear, on both endpoints; a flat list is one sequence.
func TestStopTokenIDs(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t)
	base := `{"model":"qwen3-max","messages":[{"role":"user","content":"Tell me about Hangzhou."}],"max_tokens":40`
	full := complete(t, ts, base+`}`).Choices[0].Content
	ids := tokenizer.Default().Encode(full)
	if len(ids) < 10 {
		t.Fatalf("reply too short: %q", full)
	}
	cut := 5
	for i := range cut { // the first occurrence of ids[5:7] must be at 5
		if ids[i] == ids[cut] && ids[i+1] == ids[cut+1] {
			t.Skip("the sequence occurs earlier")
		}
	}
	want := tokenizer.Default().Decode(ids[:cut])
	for _, stop := range []string{fmt.Sprintf(`[[%d, %d]]`, ids[cut], ids[cut+1]), fmt.Sprintf(`[%d, %d]`, ids[cut], ids[cut+1]),
		fmt.Sprintf(`[[999999], [%d, %d]]`, ids[cut], ids[cut+1])} {
		r := bothWays(t, ts, base+`,"stop":`+stop+`}`)
		if r.Choices[0].Content != want || r.Choices[0].Finish != "stop" || r.Usage.CompletionTokens != cut {
			t.Errorf("stop %s: %q (%s, %d tokens), want %q", stop, r.Choices[0].Content, r.Choices[0].Finish, r.Usage.CompletionTokens, want)
		}
	}
	resp, out := postNative(t, ts, fmt.Sprintf(`{"model":"qwen3-max","input":{"messages":[{"role":"user","content":"Tell me about Hangzhou."}]},"parameters":{"max_tokens":40,"stop":[[%d,%d]]}}`, ids[cut], ids[cut+1]))
	if resp.StatusCode != 200 || nativeChoiceOf(t, out, false).Content != want {
		t.Errorf("native: %d %s", resp.StatusCode, out)
	}
	for _, bad := range []string{`[[-1]]`, `[[]]`, `[{"a":1}]`, `5`} {
		if st, out := post(t, ts, base+`,"stop":`+bad+`}`); st != 400 {
			t.Errorf("stop %s: %d %s", bad, st, out)
		}
	}
}
