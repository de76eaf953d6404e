# syntax=docker/dockerfile:1
# Multi-stage build: a static qwenmock binary on a distroless base, running as uid 65532.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/qwenmock ./cmd/qwenmock \
 && /out/qwenmock --version

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/qwenmock /qwenmock
USER 65532:65532
ENV QWENMOCK_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/qwenmock"]
