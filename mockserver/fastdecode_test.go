package mockserver

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/brianvoe/gofakeit/v7"

	"github.com/qwenmock/qwenmock/mockserver/tokenizer"
)

var fastDecodeBodies = []string{
	`{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}]}`,
	`{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"stream":true}`,
	` { "model" : "qwen-plus" , "messages" : [ { "content" : "a\nb \"q\" \u00e9", "role" : "system" } , {"role":"user","content":"héllo"} ] , "stream" : false } `,
	`{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}`,
	`{"stream_options":{},"messages":[{}]}`,
	`{}`,
	`{"messages":[{"role":"tester","content":"x"}]}`,
	"{\"model\":\"\xff\xfe\",\"messages\":[]}",
	`{"model":"a","model":"b"}`,
	`{"Model":"a"}`,
	`{"model":null}`,
	`{"model":"a"} {}`,
	`{"model":"a",}`,
	`{"model":"a"`,
	`{"messages":[{"role":"user","content":"hi"},]}`,
	`{"messages":[{"role":"user","content":["x"]}]}`,
	`{"stream":tru}`,
	`{"temperature":0.5,"model":"a"}`,
	"{\"model\":\"a\tb\"}",
	`{"model":"a\"}`,
	`[]`,
	``,
}

// TestFastCompatDecoder checks that the fast decoder, whenever it accepts a body, fills the
// wire struct exactly as encoding/json does, and accepts only what encoding/json accepts.
func TestFastCompatDecoder(t *testing.T) {
	accepted := 0
	for _, body := range fastDecodeBodies {
		if checkFastDecode(t, []byte(body)) {
			accepted++
		}
	}
	if accepted < 6 {
		t.Errorf("the fast decoder accepted %d of the common bodies", accepted)
	}
}

func checkFastDecode(t *testing.T, body []byte) bool {
	t.Helper()
	var fast compatRequestWire
	if !fastCompatRequest(body, &fast) {
		return false
	}
	var slow compatRequestWire
	if err := decodeStrict(body, &slow); err != nil {
		t.Fatalf("fast decoder accepted %q, encoding/json refuses it: %v", body, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%q: fast decoder gives %+v, encoding/json %+v", body, fast, slow)
	}
	return true
}

func FuzzFastCompatDecoder(f *testing.F) {
	for _, b := range fastDecodeBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkFastDecode(t, body) })
}

// TestGeneratedTokensMatchEncode checks that the token ids of generated prose, assembled from
// the sentences' precomputed ids, are the ids the tokenizer gives the whole text.
func TestGeneratedTokensMatchEncode(t *testing.T) {
	if !poolTokenizable() {
		t.Fatal("a pool sentence breaks the assumptions of sentenceTokens")
	}
	tok := tokenizer.Default()
	check := func(text string, ids []int) {
		t.Helper()
		if want := tok.Encode(text); !slices.Equal(ids, want) {
			t.Fatalf("%q: assembled ids %v, Encode gives %v", text, ids, want)
		}
	}
	for seed := range uint64(2000) {
		f := gofakeit.NewFaker(rand.NewPCG(seed, 7), false)
		text, ids := generateProseTokens(f, tok)
		check(text, ids)
		g := gofakeit.NewFaker(rand.NewPCG(seed, 7), false)
		if plain := generateProse(g); plain != text {
			t.Fatalf("seed %d: the text depends on whether ids are asked for", seed)
		}
		text, ids = generateReasoningTokens(f, tok)
		check(text, ids)
	}
	// Every sentence in every form, next to another sentence.
	pool := sentencePool()
	for i := range pool {
		j := (i*7919 + 1) % len(pool)
		check(pool[i]+" "+pool[j], slices.Concat(sentenceTokens(tok, i, 0), sentenceTokens(tok, j, unitSpace)))
		check(pool[j]+" "+pool[i]+"\n\n"+pool[j], slices.Concat(sentenceTokens(tok, j, 0),
			sentenceTokens(tok, i, unitSpace|unitBreak), sentenceTokens(tok, j, 0)))
		check(pool[i]+"\n\n"+pool[j], slices.Concat(sentenceTokens(tok, i, unitBreak), sentenceTokens(tok, j, 0)))
	}
}

// TestCompatCompletionEncoding checks the hand-written completion body against the reflective
// encoding, with thinking, tool calls and text that needs escaping.
func TestCompatCompletionEncoding(t *testing.T) {
	for _, thinking := range []bool{false, true} {
		c := &call{id: "a-b", created: 1700000000, modelID: "qwen3-max", promptTokens: 12, thinking: thinking}
		res := &result{completionTokens: 9, reasoningTokens: 2, choices: []choiceResult{
			{index: 0, text: "line\n\"quoted\" <tag> & \u2028 é", reasoning: "think\tmore", finish: "stop"},
			{index: 1, finish: "tool_calls", toolCalls: []toolCallOut{{ID: "call_1", Name: "f", Arguments: `{"a":"<b>"}`}}},
		}}
		if got, want := string(appendCompatCompletion(nil, c, res)), string(compatCompletionReflect(c, res)); got != want {
			t.Fatalf("thinking %v:\n got %s\nwant %s", thinking, got, want)
		}
	}
}
