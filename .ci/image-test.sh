#!/usr/bin/env bash
# Checks the runtime contract of the Docker image without Docker.
#
# It builds the binary exactly as the Dockerfile does, puts it alone at /qwenmock in an
# otherwise empty root directory (no libc, no /etc, no /tmp: less than distroless/static), and
# runs it there the way the image does: as uid/gid 65532, with QWENMOCK_ADDR=0.0.0.0:8080, as
# PID 1 of its own PID namespace, in a network namespace that has loopback only. Then it checks
# the listening line, `qwenmock healthcheck` (the image's HEALTHCHECK), a chat completion, the
# 401 without a key, the process's uid and capabilities, and that SIGTERM (what `docker stop`
# sends) ends it with exit 0 within 10 s.
#
# Needs: Linux, root (or passwordless sudo), go, unshare/nsenter (util-linux), chroot
# (coreutils), curl; `ip` (iproute2) or perl to bring loopback up (else it tries to install
# iproute2 with apt-get, the only step that may use the network). No Docker.
# Prints one PASS or FAIL line per check; exits non-zero if any check fails.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

IMAGE_UID=65532
IMAGE_GID=65532
IMAGE_ADDR=0.0.0.0:8080
VERSION=ci-test
MAX_BYTES=$((25 * 1000 * 1000)) # 25 MB
START_TIMEOUT=30                # seconds until the listening line
STOP_TIMEOUT=10                 # seconds from SIGTERM to exit, as docker stop's default grace

failures=0
checks=0
pass() { checks=$((checks + 1)); printf 'PASS  %s\n' "$*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); printf 'FAIL  %s\n' "$*"; }
die() {
  fail "$*"
  summary=$(printf 'image-test: FAILED (%d of %d checks)' "$failures" "$checks")
  printf '%s\n' "$summary"
  exit 1
}
note() { printf '      %s\n' "$*"; }

# ---- privileges and tools -------------------------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    exec sudo -n --preserve-env=PATH,GOPATH,GOCACHE,GOMODCACHE,GOPROXY,GOFLAGS,GOTOOLCHAIN \
      bash "$0" "$@"
  fi
  die "privileges: needs root (or passwordless sudo) for unshare --net/--pid and chroot"
fi

missing=()
for t in go unshare nsenter chroot curl env timeout; do
  command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
[ ${#missing[@]} -eq 0 ] || die "tools: missing ${missing[*]}"
CHROOT=$(command -v chroot)
ENV=$(command -v env)

work=$(mktemp -d "${TMPDIR:-/tmp}/qwenmock-image-test.XXXXXX")
ns_pid=""  # the unshare process
srv_pid="" # qwenmock itself (PID 1 in its namespace), as seen from here
summary=""
err_at=""
trap 'err_at="line $LINENO: $BASH_COMMAND"' ERR
cleanup() {
  local rc=$?
  if [ -n "$srv_pid" ] && kill -0 "$srv_pid" 2>/dev/null; then
    kill -TERM "$srv_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$srv_pid" 2>/dev/null || break; sleep 0.2; done
  fi
  if [ -n "$ns_pid" ] && kill -0 "$ns_pid" 2>/dev/null; then
    kill -KILL "$ns_pid" 2>/dev/null || true # --kill-child takes qwenmock with it
    wait "$ns_pid" 2>/dev/null || true
  fi
  if [ -n "$srv_pid" ] && kill -0 "$srv_pid" 2>/dev/null; then kill -KILL "$srv_pid" 2>/dev/null || true; fi
  rm -rf "$work"
  if [ -z "$summary" ] && [ "$rc" -ne 0 ]; then
    fail "image-test stopped unexpectedly (exit $rc${err_at:+, at $err_at})"
    printf 'image-test: FAILED (%d of %d checks)\n' "$failures" "$checks"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A new network namespace starts with loopback down. Bring it up with ip (iproute2), else with
# perl's ioctl (perl-base is always on Debian), else install iproute2 if apt-get can.
lo_up_ip='ip link set lo up'
# shellcheck disable=SC2016 # perl's own variables, expanded by perl
lo_up_perl='perl -e '\''socket(my $s, 2, 2, 0) or die "socket: $!"; my $r = pack("a16 x24", "lo"); ioctl($s, 0x8913, $r) or die "SIOCGIFFLAGS: $!"; my ($n, $f) = unpack("a16 s", $r); ioctl($s, 0x8914, pack("a16 s x22", "lo", $f | 1)) or die "SIOCSIFFLAGS: $!"'\'''
lo_up=""
case "${IMAGE_TEST_LO_UP:-auto}" in
  ip) lo_up=$lo_up_ip ;;
  perl) lo_up=$lo_up_perl ;;
  *)
    if command -v ip >/dev/null 2>&1; then
      lo_up=$lo_up_ip
    elif command -v perl >/dev/null 2>&1; then
      lo_up=$lo_up_perl
    elif command -v apt-get >/dev/null 2>&1; then
      note "installing iproute2 to bring loopback up"
      if timeout 120 apt-get install -y -qq iproute2 >"$work/apt.log" 2>&1 ||
        { timeout 120 apt-get update -qq >>"$work/apt.log" 2>&1 &&
          timeout 120 apt-get install -y -qq iproute2 >>"$work/apt.log" 2>&1; }; then
        lo_up=$lo_up_ip
      fi
    fi
    ;;
esac
[ -n "$lo_up" ] || die "tools: neither ip (iproute2) nor perl to bring loopback up, and iproute2 could not be installed"

if ! unshare --net --pid --fork --kill-child sh -c "$lo_up" 2>"$work/unshare.err"; then
  die "namespaces: unshare --net --pid fails here ($(tr '\n' ' ' <"$work/unshare.err")); needs root with CAP_SYS_ADMIN"
fi
pass "namespaces: unshare --net --pid works and loopback comes up (${lo_up%% *})"

# ---- the Dockerfile and this script build the same thing -------------------------------------
# shellcheck disable=SC2016 # ${VERSION} is the Dockerfile's, matched literally
if grep -Eq '^ENV CGO_ENABLED=0$' Dockerfile &&
  grep -Fq 'go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/qwenmock ./cmd/qwenmock' Dockerfile; then
  pass "dockerfile: build is CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w -X main.version=\${VERSION}\" ./cmd/qwenmock"
else
  fail "dockerfile: its go build line no longer matches this script's (CGO_ENABLED=0, -trimpath, -ldflags \"-s -w -X main.version=\${VERSION}\"): update both"
fi
contract_missing=()
for want in \
  'FROM gcr.io/distroless/static-debian12:nonroot' \
  'COPY --from=build /out/qwenmock /qwenmock' \
  "USER $IMAGE_UID:$IMAGE_GID" \
  "ENV QWENMOCK_ADDR=$IMAGE_ADDR" \
  'EXPOSE 8080' \
  'ENTRYPOINT ["/qwenmock"]' \
  'CMD ["/qwenmock", "healthcheck"]'; do
  grep -Fq -- "$want" Dockerfile || contract_missing+=("$want")
done
if [ ${#contract_missing[@]} -eq 0 ]; then
  pass "dockerfile: distroless/static nonroot, /qwenmock, USER $IMAGE_UID:$IMAGE_GID, QWENMOCK_ADDR=$IMAGE_ADDR, EXPOSE 8080, exec-form ENTRYPOINT and HEALTHCHECK"
else
  fail "dockerfile: the runtime contract tested here is missing: ${contract_missing[*]}"
fi

# ---- build, exactly as the Dockerfile does ---------------------------------------------------
root="$work/root"
mkdir -m 0755 "$root"
bin="$root/qwenmock"
build_start=$(date +%s)
if ! env CGO_ENABLED=0 GOFLAGS= timeout 600 \
  go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o "$bin" ./cmd/qwenmock >"$work/build.log" 2>&1; then
  cat "$work/build.log"
  die "build: CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w -X main.version=$VERSION\" ./cmd/qwenmock failed"
fi
chmod 0755 "$bin"
pass "build: $(go env GOVERSION) $(go env GOOS)/$(go env GOARCH) in $(($(date +%s) - build_start)) s"

size=$(stat -c %s "$bin")
size_mib=$(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1048576 }')
gz=$(gzip -9 -c "$bin" | wc -c)
gz_mib=$(awk -v b="$gz" 'BEGIN { printf "%.1f", b / 1048576 }')
if [ "$size" -le "$MAX_BYTES" ]; then
  pass "size: $size bytes ($size_mib MiB; $gz_mib MiB gzipped) <= $MAX_BYTES; the image adds about 2 MiB of distroless/static"
else
  fail "size: $size bytes ($size_mib MiB) > $MAX_BYTES"
fi

buildinfo=$(go version -m "$bin")
static_ok=1
static_why=()
grep -Eq $'^\tbuild\tCGO_ENABLED=0$' <<<"$buildinfo" && static_why+=("CGO_ENABLED=0") || static_ok=0
grep -Eq $'^\tbuild\t-trimpath=true$' <<<"$buildinfo" && static_why+=("-trimpath=true") || static_ok=0
if command -v file >/dev/null 2>&1; then
  finfo=$(file -b "$bin")
  case "$finfo" in *"statically linked"*) static_why+=("file: statically linked") ;; *) static_ok=0 ;; esac
  case "$finfo" in *", stripped"*) static_why+=("stripped") ;; *) static_ok=0 ;; esac
fi
if command -v ldd >/dev/null 2>&1; then
  linfo=$(ldd "$bin" 2>&1 || true)
  case "$linfo" in *"not a dynamic executable"* | *"statically linked"*) static_why+=("ldd: not dynamic") ;; *) static_ok=0 ;; esac
fi
if [ "$static_ok" = 1 ]; then
  pass "static: ${static_why[*]}"
else
  fail "static: expected CGO_ENABLED=0, -trimpath, a static stripped ELF; got: ${static_why[*]:-nothing}"
  note "$(grep -E $'^\tbuild\t' <<<"$buildinfo" | tr '\n\t' '  ')"
fi

contents=$(cd "$root" && find . -mindepth 1 | sort | tr '\n' ' ')
if [ "$contents" = "./qwenmock " ]; then
  pass "root: $root holds only /qwenmock (no libc, no /etc, no /tmp)"
else
  fail "root: expected only /qwenmock, found: $contents"
fi

# The image's world: the empty root, uid/gid 65532 (docker exec and HEALTHCHECK also get the
# image's environment: see the env -i lines below).
chrooted=("$CHROOT" --userspec="$IMAGE_UID:$IMAGE_GID" "$root")

if out=$(timeout 10 "${chrooted[@]}" /qwenmock --version 2>&1 </dev/null) && [ "$out" = "qwenmock $VERSION" ]; then
  pass "version: '$out' from the empty root as uid $IMAGE_UID"
else
  fail "version: expected 'qwenmock $VERSION', got '$out'"
fi

# ---- start it as the image does -------------------------------------------------------------
# unshare forks qwenmock as PID 1 of a new PID namespace (as in a container: SIGTERM reaches a
# PID 1 only through a handler) inside a new network namespace with loopback only.
log="$work/server.log"
unshare --net --pid --fork --kill-child -- sh -c "$lo_up && exec \"\$@\"" sh \
  "$ENV" -i PATH=/usr/local/bin:/usr/bin:/bin QWENMOCK_ADDR="$IMAGE_ADDR" \
  "${chrooted[@]}" /qwenmock </dev/null >"$work/server.out" 2>"$log" &
ns_pid=$!

listening=""
deadline=$((SECONDS + START_TIMEOUT))
while [ $SECONDS -lt $deadline ]; do
  listening=$(grep -m1 '^qwenmock listening on http://' "$log" 2>/dev/null || true)
  [ -n "$listening" ] && break
  kill -0 "$ns_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$listening" ]; then
  sed 's/^/      | /' "$log"
  if kill -0 "$ns_pid" 2>/dev/null; then
    die "start: no 'qwenmock listening on http://…' line within ${START_TIMEOUT} s"
  fi
  rc=0
  wait "$ns_pid" || rc=$?
  ns_pid=""
  die "start: qwenmock exited with status $rc before listening"
fi
# 0.0.0.0 is a dual-stack listener in Go: its address prints as [::].
case "$listening" in
  "qwenmock listening on http://$IMAGE_ADDR" | "qwenmock listening on http://[::]:${IMAGE_ADDR##*:}")
    pass "start: '$listening' in $((SECONDS - deadline + START_TIMEOUT)) s" ;;
  *) fail "start: expected 'qwenmock listening on http://$IMAGE_ADDR' (or [::]:${IMAGE_ADDR##*:}), got '$listening'" ;;
esac

# qwenmock's PID as seen from here: the child of unshare.
for stat in /proc/[0-9]*/stat; do
  line=$(cat "$stat" 2>/dev/null) || continue
  rest=${line##*) }
  read -r _ ppid _ <<<"$rest"
  if [ "$ppid" = "$ns_pid" ]; then
    p=${stat#/proc/}
    srv_pid=${p%/stat}
    break
  fi
done
[ -n "$srv_pid" ] || die "process: cannot find qwenmock, the child of unshare ($ns_pid)"

status=$(cat "/proc/$srv_pid/status")
field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' <<<"$status"; }
uids=$(field Uid)
gids=$(field Gid)
groups=$(field Groups)
capeff=$(field CapEff)
nspid=$(field NSpid)
if [ "$(field Name)" = qwenmock ] &&
  [ "$uids" = "$IMAGE_UID $IMAGE_UID $IMAGE_UID $IMAGE_UID" ] &&
  [ "$gids" = "$IMAGE_GID $IMAGE_GID $IMAGE_GID $IMAGE_GID" ] &&
  [ "$capeff" = 0000000000000000 ]; then
  pass "process: qwenmock runs as uid $IMAGE_UID gid $IMAGE_GID (real, effective, saved, fs), groups [${groups}], no capabilities"
else
  fail "process: expected qwenmock as $IMAGE_UID:$IMAGE_GID without capabilities; Uid [$uids] Gid [$gids] Groups [$groups] CapEff [$capeff]"
fi
if [ "${nspid##* }" = 1 ]; then
  pass "process: PID 1 in its PID namespace (NSpid $nspid), as in a container"
else
  fail "process: expected PID 1 in its namespace, NSpid [$nspid]"
fi
ifaces=$(awk 'NR > 2 { sub(/:.*/, "", $1); print $1 }' "/proc/$srv_pid/net/dev" | sort | tr '\n' ' ')
if [ "$ifaces" = "lo " ]; then
  pass "network: the namespace has loopback only"
else
  fail "network: expected loopback only, found: $ifaces"
fi

# ---- HEALTHCHECK CMD ["/qwenmock", "healthcheck"] --------------------------------------------
# Docker runs it with the image's environment and counts it failed after --timeout=3s.
if out=$(timeout 3 nsenter --net="/proc/$srv_pid/ns/net" -- "$ENV" -i PATH=/usr/local/bin:/usr/bin:/bin \
  QWENMOCK_ADDR="$IMAGE_ADDR" "${chrooted[@]}" /qwenmock healthcheck 2>&1 </dev/null); then
  pass "healthcheck: /qwenmock healthcheck exits 0 within 3 s (QWENMOCK_ADDR=$IMAGE_ADDR, checked on 127.0.0.1)"
else
  fail "healthcheck: /qwenmock healthcheck exited $? (124: over 3 s): $out"
fi
rc=0
out=$(timeout 10 nsenter --net="/proc/$srv_pid/ns/net" -- "$ENV" -i PATH=/usr/local/bin:/usr/bin:/bin \
  QWENMOCK_ADDR=0.0.0.0:8081 "${chrooted[@]}" /qwenmock healthcheck 2>&1 </dev/null) || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
  pass "healthcheck: exits $rc when nothing answers (port 8081)"
else
  fail "healthcheck: expected a quick non-zero exit with nothing on port 8081, got $rc: $out"
fi

# ---- the API, from a client in the same network namespace -----------------------------------
ncurl() {
  timeout 20 nsenter --net="/proc/$srv_pid/ns/net" -- \
    curl -sS --noproxy '*' --max-time 15 -o "$work/body" -w '%{http_code}' "$@"
}
chat='{"model":"qwen3-max","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Who are you?"}],"max_tokens":16}'
url=http://127.0.0.1:8080/compatible-mode/v1/chat/completions

code=$(ncurl -H 'Authorization: Bearer sk-image-test' -H 'Content-Type: application/json' -d "$chat" "$url" 2>"$work/curl.err") || code="curl failed: $(cat "$work/curl.err")"
body=$(cat "$work/body" 2>/dev/null || true)
usage=$(grep -oE '"usage":\{"prompt_tokens":[0-9]+,"completion_tokens":[0-9]+,"total_tokens":[0-9]+' <<<"$body" || true)
if [ "$code" = 200 ] && grep -Fq '"object":"chat.completion"' <<<"$body" && [ -n "$usage" ]; then
  read -r pt ct tt <<<"$(grep -oE '[0-9]+' <<<"$usage" | tr '\n' ' ')"
  if [ $((pt + ct)) -eq "$tt" ] && [ "$pt" -gt 0 ] && [ "$ct" -gt 0 ]; then
    pass "chat: 200, \"object\":\"chat.completion\", usage $pt + $ct = $tt tokens"
  else
    fail "chat: inconsistent usage: $usage"
  fi
else
  fail "chat: expected 200 with \"object\":\"chat.completion\" and usage; got $code: ${body:0:300}"
fi

code=$(ncurl -H 'Content-Type: application/json' -d "$chat" "$url" 2>"$work/curl.err") || code="curl failed: $(cat "$work/curl.err")"
body=$(cat "$work/body" 2>/dev/null || true)
if [ "$code" = 401 ] && grep -Fq '"code":"invalid_api_key"' <<<"$body"; then
  pass "auth: no key gets 401 invalid_api_key"
else
  fail "auth: expected 401 invalid_api_key without a key; got $code: ${body:0:300}"
fi

# ---- docker stop: SIGTERM, then exit 0 within 10 s --------------------------------------------
kill -TERM "$srv_pid"
stop_start=$SECONDS
deadline=$((SECONDS + STOP_TIMEOUT))
while kill -0 "$ns_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
if kill -0 "$ns_pid" 2>/dev/null; then
  fail "sigterm: still running ${STOP_TIMEOUT} s after SIGTERM (docker stop would SIGKILL it)"
else
  rc=0
  wait "$ns_pid" || rc=$?
  ns_pid=""
  srv_pid=""
  if [ "$rc" -eq 0 ]; then
    pass "sigterm: exit 0 in $((SECONDS - stop_start)) s"
  else
    fail "sigterm: exit status $rc"
  fi
fi

if [ "$failures" -ne 0 ]; then
  note "server stderr:"
  sed 's/^/      | /' "$log"
  summary=$(printf 'image-test: FAILED (%d of %d checks)' "$failures" "$checks")
  printf '%s\n' "$summary"
  exit 1
fi
summary=$(printf 'image-test: PASS (%d checks)' "$checks")
printf '%s\n' "$summary"
