package tokenizer

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

const benchSize = 1 << 20

// englishProse returns n bytes of varied English sentences, deterministically.
func englishProse(n int) string {
	subjects := []string{"The committee", "A young engineer", "Our neighbour", "The old lighthouse keeper", "Every student", "The market", "She", "They", "The report", "A quiet village"}
	verbs := []string{"considered", "rejected", "described", "welcomed", "questioned", "celebrated", "measured", "ignored", "explained", "rebuilt"}
	objects := []string{"the proposal", "a difficult question", "the northern bridge", "its annual budget", "the results of 2023", "an unusual request", "the weather", "every remaining option", "the river's course", "a long-forgotten letter"}
	tails := []string{"before dawn.", "with considerable care.", "despite the objections!", "in about 3.5 hours.", "(as expected).", "without hesitation;", "— twice.", "for $1,250.", "at the last minute?", "and then went home."}
	rng := rand.New(rand.NewPCG(1, 1))
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(subjects[rng.IntN(len(subjects))] + " " + verbs[rng.IntN(len(verbs))] + " " + objects[rng.IntN(len(objects))] + " " + tails[rng.IntN(len(tails))])
		if rng.IntN(8) == 0 {
			b.WriteString("\n\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()[:n]
}

// chineseProse returns about n bytes of varied Chinese sentences, deterministically.
func chineseProse(n int) string {
	parts := []string{"我是通义千问", "由阿里云开发的人工智能助手", "我被设计用来回答各种问题", "提供信息和与用户进行对话", "在这个快速变化的时代", "人工智能正在深刻地改变我们的生活方式", "今天的天气非常好", "我们一起去公园散步吧", "这本书讲述了一个感人的故事", "研究人员发现了新的方法", "经济增长速度有所放缓", "请随时告诉我您的需求"}
	puncts := []string{"，", "。", "！", "？", "；", "、"}
	rng := rand.New(rand.NewPCG(2, 2))
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(parts[rng.IntN(len(parts))] + puncts[rng.IntN(len(puncts))])
	}
	return b.String()
}

// goSource returns about n bytes of Go source from GOROOT, or of English prose if
// GOROOT/src is not there.
func goSource(n int) string {
	var b strings.Builder
	root := filepath.Join(runtime.GOROOT(), "src", "net", "http")
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || b.Len() >= n || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err == nil {
			b.Write(data)
		}
		return nil
	})
	if b.Len() < n {
		return englishProse(n)
	}
	s := b.String()[:n]
	return strings.ToValidUTF8(s, "")
}

var cl100k = sync.OnceValues(func() (*tiktoken.Tiktoken, error) {
	tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
	return tiktoken.GetEncoding("cl100k_base")
})

// freshTokenizer returns Default's vocabulary with an empty piece memo and no count
// cache: the cost of text never seen before.
func freshTokenizer() *Tokenizer {
	t := Default().withoutCache()
	t.memo = newPieceMemo()
	return t
}

func BenchmarkCount(b *testing.B) {
	inputs := []struct {
		name string
		text string
	}{
		{"english", englishProse(benchSize)},
		{"chinese", chineseProse(benchSize)},
		{"gosource", goSource(benchSize)},
	}
	cl, err := cl100k()
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range inputs {
		b.Run(in.name+"/qwen", func(b *testing.B) {
			tk := Default().withoutCache()
			tk.Count(in.text) // the memo is warm, as in a running server
			b.SetBytes(int64(len(in.text)))
			for b.Loop() {
				tk.Count(in.text)
			}
		})
		b.Run(in.name+"/qwen-cold", func(b *testing.B) {
			b.SetBytes(int64(len(in.text)))
			for b.Loop() {
				b.StopTimer()
				tk := freshTokenizer()
				b.StartTimer()
				tk.Count(in.text)
			}
		})
		b.Run(in.name+"/tiktoken-go-qwen-naive", func(b *testing.B) {
			ref := reference()
			b.SetBytes(int64(len(in.text)))
			for b.Loop() {
				ref.EncodeOrdinary(in.text)
			}
		})
		b.Run(in.name+"/tiktoken-go-cl100k", func(b *testing.B) {
			b.SetBytes(int64(len(in.text)))
			for b.Loop() {
				cl.EncodeOrdinary(in.text)
			}
		})
	}
}

// randomWord returns n bytes (fewer if the last rune would not fit) of runes drawn
// from alphabet, deterministically and fast enough for 32 MB inputs.
func randomWord(alphabet string, n int, seed uint64) string {
	runes := []rune(alphabet)
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, 0, n)
	for {
		x := rng.Uint64()
		for range 4 {
			r := runes[int(x&0xffff)%len(runes)]
			if len(b)+utf8.RuneLen(r) > n {
				return string(b)
			}
			b = utf8.AppendRune(b, r)
			x >>= 16
		}
	}
}

// wordInputs returns single-word (one pre-tokenizer piece) inputs of n bytes: the
// worst cases. With long, the inputs made of long vocabulary tokens are included:
// they take the most bytes per token, so a limit stops them last.
func wordInputs(tk *Tokenizer, n int, long bool) []struct{ name, text string } {
	inputs := []struct{ name, text string }{
		{"letters", randomWord("abcdefghijklmnopqrstuvwxyz", n, 3)},
		{"aaaa", strings.Repeat("a", n)},
		{"spaces", strings.Repeat(" ", n)},
		{"punctuation", randomWord("!@#$%^&*()-=+[]{};:,./?~`|", n, 4)},
		{"cjk", randomWord("的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生", n, 5)},
	}
	if long {
		rng := rand.New(rand.NewPCG(6, 6))
		for _, c := range []struct {
			name     string
			cls      uint8
			minBytes int
		}{{"letter-tokens", clsLetter, 8}, {"punctuation-tokens", clsOther, 16}, {"space-tokens", clsSpace, 16}} {
			text := vocabPieces(rng, c.cls, c.minBytes, n)
			for len(text) > n || !utf8.ValidString(text) {
				text = text[:len(text)-1]
			}
			inputs = append(inputs, struct{ name, text string }{c.name, text})
		}
		// Whitespace without newlines, one piece: vocabulary tokens of every
		// length, and runs of spaces ended by tabs. The backtracking encoder
		// tries many wrong lengths in such runs.
		short := strings.NewReplacer("\n", "", "\r", "").Replace(vocabPieces(rng, clsSpace, 1, n+n/4))
		var runs strings.Builder
		for runs.Len() < n {
			runs.WriteString(strings.Repeat(" ", 1+rng.IntN(130)))
			runs.WriteString(strings.Repeat("\t", 1+rng.IntN(10)))
		}
		inputs = append(inputs,
			struct{ name, text string }{"short-space-tokens", strings.ToValidUTF8(short[:min(n, len(short))], "")},
			struct{ name, text string }{"space-tab-runs", runs.String()[:n]})
	}
	return inputs
}

// BenchmarkSingleWord is the worst case of Count: a 1 MB text that is one piece
// (or, for digits, a million one-character pieces).
func BenchmarkSingleWord(b *testing.B) {
	inputs := wordInputs(Default(), benchSize, true)
	inputs = append(inputs,
		struct{ name, text string }{"digits", randomWord("0123456789", benchSize, 7)},
		struct{ name, text string }{"whitespace", randomWord(" \t\n", benchSize, 8)})
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.text)))
			for b.Loop() {
				b.StopTimer()
				tk := freshTokenizer()
				b.StartTimer()
				tk.Count(in.text)
			}
		})
	}
	word := randomWord("abcdefghijklmnopqrstuvwxyz", 20<<10, 9)
	b.Run("letters-20KB/qwen", func(b *testing.B) {
		tk := freshTokenizer()
		b.SetBytes(int64(len(word)))
		for b.Loop() {
			tk.Count(word)
		}
	})
	b.Run("letters-20KB/tiktoken-go-naive", func(b *testing.B) {
		ref := reference()
		b.SetBytes(int64(len(word)))
		for b.Loop() {
			ref.EncodeOrdinary(word)
		}
	})
}

// BenchmarkHugeWord counts single words of 1, 4 and 32 MB against the context
// limits of qwen3-max (258,048 tokens) and of the largest models (997,952), as the
// server does: the time a request can hold a core. The 32 MB words of long
// vocabulary tokens are also counted with every piece merged by mergeLong
// ("merge"), for comparison.
func BenchmarkHugeWord(b *testing.B) {
	for _, size := range []int{1 << 20, 4 << 20, 32 << 20} {
		inputs := wordInputs(Default(), size, size == 32<<20)
		for _, limit := range []int{258048, 997952} {
			for _, in := range inputs {
				modes := []bool{false}
				if strings.HasSuffix(in.name, "-tokens") || strings.HasSuffix(in.name, "-runs") {
					modes = append(modes, true)
				}
				for _, mergeOnly := range modes {
					name := fmt.Sprintf("%dMB/limit-%d/%s", size>>20, limit, in.name)
					if mergeOnly {
						name += "/merge"
					}
					b.Run(name, func(b *testing.B) {
						b.SetBytes(int64(len(in.text)))
						var n int
						var over bool
						var cpu time.Duration
						for b.Loop() {
							b.StopTimer()
							tk := freshTokenizer()
							tk.mergeOnly = mergeOnly
							b.StartTimer()
							start := processCPU()
							n, over = tk.CountLimit(in.text, limit)
							cpu += processCPU() - start
						}
						b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
						b.ReportMetric(float64(n), "tokens")
						if over {
							b.ReportMetric(1, "over")
						}
					})
				}
			}
		}
	}
}

// BenchmarkMergeLong is the encoding of one 64 KB piece (the largest merged
// whole) by the backtracking encoder and by mergeLong, for their costs per byte.
func BenchmarkMergeLong(b *testing.B) {
	tk := Default()
	for _, in := range wordInputs(tk, hugePiece, true) {
		b.Run(in.name+"/backtrack", func(b *testing.B) {
			b.SetBytes(int64(len(in.text)))
			var out []int
			for b.Loop() {
				out = tk.backtrack(in.text, out[:0])
			}
		})
		b.Run(in.name+"/merge", func(b *testing.B) {
			b.SetBytes(int64(len(in.text)))
			var out []int
			for b.Loop() {
				out = tk.mergeLong(in.text, out[:0])
			}
		})
	}
}

// BenchmarkWindowError reports, as ppm of the exact count, how far the windowed
// count of 1 MB single words is from the exact merge of the whole piece.
func BenchmarkWindowError(b *testing.B) {
	tk := Default()
	for _, in := range wordInputs(tk, benchSize, true) {
		b.Run(in.name, func(b *testing.B) {
			exact := len(tk.mergeLong(in.text, nil))
			var n int
			for b.Loop() {
				n = tk.withoutCache().Count(in.text)
			}
			b.ReportMetric(1e6*float64(n-exact)/float64(exact), "ppm-error")
		})
	}
}

// BenchmarkCache compares counting a repeated 64 KB system prompt with and without
// the count cache.
func BenchmarkCache(b *testing.B) {
	text := englishProse(64 << 10)
	b.Run("hit", func(b *testing.B) {
		tk := Default()
		tk.Count(text)
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			tk.Count(text)
		}
	})
	b.Run("miss-warm-memo", func(b *testing.B) {
		tk := Default().withoutCache()
		tk.Count(text)
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			tk.Count(text)
		}
	})
	b.Run("miss-cold", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			b.StopTimer()
			tk := freshTokenizer()
			b.StartTimer()
			tk.Count(text)
		}
	})
}

// BenchmarkCountLimit counts a 32 MB body against the 258,048-token context limit.
func BenchmarkCountLimit(b *testing.B) {
	body := englishProse(32 << 20)
	b.Run("32MB-limit-258048", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			tk := freshTokenizer()
			b.StartTimer()
			if _, over := tk.CountLimit(body, 258048); !over {
				b.Fatal("not over")
			}
		}
	})
}
