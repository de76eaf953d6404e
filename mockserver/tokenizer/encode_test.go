package tokenizer

import (
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Reference ids from the Hugging Face Qwen tokenizer.
func TestEncodeReference(t *testing.T) {
	t.Parallel()
	tk := Default()
	tests := []struct {
		in   string
		want []int
	}{
		{"Hello", []int{9707}},
		{"hello world", []int{14990, 1879}},
		{"你好", []int{108386}},
		{"33", []int{18, 18}},
		{"", []int{}},
		{" Hello world", []int{21927, 1879}},
		{"Hello, world!", []int{9707, 11, 1879, 0}},
		{"Führer", []int{37, 50753, 261}},
		{"   ", []int{262}},
		{"\n\n\n", []int{1406}},
		{"\t\n", []int{1572}},
		{"    Hello\n    Hello", []int{262, 21927, 198, 262, 21927}},
		{"' era", []int{6, 11385}},
		{"!!!!!!", []int{17085, 2928}},
		{" discards", []int{2560, 2347}},
		{"Cửa Việt", []int{34, 90063, 128324}},
		{"ied 4 ½ months", []int{1122, 220, 19, 220, 26062, 3951}},
		{" this is 🦙.cpp", []int{419, 374, 11162, 99, 247, 13, 10821}},
		{"w048 7tuijk dsdfhu", []int{86, 15, 19, 23, 220, 22, 83, 1963, 41808, 11472, 2940, 16739}},
		{"нещо на Български", []int{78762, 14144, 1456, 13073, 63471, 33594, 3038, 133178, 79012}},
		{"Hello, y'all! How are you 😁 ?我想在apple工作1314151天～", []int{9707, 11, 379, 64848, 0, 2585, 525, 498, 26525, 223, 937, 104100, 18493, 22377, 99257, 16, 18, 16, 19, 16, 20, 16, 35727, 21216}},
	}
	for _, tc := range tests {
		if got := tk.Encode(tc.in); !equalInts(got, tc.want) {
			t.Errorf("Encode(%q) = %v, want %v", tc.in, got, tc.want)
		}
		if got := tk.Count(tc.in); got != len(tc.want) {
			t.Errorf("Count(%q) = %d, want %d", tc.in, got, len(tc.want))
		}
	}
}

func TestEncodeNFC(t *testing.T) {
	t.Parallel()
	tk := Default()
	if got := tk.Count("e\u0301cole cafe\u0301"); got != 2 {
		t.Errorf("Count(decomposed \"école café\") = %d, want 2", got)
	}
	if a, b := tk.Encode("e\u0301cole cafe\u0301"), tk.Encode("école café"); !equalInts(a, b) {
		t.Errorf("decomposed %v != composed %v", a, b)
	}
}

func TestEncodeSpecialTokens(t *testing.T) {
	t.Parallel()
	tk := Default()
	for id := EndOfText; id < EndOfText+NumSpecialTokens; id++ {
		sp := specialTokens[id-EndOfText]
		if got := tk.Encode(sp); !equalInts(got, []int{id}) {
			t.Errorf("Encode(%q) = %v, want [%d]", sp, got, id)
		}
		got := tk.Encode("a" + sp + "b")
		if want := []int{64, id, 65}; !equalInts(got, want) {
			t.Errorf("Encode(a%sb) = %v, want %v", sp, got, want)
		}
		if tk.Decode([]int{id}) != sp || !tk.IsSpecial(id) {
			t.Errorf("Decode/IsSpecial(%d) wrong", id)
		}
	}
	if got := SpecialTokens(); len(got) != NumSpecialTokens || got["<|im_start|>"] != ImStart || got["<|im_end|>"] != ImEnd {
		t.Errorf("SpecialTokens() = %v", got)
	}
	tests := []struct {
		in   string
		want []int
	}{
		{"<|im_start|>user\nhi<|im_end|>\n", []int{ImStart, 872, 198, 6023, ImEnd, 198}},
		{"<|im_end|><|im_end|>", []int{ImEnd, ImEnd}},
		{"<think>\n\n</think>\n\n", []int{151667, 271, 151668, 271}},
	}
	for _, tc := range tests {
		if got := tk.Encode(tc.in); !equalInts(got, tc.want) {
			t.Errorf("Encode(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	// An incomplete special token is ordinary text.
	for _, id := range tk.Encode("<|im_end|") {
		if tk.IsSpecial(id) {
			t.Errorf("Encode(\"<|im_end|\") contains special token %d", id)
		}
	}
}

// chatPromptTokens is DashScope's prompt_tokens for a chat: the ChatML rendering
// plus the generation prompt, 3 + Σ(3 + tokens(role + "\n" + content)).
func chatPromptTokens(tk *Tokenizer, roleContent ...string) int {
	n := 3
	for i := 0; i+1 < len(roleContent); i += 2 {
		n += 3 + tk.Count(roleContent[i]+"\n"+roleContent[i+1])
	}
	return n
}

// Public DashScope usage figures.
func TestChatUsage(t *testing.T) {
	t.Parallel()
	tk := Default()
	tests := []struct {
		name string
		got  int
		want int
	}{
		{"system+user 你是谁", chatPromptTokens(tk, "system", "You are a helpful assistant.", "user", "你是谁？"), 22},
		{"system+user 你好", chatPromptTokens(tk, "system", "你是一个乐于解答各种问题的助手，你的任务是为用户提供专业、准确、有见地的建议。", "user", "你好，请介绍一下自己"), 42},
		{"user 李白", chatPromptTokens(tk, "user", "假如你是李白，你想说什么？"), 15},
		{"user hi", chatPromptTokens(tk, "user", "hi"), 9},
		{"completion 36", tk.Count("我是通义千问，由阿里云开发的AI助手。我被设计用来回答各种问题、提供信息和与用户进行对话。有什么我可以帮助你的吗？"), 36},
		{"completion 59", tk.Count("你好！我是来自阿里云的超大规模语言模型，我叫通义千问。我是阿里云自主研发的超大规模语言模型，也能够回答问题、创作文字，还能表达观点、撰写代码。\n\n如果您有任何问题或需要帮助，请随时告诉我，我会尽力提供支持。"), 59},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %d tokens, want %d", tc.name, tc.got, tc.want)
		}
	}
	// The rendered prompt, encoded at once, agrees with the per-message sum.
	rendered := "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n你是谁？<|im_end|>\n<|im_start|>assistant\n"
	if got := tk.Count(rendered); got != 22 {
		t.Errorf("rendered ChatML: %d tokens, want 22", got)
	}
}

// TestMatchesTiktokenGo compares Encode with plain tiktoken-go (regexp2 over the
// whole text, quadratic merge) on random text, with NFC windows small enough to cut
// the text in many places.
func TestMatchesTiktokenGo(t *testing.T) {
	t.Parallel()
	tk := Default()
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 400 {
		text := randomText(rng, 1+rng.IntN(400))
		want := reference().EncodeOrdinary(norm.NFC.String(text))
		for _, window := range []int{1, 7, 64, nfcWindow} {
			s := sink{collect: true, limit: 1 << 62}
			tk.runWindow(text, &s, window)
			if !equalInts(s.ids, want) {
				t.Fatalf("case %d window %d: %q\n got %v\nwant %v", i, window, text, s.ids, want)
			}
		}
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	t.Parallel()
	tk := Default()
	rng := rand.New(rand.NewPCG(7, 8))
	texts := []string{"", "Hello", "e\u0301cole", "a<|im_end|>b", "你好，世界\n\n", strings.Repeat("ab ", 1000)}
	for range 300 {
		texts = append(texts, randomText(rng, rng.IntN(300)))
	}
	for _, text := range texts {
		ids := tk.Encode(text)
		// Specials are split off before NFC, so normalise between them.
		if got, want := tk.Decode(ids), nfcOutsideSpecials(text); got != want {
			t.Fatalf("Decode(Encode(%q)) = %q, want %q", text, got, want)
		}
	}
	if got := tk.Decode([]int{9707, -1, 1 << 30, 1879}); got != "Hello world" {
		t.Errorf("Decode with unknown ids = %q", got)
	}
}

func nfcOutsideSpecials(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		i, id := nextSpecial(s)
		if i < 0 {
			b.WriteString(norm.NFC.String(s))
			break
		}
		b.WriteString(norm.NFC.String(s[:i]))
		sp := specialTokens[id-EndOfText]
		b.WriteString(sp)
		s = s[i+len(sp):]
	}
	return b.String()
}

func TestInvalidUTF8(t *testing.T) {
	t.Parallel()
	tk := Default()
	tests := []string{"\xff", "a\xe4\xbdb", "\xed\xa0\x80", "\xc0\xaf<|im_end|>\xf8", strings.Repeat("\x80", 1000)}
	rng := rand.New(rand.NewPCG(9, 10))
	for range 200 {
		b := []byte(randomText(rng, 50))
		for range 5 {
			b[rng.IntN(len(b))] = byte(rng.IntN(256))
		}
		tests = append(tests, string(b))
	}
	for _, text := range tests {
		ids := tk.Encode(text)
		if n := tk.Count(text); n != len(ids) {
			t.Errorf("Count(%q) = %d, len(Encode) = %d", text, n, len(ids))
		}
		// Each invalid byte reads as U+FFFD, as in tiktoken-go's []rune conversion.
		if got, want := tk.Decode(ids), nfcOutsideSpecials(sanitize(text)); got != want {
			t.Errorf("Decode(Encode(%q)) = %q, want %q", text, got, want)
		}
		if !utf8.ValidString(tk.Decode(ids)) {
			t.Errorf("Decode(Encode(%q)) is not valid UTF-8", text)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	tk := Default()
	texts := []string{"Hello world", strings.Repeat("The cat sat on the mat. ", 200), strings.Repeat("你好，世界。", 300), strings.Repeat("x", 3000)}
	want := make([]int, len(texts))
	for i, s := range texts {
		want[i] = len(reference().EncodeOrdinary(s))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for k := range 20 {
				i := (g + k) % len(texts)
				if n := tk.Count(texts[i]); n != want[i] {
					t.Errorf("Count = %d, want %d", n, want[i])
				}
				if n := len(tk.Encode(texts[i])); n != want[i] {
					t.Errorf("len(Encode) = %d, want %d", n, want[i])
				}
			}
		})
	}
	wg.Wait()
}

// FuzzEncode compares Encode with plain tiktoken-go on arbitrary input without
// special tokens, and checks that Count agrees and nothing panics.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"Hello world", "e\u0301cole", "x\t\t\t}", "<|<|", "\xff\xfe", "你好，世界", "  \n\n  x"} {
		f.Add(s)
	}
	tk := Default()
	f.Fuzz(func(t *testing.T, s string) {
		ids := tk.Encode(s)
		if n := tk.Count(s); n != len(ids) {
			t.Fatalf("Count(%q) = %d, len(Encode) = %d", s, n, len(ids))
		}
		if i, _ := nextSpecial(s); i >= 0 || !goTablesAgree(s) {
			return // tiktoken-go (Go's Unicode tables) is the reference only where they agree with the reference tokenizer's
		}
		if want := reference().EncodeOrdinary(norm.NFC.String(sanitize(s))); !equalInts(ids, want) {
			t.Fatalf("Encode(%q) = %v, tiktoken-go %v", s, ids, want)
		}
	})
}

// TestInvalidUTF8InWindows checks that replacing invalid bytes NFC window by
// NFC window gives the ids of the text sanitized whole, with windows small enough
// to cut next to invalid bytes, truncated sequences and combining marks.
func TestInvalidUTF8InWindows(t *testing.T) {
	t.Parallel()
	tk := Default()
	rng := rand.New(rand.NewPCG(39, 40))
	bad := []string{"\xff", "\xe4\xbd", "\x80", "\xc3", "\xed\xa0\x80", "\xf0\x9f\x98", "\xc0\xaf"}
	for range 400 {
		var b strings.Builder
		for b.Len() < 200 {
			if rng.IntN(3) == 0 {
				b.WriteString(bad[rng.IntN(len(bad))])
			} else {
				b.WriteString(randomText(rng, 1+rng.IntN(6)))
			}
		}
		text := b.String()
		want := reference().EncodeOrdinary(nfcRef(sanitize(text)))
		for _, window := range []int{1, 3, 7, 61, nfcWindow} {
			s := sink{collect: true, limit: math.MaxInt}
			tk.runWindow(text, &s, window)
			if !equalInts(s.ids, want) {
				t.Fatalf("text %q, NFC window %d: %v, want %v", text, window, s.ids, want)
			}
		}
	}
}
