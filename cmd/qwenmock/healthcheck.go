package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheck asks the server at --addr for /_mock/health and returns the exit code: 0 when
// it answers healthy. The Docker image has no curl; its HEALTHCHECK runs this.
func healthcheck(ctx context.Context, s settings, stderr io.Writer) int {
	host, port, err := net.SplitHostPort(s.addr)
	if err != nil {
		fmt.Fprintf(stderr, "qwenmock healthcheck: bad --addr %q: %v\n", s.addr, err)
		return 2
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1" // a server listening on every interface answers on loopback
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/_mock/health", nil)
	if err != nil {
		fmt.Fprintf(stderr, "qwenmock healthcheck: %v\n", err)
		return 2
	}
	if s.adminToken != "" {
		req.Header.Set("Authorization", "Bearer "+s.adminToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "qwenmock healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK || string(body) != `{"status":"ok"}` {
		fmt.Fprintf(stderr, "qwenmock healthcheck: %s %s\n", resp.Status, body)
		return 1
	}
	return 0
}
