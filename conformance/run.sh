#!/usr/bin/env bash
# Real-client conformance, Node side: installs the Node packages (npm ci), builds the qwenmock
# binary from this tree once, and runs `node --test` in conformance/node (OpenAI Node SDK, Vercel
# AI SDK), conformance/langchain (LangChain JS) and conformance/anthropic (Anthropic TypeScript
# SDK, Claude Code) with QWENMOCK_BIN pointing at it. Claude Code is installed by
# conformance/claude-code/install.sh into a cache outside the clone and reused by later runs.
# The Go clients (openai-go, go-openai, langchaingo, anthropic-sdk-go) run with the root
# `go test ./...`.
#
# Prints one summary line per suite (and the failures in full); exits non-zero on any failure.
# Needs Go, Node 20+ and npm; the network only for npm ci.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export PATH="$PATH:/usr/local/go/bin"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "conformance: building qwenmock"
if ! (cd "$root" && go build -o "$work/qwenmock" ./cmd/qwenmock); then
  echo "conformance: FAIL: go build ./cmd/qwenmock"
  exit 1
fi
export QWENMOCK_BIN="$work/qwenmock"

status=0
echo "conformance: installing Claude Code (cached)"
start=$SECONDS
if claude_bin=$("$here/claude-code/install.sh" 2>"$work/claude-code-install.log"); then
  export CLAUDE_CODE_BIN="$claude_bin"
  echo "conformance: Claude Code $(HOME="$work" timeout 60 "$claude_bin" --version 2>/dev/null) ready ($((SECONDS - start))s)"
else
  echo "conformance: FAIL: installing Claude Code"
  cat "$work/claude-code-install.log"
  status=1
fi

for suite in node langchain anthropic; do
  dir="$here/$suite"
  if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >"$work/$suite-npm.log" 2>&1; then
    echo "conformance/$suite: FAIL: npm ci"
    cat "$work/$suite-npm.log"
    status=1
    continue
  fi
  start=$SECONDS
  (cd "$dir" && node --test --test-reporter=tap --test-timeout=120000) >"$work/$suite.tap" 2>&1
  rc=$?
  count() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$work/$suite.tap" | tail -1; }
  pass=$(count pass) fail=$(count fail) skipped=$(count skipped) cancelled=$(count cancelled)
  printf 'conformance/%s: %s passed, %s failed, %s skipped, %s cancelled (%ds)\n' \
    "$suite" "${pass:-?}" "${fail:-?}" "${skipped:-?}" "${cancelled:-?}" $((SECONDS - start))
  grep -E '^ *ok .* # SKIP' "$work/$suite.tap" | sed -E 's/^ *ok [0-9]+ - /  skipped: /'
  # Claude Code's version, run times and messages, from the tests' diagnostics.
  grep -E '^ *# (claude|result:)' "$work/$suite.tap" | sed -E 's/^ *# /  /'
  if [ "$rc" -ne 0 ] || [ "${fail:-1}" != 0 ] || [ "${cancelled:-1}" != 0 ]; then
    status=1
    echo "--- conformance/$suite output (node --test exit $rc) ---"
    cat "$work/$suite.tap"
  fi
done

if [ "$status" -eq 0 ]; then
  echo "conformance: PASS"
else
  echo "conformance: FAIL"
fi
exit "$status"
