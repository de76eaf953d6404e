package tokenizer

import (
	"math"
	"runtime"
	"strings"
)

// Tokenizer counts and encodes text with Qwen's vocabulary. It is immutable apart
// from its internal caches, and all methods are safe for concurrent use.
type Tokenizer struct {
	vocab *vocabIndex      // ordinary token bytes <-> id
	merge *mergeTables     // tables of mergeLong
	bt    *backtrackTables // tables of backtrack
	// mergeOnly makes encodePiece merge every piece with mergeLong, for
	// benchmarks that compare the two.
	mergeOnly bool
	cache     *countCache
	memo      *pieceMemo
}

// Encode returns the token ids of text. The 26 special tokens are recognised
// anywhere in text (a literal "<|im_end|>" is one token), the text between them is
// normalised to NFC and encoded with the ordinary vocabulary. Invalid UTF-8 bytes
// are each read as U+FFFD.
func (t *Tokenizer) Encode(text string) []int {
	s := sink{collect: true, limit: math.MaxInt, ids: make([]int, 0, len(text)/3+1)}
	t.run(text, &s)
	t.cache.put(text, s.n)
	runtime.KeepAlive(t) // the tables are valid while t is reachable (see mapped.go)
	return s.ids
}

// Count returns the number of tokens of text, len(t.Encode(text)).
func (t *Tokenizer) Count(text string) int {
	n, _ := t.CountLimit(text, math.MaxInt)
	return n
}

// CountLimit counts the tokens of text but stops early once the count exceeds
// limit. If the count is at most limit it returns the exact count and false;
// otherwise it returns some n > limit (not necessarily the full count) and true.
func (t *Tokenizer) CountLimit(text string, limit int) (n int, over bool) {
	if n, ok := t.cache.get(text); ok {
		return n, n > limit
	}
	c := counters.Get().(*counter)
	c.s = sink{limit: limit}
	t.runIn(&c.e, text, &c.s, nfcWindow, hugePiece, exactPiece)
	runtime.KeepAlive(t)
	n = c.s.n
	c.release()
	if n <= limit {
		t.cache.put(text, n)
		return n, false
	}
	return n, true
}

// TokenBytes returns a copy of the raw bytes of token id (ordinary or special), or
// nil if id is out of range.
func (t *Tokenizer) TokenBytes(id int) []byte {
	if id < 0 || id >= VocabSize {
		return nil
	}
	b := []byte(t.token(id))
	runtime.KeepAlive(t)
	return b
}

// AppendTokenBytes appends the raw bytes of token id (ordinary or special) to dst;
// an id out of range appends nothing.
func (t *Tokenizer) AppendTokenBytes(dst []byte, id int) []byte {
	if id < 0 || id >= VocabSize {
		return dst
	}
	dst = append(dst, t.token(id)...)
	runtime.KeepAlive(t)
	return dst
}

// TokenLen returns the length in bytes of token id, or 0 if id is out of range.
func (t *Tokenizer) TokenLen(id int) int {
	if id < 0 || id >= VocabSize {
		return 0
	}
	n := len(t.token(id))
	runtime.KeepAlive(t)
	return n
}

// Boundaries returns the token ids of text and, for each, the offset in
// t.Decode(ids) at which it ends, which is text itself when text holds only valid
// UTF-8 in NFC (as the ASCII and CJK of the built-in replies do). A reply cut after
// token k is Decode(ids)[:ends[k]], and ends[k] is the number of bytes of the first
// k+1 tokens: what a server needs to stream or truncate a fixed text by tokens
// without encoding it again.
func (t *Tokenizer) Boundaries(text string) (ids, ends []int) {
	ids = t.Encode(text)
	ends = make([]int, len(ids))
	n := 0
	for i, id := range ids {
		n += t.TokenLen(id)
		ends[i] = n
	}
	return ids, ends
}

// token returns the bytes of token id, which must be in range. The string may point
// into t's tables: it must not be kept past t's last use (see mapped.go).
func (t *Tokenizer) token(id int) string {
	if id >= NumOrdinaryTokens {
		return specialTokens[id-NumOrdinaryTokens]
	}
	return t.vocab.token(int32(id))
}

// Decode concatenates the bytes of ids; special tokens decode to their text and
// unknown ids are skipped. The result may hold invalid UTF-8 if ids split a
// character.
func (t *Tokenizer) Decode(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		if id >= 0 && id < VocabSize {
			b.WriteString(t.token(id))
		}
	}
	runtime.KeepAlive(t)
	return b.String()
}

// VocabSize returns the number of token ids, ordinary and special: 151669.
func (t *Tokenizer) VocabSize() int {
	return VocabSize
}

// VocabSize is the number of token ids, ordinary and special.
const VocabSize = NumOrdinaryTokens + NumSpecialTokens

// IsSpecial reports whether id is one of the 26 special tokens.
func (t *Tokenizer) IsSpecial(id int) bool {
	return id >= EndOfText && id < EndOfText+NumSpecialTokens
}

// withoutCache returns a tokenizer sharing t's vocabulary and piece memo but with
// no count cache. The tables stay mapped while either tokenizer is reachable.
func (t *Tokenizer) withoutCache() *Tokenizer {
	c := *t
	c.cache = nil
	return &c
}
