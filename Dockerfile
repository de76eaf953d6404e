# qwenmock image: a static binary on a distroless base, running as uid 65532.
#
#   docker build --build-arg VERSION=1.2.3 --build-arg COMMIT="$(git rev-parse HEAD)" -t qwenmock:1.2.3 .
#   docker run --rm -p 8080:8080 qwenmock:1.2.3
#
# Builds with Docker 20.10+ (BuildKit or the classic builder) and podman/buildah 4.3/1.28+:
# no `# syntax=` line (BuildKit would fetch a frontend image), no RUN flags, no heredocs.
# With podman or buildah add `--format docker`: the OCI image format has no HEALTHCHECK.
#
# The image listens on 0.0.0.0:8080 (QWENMOCK_ADDR). To change the port, set QWENMOCK_ADDR
# rather than passing --addr: the HEALTHCHECK reads the same variable. Likewise set the admin
# token with QWENMOCK_ADMIN_TOKEN, not --admin-token, so the health check can send it.
# Flags given after the image name reach qwenmock (ENTRYPOINT), e.g. `qwenmock:1.2.3 --seed 7`.
#
# .ci/image-build.sh builds this file unchanged with podman and checks the running image.

# Base images, pinned by tag and digest so that a re-pushed tag cannot change the toolchain or
# the runtime. Override them to use a mirror or local stand-ins without editing this file:
#   --build-arg GO_IMAGE=mirror.example/golang:1.26.8-bookworm
# Update a pin with `docker buildx imagetools inspect IMAGE:TAG` (or `crane digest IMAGE:TAG`),
# copying the digest of the multi-platform index. The Go version matches go.mod's.
ARG GO_IMAGE=golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab

# ---- build ------------------------------------------------------------------------------------
FROM ${GO_IMAGE} AS build
WORKDIR /src
# Use the image's Go even if go.mod ever asks for a newer one (no toolchain download).
ENV GOTOOLCHAIN=local

# Module downloads in their own layer: they are rebuilt only when go.mod or go.sum change.
# (go mod download checks each download against go.sum.)
COPY go.mod go.sum ./
RUN go mod download

COPY . .
ARG VERSION=dev
ARG COMMIT=
# No cgo: a fully static binary that needs no libc, no /etc and no other file in the image.
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/qwenmock ./cmd/qwenmock
# The licence and notices travel with the binary: the project's LICENSE and NOTICE, and the
# NOTICE of the embedded Qwen tokenizer vocabulary (Apache-2.0).
RUN mkdir -p /out/doc && \
    cp mockserver/tokenizer/NOTICE /out/doc/NOTICE.tokenizer && \
    for f in LICENSE NOTICE; do if [ -f "$f" ]; then cp "$f" /out/doc/; fi; done

# Smoke run: the version line, then a start on a free loopback port (port 0: the build may
# share the host's network), `qwenmock healthcheck` until it answers (40 tries, 0.25 s apart),
# and a SIGTERM that must end it with exit 0. Nothing here needs the network beyond loopback.
RUN set -eu; \
    /out/qwenmock --version; \
    /out/qwenmock --addr 127.0.0.1:0 2>/tmp/smoke.log & pid=$!; \
    ok=0; \
    for i in $(seq 1 40); do \
      addr=$(sed -n 's|^qwenmock listening on http://||p' /tmp/smoke.log); \
      if [ -n "$addr" ] && /out/qwenmock healthcheck --addr "$addr"; then ok=1; break; fi; \
      sleep 0.25; \
    done; \
    kill -TERM "$pid"; \
    wait "$pid"; \
    cat /tmp/smoke.log; \
    test "$ok" = 1; \
    echo "smoke run: healthy on $addr, stopped cleanly"

# ---- runtime ----------------------------------------------------------------------------------
# distroless/static rather than scratch: the binary needs nothing from either, but distroless
# adds, for about 2 MB, what people expect inside a container: an /etc/passwd naming uid 65532
# "nonroot", a writable /tmp, CA certificates and tzdata, all maintained upstream with security
# updates. No shell and no package manager.
FROM ${BASE_IMAGE}

ARG VERSION=dev
ARG COMMIT=
LABEL org.opencontainers.image.title="qwenmock" \
      org.opencontainers.image.description="Offline mock of Alibaba's Qwen3-Max API (Model Studio / DashScope): OpenAI-compatible and native endpoints, real token counts, rate limits and errors" \
      org.opencontainers.image.source="https://github.com/qwenmock/qwenmock" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"

COPY --from=build /out/qwenmock /qwenmock
COPY --from=build /out/doc/ /usr/share/doc/qwenmock/

USER 65532:65532
ENV QWENMOCK_ADDR=0.0.0.0:8080
EXPOSE 8080
# SIGTERM (Docker's default stop signal) lets in-flight requests and streams finish within
# --shutdown-timeout (10 s by default, docker stop's own grace period), then exits 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/qwenmock", "healthcheck"]
ENTRYPOINT ["/qwenmock"]
