# syntax=docker/dockerfile:1
#
# qwenmock image: a static binary on a distroless base, running as uid 65532.
#
#   docker build --build-arg VERSION=1.2.3 -t qwenmock:1.2.3 .
#   docker run --rm -p 8080:8080 qwenmock:1.2.3
#
# The image listens on 0.0.0.0:8080 (QWENMOCK_ADDR). To change the port, set QWENMOCK_ADDR
# rather than passing --addr: the HEALTHCHECK reads the same variable. Likewise set the admin
# token with QWENMOCK_ADMIN_TOKEN, not --admin-token, so the health check can send it.
#
# .ci/image-test.sh checks this runtime contract without Docker: it builds the binary with the
# flags below and runs it alone in an empty root, as uid 65532, with loopback only.

# ---- build ------------------------------------------------------------------------------------
# Pinned by tag. When the image is published, pin the digest too, so a re-pushed tag cannot
# change the toolchain: FROM golang:1.26.8-bookworm@sha256:<digest> AS build
FROM golang:1.26.8-bookworm AS build
WORKDIR /src

# Module downloads in their own layer: they are rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

COPY . .
ARG VERSION=dev
# No cgo: a fully static binary that needs no libc, no /etc and no other file in the image.
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/qwenmock ./cmd/qwenmock

# Smoke run, with no network but loopback (RUN --network needs BuildKit, Docker's default
# builder): the version line, then a start, `qwenmock healthcheck` until it answers (20 tries,
# 0.5 s apart), and a SIGTERM that must end it with exit 0.
RUN --network=none set -eu; \
    /out/qwenmock --version; \
    /out/qwenmock --addr 127.0.0.1:8080 & pid=$!; \
    ok=0; \
    for i in $(seq 1 20); do \
      if /out/qwenmock healthcheck --addr 127.0.0.1:8080; then ok=1; break; fi; \
      sleep 0.5; \
    done; \
    kill -TERM "$pid"; \
    wait "$pid"; \
    test "$ok" = 1; \
    echo "smoke run: healthy, stopped cleanly"

# ---- runtime ----------------------------------------------------------------------------------
# distroless/static rather than scratch: the binary needs nothing from either (image-test.sh
# runs it in an empty root), but distroless adds, for about 2 MB, what people expect inside a
# container: an /etc/passwd naming uid 65532 "nonroot", a writable /tmp, CA certificates and
# tzdata, all maintained upstream with security updates. No shell and no package manager.
# Pin the digest too when publishing: gcr.io/distroless/static-debian12:nonroot@sha256:<digest>
FROM gcr.io/distroless/static-debian12:nonroot

ARG VERSION=dev
# No licence file is in the repository yet: SPDX "NOASSERTION" until one is chosen; override
# with --build-arg LICENSES=<SPDX expression>.
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="qwenmock" \
      org.opencontainers.image.description="Offline mock of Alibaba's Qwen3-Max API (Model Studio / DashScope): OpenAI-compatible and native endpoints, real token counts, rate limits and errors" \
      org.opencontainers.image.source="https://github.com/qwenmock/qwenmock" \
      org.opencontainers.image.licenses="${LICENSES}" \
      org.opencontainers.image.version="${VERSION}"

COPY --from=build /out/qwenmock /qwenmock
# The binary embeds the Qwen tokenizer vocabulary (Apache-2.0), whose NOTICE must travel with it.
COPY --from=build /src/mockserver/tokenizer/NOTICE /usr/share/doc/qwenmock/NOTICE

USER 65532:65532
ENV QWENMOCK_ADDR=0.0.0.0:8080
EXPOSE 8080
# SIGTERM (Docker's default stop signal) lets in-flight requests and streams finish, then exit 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/qwenmock", "healthcheck"]
ENTRYPOINT ["/qwenmock"]
