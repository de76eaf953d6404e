package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed" // for the vocabulary
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"sync"
)

// qwenTiktokenGz is Qwen's ordinary vocabulary in tiktoken text format
// ("base64(bytes) rank" per line), gzip-compressed. See NOTICE and gen.sh.
//
//go:embed qwen.tiktoken.gz
var qwenTiktokenGz []byte

const (
	// NumOrdinaryTokens is the number of ordinary byte-level BPE tokens (ids 0..151642).
	NumOrdinaryTokens = 151643
	// NumSpecialTokens is the number of special (added) tokens, ids 151643..151668.
	NumSpecialTokens = 26
	// Pattern is the pre-tokenizer regular expression of Qwen's tokenizer.
	Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

	// maxTokenLen is the length in bytes of the longest ordinary token (128 spaces).
	maxTokenLen = 128
)

// Special token ids.
const (
	EndOfText = 151643 // <|endoftext|>
	ImStart   = 151644 // <|im_start|>
	ImEnd     = 151645 // <|im_end|>
)

// specialTokens lists the special tokens in id order, starting at EndOfText.
var specialTokens = [NumSpecialTokens]string{
	"<|endoftext|>",
	"<|im_start|>",
	"<|im_end|>",
	"<|object_ref_start|>",
	"<|object_ref_end|>",
	"<|box_start|>",
	"<|box_end|>",
	"<|quad_start|>",
	"<|quad_end|>",
	"<|vision_start|>",
	"<|vision_end|>",
	"<|vision_pad|>",
	"<|image_pad|>",
	"<|video_pad|>",
	"<tool_call>",
	"</tool_call>",
	"<|fim_prefix|>",
	"<|fim_middle|>",
	"<|fim_suffix|>",
	"<|fim_pad|>",
	"<|repo_name|>",
	"<|file_sep|>",
	"<tool_response>",
	"</tool_response>",
	"<think>",
	"</think>",
}

// SpecialTokens returns the 26 special tokens mapped to their ids.
func SpecialTokens() map[string]int {
	m := make(map[string]int, NumSpecialTokens)
	for i, s := range specialTokens {
		m[s] = EndOfText + i
	}
	return m
}

// defaultTokenizer parses the embedded vocabulary once per process.
var defaultTokenizer = sync.OnceValues(func() (*Tokenizer, error) {
	return load(qwenTiktokenGz)
})

// Default returns the process-wide Qwen tokenizer, loading it on first use
// (about 0.2 s of CPU and 18 MiB of tables without pointers). It panics only if the
// embedded vocabulary is corrupt, which the package tests rule out.
func Default() *Tokenizer {
	t, err := defaultTokenizer()
	if err != nil {
		panic("tokenizer: embedded vocabulary: " + err.Error())
	}
	return t
}

// load builds a Tokenizer from a gzip-compressed tiktoken file.
func load(gz []byte) (*Tokenizer, error) {
	ranks, err := parseTiktoken(gz)
	if err != nil {
		return nil, err
	}
	if len(ranks) != NumOrdinaryTokens {
		return nil, fmt.Errorf("%d ordinary tokens, want %d", len(ranks), NumOrdinaryTokens)
	}
	tokens := make([]string, NumOrdinaryTokens)
	for s, id := range ranks {
		if id < 0 || id >= NumOrdinaryTokens || tokens[id] != "" {
			return nil, fmt.Errorf("bad or duplicate rank %d", id)
		}
		if len(s) > maxTokenLen {
			return nil, fmt.Errorf("token %d is %d bytes long, more than %d", id, len(s), maxTokenLen)
		}
		tokens[id] = s
	}
	for b := 0; b < 256; b++ {
		if _, ok := ranks[string([]byte{byte(b)})]; !ok {
			return nil, fmt.Errorf("byte %#x has no token", b)
		}
	}
	// From here on the vocabulary lives in flat tables without pointers (one byte
	// string, offsets, open-addressing tables of integers), which the garbage
	// collector never has to scan; ranks and tokens become garbage.
	x, err := newVocabIndex(tokens)
	if err != nil {
		return nil, err
	}
	merge, err := newMergeTables(x)
	if err != nil {
		return nil, err
	}
	bt, err := newBacktrackTables(x, merge)
	if err != nil {
		return nil, err
	}
	x.hash = nil // only needed to build the pair table
	return &Tokenizer{
		vocab: x,
		merge: merge,
		bt:    bt,
		cache: newCountCache(defaultCacheBytes, cacheMinLen),
		memo:  newPieceMemo(),
	}, nil
}

// parseTiktoken reads "base64(bytes) rank" lines from a gzip stream.
func parseTiktoken(gz []byte) (map[string]int, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	ranks := make(map[string]int, NumOrdinaryTokens)
	sc := bufio.NewScanner(zr)
	buf := make([]byte, 0, 256)
	line := 0
	for sc.Scan() {
		line++
		b64, rank, ok := bytes.Cut(sc.Bytes(), []byte{' '})
		if !ok {
			return nil, fmt.Errorf("line %d: no rank", line)
		}
		buf = buf[:base64.StdEncoding.DecodedLen(len(b64))]
		n, err := base64.StdEncoding.Decode(buf, b64)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("line %d: bad base64", line)
		}
		r, err := strconv.Atoi(string(rank))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if _, dup := ranks[string(buf[:n])]; dup {
			return nil, fmt.Errorf("line %d: duplicate token", line)
		}
		ranks[string(buf[:n])] = r
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, err
	}
	return ranks, nil
}
