#!/usr/bin/env bash
# Shared rate limits against a real Redis. Installs Debian's redis-server when it is
# missing (the Go suite's Redis tests also use it), then runs the multi-process test: it
# builds qwenmock, starts redis-server on a random loopback port and three qwenmock
# processes sharing it, sends 64 concurrent clients at them (--rpm 30 admits exactly 30;
# a TPM admits exactly its tokens), kills and restarts Redis mid-run, and stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
if ! command -v redis-server >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
redis-server --version
go test -tags redisintegration -count=1 -run TestRedisReplicas -v ./cmd/qwenmock/ 2>&1 \
  | grep -v 'msg=request' || { echo "redis integration test failed"; exit 1; }
