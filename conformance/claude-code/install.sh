#!/usr/bin/env bash
# Installs the Claude Code CLI pinned in this folder's package-lock.json into a cache outside
# the clone (the package is about 400 MB) and prints the path of its native binary. A cache
# that already holds this lockfile's install is reused without touching the network; installs
# of other lockfiles are removed, so the cache holds one version at a time.
#
# Cache: $QWENMOCK_CACHE_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/qwenmock-conformance.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${QWENMOCK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qwenmock-conformance}
key=$(sha256sum "$here/package-lock.json" | cut -c1-16)
dir="$cache_root/claude-code-$key"

find_bin() {
  local platform f home
  for platform in linux-x64 linux-x64-musl linux-arm64 linux-arm64-musl darwin-x64 darwin-arm64; do
    f="$dir/node_modules/@anthropic-ai/claude-code-$platform/claude"
    [ -x "$f" ] || continue
    home=$(mktemp -d)
    if HOME="$home" timeout 60 "$f" --version >/dev/null 2>&1; then
      rm -rf "$home"
      echo "$f"
      return 0
    fi
    rm -rf "$home"
  done
  return 1
}

if find_bin; then
  exit 0
fi

mkdir -p "$cache_root"
for old in "$cache_root"/claude-code-*; do
  [ -e "$old" ] && [ "$old" != "$dir" ] && rm -rf "$old"
done
tmp="$dir.tmp.$$"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$tmp/"
# --ignore-scripts: the postinstall only copies the platform binary next to the wrapper; the
# binary is run from its platform package directly.
(cd "$tmp" && timeout 900 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
rm -rf "$dir"
mv "$tmp" "$dir"
find_bin
