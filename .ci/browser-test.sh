#!/usr/bin/env bash
# Browser test of the dashboard (GET /_mock/): installs Debian's Chromium when missing, then
# runs the Go test behind the "browser" build tag. The screenshot goes to the directory
# printed at the end (QWENMOCK_ARTIFACTS, default .ci/artifacts).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
chromium --version
export QWENMOCK_ARTIFACTS="${QWENMOCK_ARTIFACTS:-$PWD/.ci/artifacts}"
mkdir -p "$QWENMOCK_ARTIFACTS"
start=$(date +%s)
go test -tags browser -count=1 -run 'TestDashboardBrowser' -v ./mockserver/ | grep -E '^(=== RUN|--- |ok|FAIL|PASS)|dashboard_browser_test'
echo "browser test: $(( $(date +%s) - start )) s; screenshot: $QWENMOCK_ARTIFACTS/dashboard.png"
