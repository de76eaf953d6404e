#!/bin/sh
# gen-unicode.sh regenerates the tables that make the tokenizer class and normalise
# text exactly as the reference tokenizer (Hugging Face tokenizers with Qwen's
# tokenizer.json) does: unicode_tables.go and testdata/unicode_ref.txt.gz, from the
# reference's answers to probes of every code point (internal/unigen), and
# testdata/adversarial_counts.txt, the reference's counts of the texts of
# TestAdversarialCounts. It needs Node.js, npm and the npm registry; building and
# testing the package never do. Run it from anywhere.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$here/internal/unigen/package.json" "$here/internal/unigen/package-lock.json" \
  "$here/internal/unigen/probe.js" "$here/internal/unigen/count.js" "$tmp/"
(cd "$tmp" && npm ci --silent --no-audit --no-fund)
cd "$here"
go run ./internal/unigen probes >"$tmp/probes.txt"
(cd "$tmp" && node probe.js) <"$tmp/probes.txt" >"$tmp/answers.txt"
go run ./internal/unigen tables -answers "$tmp/answers.txt"
go test -count=1 -run '^TestAdversarialCounts$' . -args -adversarial-out="$tmp/adversarial.jsonl"
(cd "$tmp" && node count.js) <"$tmp/adversarial.jsonl" >"$tmp/counts.jsonl"
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
process.stdout.write(lines.map((l) => { const d = JSON.parse(l); return d.plain + " " + d.user_only; }).join("\n") + "\n");
' "$tmp/counts.jsonl" >testdata/adversarial_counts.txt
