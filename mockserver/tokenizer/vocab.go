package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed" // for the vocabulary
	"encoding/base64"
	"fmt"
	"io"
	"sync"
	"unsafe"
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

// Default returns the process-wide Qwen tokenizer, loading it on first use (about
// 0.2 s of CPU and 15 MiB of tables without pointers, outside the Go heap on Linux
// and macOS). It panics only if the embedded vocabulary is corrupt, which the
// package tests rule out.
func Default() *Tokenizer {
	t, err := defaultTokenizer()
	if err != nil {
		panic("tokenizer: embedded vocabulary: " + err.Error())
	}
	return t
}

// load builds a Tokenizer from a gzip-compressed tiktoken file.
func load(gz []byte) (*Tokenizer, error) {
	mem := newMapped()
	blob, offs, err := readVocabInto(gz, mem)
	if err != nil {
		return nil, err
	}
	if n := len(offs) - 1; n != NumOrdinaryTokens {
		return nil, fmt.Errorf("%d ordinary tokens, want %d", n, NumOrdinaryTokens)
	}
	// The vocabulary lives in flat tables without pointers (one byte string, offsets,
	// open-addressing tables of integers), outside the Go heap where the platform
	// allows (see mapped.go). They are built straight from the file, with no map or
	// string per token in between, so that loading leaves little garbage (which
	// would stay in the process's memory long after).
	x, err := newVocabIndexOf(blob, offs, mem)
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
	mem.seal()
	return &Tokenizer{
		vocab: x,
		merge: merge,
		bt:    bt,
		cache: newCountCache(defaultCacheBytes, cacheMinLen),
		memo:  newPieceMemoIn(mem),
	}, nil
}

// readVocab reads "base64(bytes) rank" lines from a gzip stream: the bytes of every token
// one after another in rank order, and offs, where token r's bytes are
// blob[offs[r]:offs[r+1]]. The ranks must be 0 to n-1, each once, in any order (the
// embedded file has them in order, which costs no reordering).
func readVocab(gz []byte) (string, []uint32, error) {
	return readVocabInto(gz, nil)
}

// readVocabInto is readVocab with the bytes and offsets in mappings of mem (if not nil),
// which then holds at most NumOrdinaryTokens tokens.
func readVocabInto(gz []byte, mem *mapped) (string, []uint32, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return "", nil, err
	}
	// The bytes of a token that starts within the index's reach fit in blob's capacity
	// without growing it: a line decoding to more is refused below.
	blob := mapSlice[byte](mem, 0, 1<<slotOffBits+maxTokenLen+3, false)
	offs := mapSlice[uint32](mem, 1, NumOrdinaryTokens+1, false)
	var ranks []int32 // the rank of each line, once one is out of order
	sc := bufio.NewScanner(zr)
	line := 0
	for sc.Scan() {
		line++
		b64, rankText, ok := bytes.Cut(sc.Bytes(), []byte{' '})
		if !ok {
			return "", nil, fmt.Errorf("line %d: no rank", line)
		}
		at := len(blob)
		if base64.StdEncoding.DecodedLen(len(b64)) > maxTokenLen+3 {
			return "", nil, fmt.Errorf("line %d: token of more than %d bytes", line, maxTokenLen)
		}
		n, err := base64.StdEncoding.Decode(blob[at:cap(blob)], b64)
		if err != nil || n == 0 {
			return "", nil, fmt.Errorf("line %d: bad base64", line)
		}
		if n > maxTokenLen {
			return "", nil, fmt.Errorf("line %d: token of %d bytes, more than %d", line, n, maxTokenLen)
		}
		blob = blob[:at+n]
		if len(blob) > 1<<slotOffBits {
			return "", nil, fmt.Errorf("line %d: the vocabulary is too large", line)
		}
		if len(offs) == cap(offs) && mem != nil {
			return "", nil, fmt.Errorf("line %d: more than %d tokens", line, NumOrdinaryTokens)
		}
		offs = append(offs, uint32(len(blob)))
		rank, ok := parseRank(rankText)
		if !ok {
			return "", nil, fmt.Errorf("line %d: bad rank %q", line, rankText)
		}
		if ranks == nil && rank != line-1 {
			ranks = make([]int32, line-1, NumOrdinaryTokens)
			for i := range ranks {
				ranks[i] = int32(i)
			}
		}
		if ranks != nil {
			ranks = append(ranks, int32(rank))
		}
	}
	if err := sc.Err(); err != nil {
		return "", nil, err
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return "", nil, err
	}
	if ranks != nil {
		return reorderVocab(blob, offs, ranks, mem)
	}
	return unsafe.String(unsafe.SliceData(blob), len(blob)), offs, nil
}

// parseRank reads a non-negative decimal rank below 1<<30.
func parseRank(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// reorderVocab puts the tokens of blob (line i's bytes at offs[i]:offs[i+1]) in the order of
// their ranks, which must be a permutation of 0 to n-1. The result is in mappings of mem,
// if not nil, which replace those of blob and offs.
func reorderVocab(blob []byte, offs []uint32, ranks []int32, mem *mapped) (string, []uint32, error) {
	n := len(ranks)
	line := make([]int32, n) // the line of each rank
	for i := range line {
		line[i] = -1
	}
	for i, r := range ranks {
		if r < 0 || int(r) >= n || line[r] >= 0 {
			return "", nil, fmt.Errorf("bad or duplicate rank %d", r)
		}
		line[r] = int32(i)
	}
	out := mapSlice[byte](mem, 0, len(blob), false)
	outOffs := mapSlice[uint32](mem, 1, n+1, false)
	for _, i := range line {
		out = append(out, blob[offs[i]:offs[i+1]]...)
		outOffs = append(outOffs, uint32(len(out)))
	}
	release(mem, blob)
	release(mem, offs)
	return unsafe.String(unsafe.SliceData(out), len(out)), outOffs, nil
}
