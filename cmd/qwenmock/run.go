package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/qwenmock/qwenmock/mockserver"
)

// shutdownGrace bounds how long in-flight requests and streams may run after a signal.
const shutdownGrace = 10 * time.Second

// run is the whole command: it returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	s, err := load(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "qwenmock: %v\n", err)
		return 2
	}
	if s.version {
		fmt.Fprintf(stdout, "qwenmock %s\n", version)
		return 0
	}
	srv, err := mockserver.New(s.options()...)
	if err != nil {
		fmt.Fprintf(stderr, "qwenmock: %v\n", err)
		return 2
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		fmt.Fprintf(stderr, "qwenmock: %v\n", err)
		return 1
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(stderr, "qwenmock listening on http://%s\n", ln.Addr())

	select {
	case err := <-served:
		fmt.Fprintf(stderr, "qwenmock: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "qwenmock: shutdown: %v\n", err)
		return 1
	}
	return 0
}
