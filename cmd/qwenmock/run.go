package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"github.com/qwenmock/qwenmock/mockserver"
)

// run is the whole command: it returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	check := len(args) > 0 && args[0] == "healthcheck"
	if check {
		args = args[1:]
	}
	s, err := load(args, getenv, os.ReadFile, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "qwenmock: %v\n", err)
		return 2
	}
	if s.version {
		fmt.Fprintln(stdout, versionLine())
		return 0
	}
	if check {
		return healthcheck(ctx, s, stderr)
	}
	if err := ensureAdminToken(&s, stderr); err != nil {
		fmt.Fprintf(stderr, "qwenmock: %v\n", err)
		return 1
	}
	logger := newLogger(s.logFormat, stderr)
	defer logger.w.Flush()
	stderr = logger.w // the command's own lines go out in order with the log's
	srv, err := mockserver.New(append(s.options(), mockserver.WithLogger(logger.Logger), mockserver.WithRequestLog(func(r mockserver.RequestRecord) {
		logRequest(logger, r)
	}))...)
	if err != nil {
		fmt.Fprintf(stderr, "qwenmock: %v\n", err)
		return 2
	}
	defer srv.Close()
	if s.redisURL != "" {
		announceRedis(ctx, logger.Logger, s.redisURL, s.redisFailOpen)
	}
	for _, f := range s.startFaults {
		if err := srv.QueueFault(f); err != nil {
			fmt.Fprintf(stderr, "qwenmock: %s: faults: %v\n", s.configPath, err)
			return 2
		}
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		fmt.Fprintf(stderr, "qwenmock: %v\n", err)
		return 1
	}
	hs := newHTTPServer(srv, s)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(limitConnections(ln, s.maxConnections)) }()
	fmt.Fprintf(stderr, "qwenmock listening on http://%s\n", listeningAddr(s.addr, ln.Addr()))

	select {
	case err := <-served:
		fmt.Fprintf(stderr, "qwenmock: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	// Stop accepting; let in-flight requests and streams finish within the bound.
	logger.Info("shutting down", "timeout", s.shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		logger.Warn("requests still running at the end of the shutdown timeout were cut", "error", err.Error())
		_ = hs.Close()
	}
	return 0
}

// listeningAddr is the address the listening line shows: the host as asked for (0.0.0.0
// stays 0.0.0.0, though Go listens on every IPv4 and IPv6 address) and the port really bound
// (port 0 picks a free one).
func listeningAddr(asked string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(asked)
	tcp, ok := bound.(*net.TCPAddr)
	if err != nil || host == "" || !ok {
		return bound.String()
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}
