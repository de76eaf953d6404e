#!/usr/bin/env bash
# Builds the release binaries: static qwenmock for linux, darwin and windows on amd64 and
# arm64, with SHA-256 sums, into dist/ (or $DIST). Uploads nothing.
#
#   VERSION=1.2.3 bash .ci/release.sh     # default: git describe, else 0.0.0-dev
#
# Each binary is built as the Dockerfile builds the image's: CGO_ENABLED=0, -trimpath,
# -ldflags "-s -w -X main.version=... -X main.commit=...". Then the script checks every file:
# `go version -m` must show the right GOOS/GOARCH, CGO_ENABLED=0 and -trimpath; the binary for
# this machine must print the version and commit; `sha256sum -c` must accept SHA256SUMS.
# Prints one line per binary with its size, and a closing PASS or FAIL line.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

DIST=${DIST:-dist}
COMMIT=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
if [ -z "${VERSION:-}" ]; then
  # v1.2.3 on a tagged commit, v1.2.3-4-gabcdef0 after it; 0.0.0-dev without tags
  VERSION=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || echo 0.0.0-dev)
fi
VERSION=${VERSION#v}
TARGETS=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64)

rm -rf "$DIST"
mkdir -p "$DIST"
failures=0
start=$SECONDS
printf 'release %s (commit %s) with %s\n' "$VERSION" "$COMMIT" "$(go env GOVERSION)"
for t in "${TARGETS[@]}"; do
  os=${t%/*} arch=${t#*/}
  ext=""
  [ "$os" = windows ] && ext=.exe
  out="$DIST/qwenmock_${VERSION}_${os}_${arch}${ext}"
  t_start=$SECONDS
  if ! env CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags "-s -w -X main.version=$VERSION -X main.commit=$COMMIT" \
    -o "$out" ./cmd/qwenmock; then
    printf 'FAIL  %s: go build failed\n' "$t"
    failures=$((failures + 1))
    continue
  fi
  info=$(go version -m "$out")
  size=$(stat -c %s "$out")
  if grep -Eq $'^\tbuild\tGOOS='"$os"'$' <<<"$info" && grep -Eq $'^\tbuild\tGOARCH='"$arch"'$' <<<"$info" &&
    grep -Eq $'^\tbuild\tCGO_ENABLED=0$' <<<"$info" && grep -Eq $'^\tbuild\t-trimpath=true$' <<<"$info"; then
    printf 'PASS  %-14s %-40s %9d bytes (%s MiB) in %d s\n' "$t" "${out#"$DIST"/}" "$size" \
      "$(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1048576 }')" $((SECONDS - t_start))
  else
    printf 'FAIL  %s: build info does not show GOOS=%s GOARCH=%s CGO_ENABLED=0 -trimpath:\n%s\n' "$t" "$os" "$arch" "$info"
    failures=$((failures + 1))
  fi
done

(cd "$DIST" && sha256sum -- qwenmock_* >SHA256SUMS)
if (cd "$DIST" && sha256sum -c --quiet SHA256SUMS) && [ "$(wc -l <"$DIST/SHA256SUMS")" -eq ${#TARGETS[@]} ]; then
  printf 'PASS  SHA256SUMS lists %d binaries and sha256sum -c accepts it\n' ${#TARGETS[@]}
else
  printf 'FAIL  SHA256SUMS\n'
  failures=$((failures + 1))
fi

# The binary for this machine, if there is one, must tell its version and commit.
native="$DIST/qwenmock_${VERSION}_$(go env GOHOSTOS)_$(go env GOHOSTARCH)"
[ "$(go env GOHOSTOS)" = windows ] && native=$native.exe
if [ -x "$native" ]; then
  got=$("$native" --version)
  want="qwenmock $VERSION (commit $COMMIT, $(go env GOVERSION), $(go env GOHOSTOS)/$(go env GOHOSTARCH))"
  if [ "$got" = "$want" ]; then
    printf 'PASS  --version: %s\n' "$got"
  else
    printf 'FAIL  --version: got %q, want %q\n' "$got" "$want"
    failures=$((failures + 1))
  fi
fi

if [ "$failures" -ne 0 ]; then
  printf 'release: FAILED (%d) in %d s\n' "$failures" $((SECONDS - start))
  exit 1
fi
printf 'release: PASS, %d binaries and SHA256SUMS in %s/ in %d s\n' ${#TARGETS[@]} "$DIST" $((SECONDS - start))
