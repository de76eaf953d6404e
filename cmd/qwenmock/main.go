// Command qwenmock serves an offline stand-in for Alibaba's Qwen3-Max API (Model Studio /
// DashScope) on a local port. Run "qwenmock -h" for its flags; each also has a QWENMOCK_*
// environment variable.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
