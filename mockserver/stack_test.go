package mockserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

// TestStreamStackStaysSmall checks that a stream's handler, while it writes its response
// headers and waits between chunks, needs no more than 8 KiB of goroutine stack: with many
// open streams the stacks are most of the memory, and a 16 KiB stack per stream doubles them.
// The check runs in a child process, because the limit (debug.SetMaxStack) is the process's
// and exceeding it is fatal.
func TestStreamStackStaysSmall(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation makes every frame larger")
	}
	if os.Getenv("QWENMOCK_STACK_CHILD") == "1" {
		streamUnderStackLimit(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStreamStackStaysSmall$", "-test.count=1")
	cmd.Env = append(os.Environ(), "QWENMOCK_STACK_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("a stream needed more than 8 KiB of stack: %v\n%s", err, firstLines(string(out), 40))
	}
}

func streamUnderStackLimit(t *testing.T) {
	ts := NewTestServer(t)
	addr := strings.TrimPrefix(ts.URL, "http://")
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"stream":true}`
	stream := func() string {
		// A bare client on a raw connection: only the server's goroutines run under the limit.
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /compatible-mode/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		b, err := io.ReadAll(bufio.NewReader(conn))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	stream() // the first request builds the reply pool, once per process
	debug.SetMaxStack(8 << 10)
	got := stream()
	debug.SetMaxStack(1 << 30)
	if !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(got, "data: [DONE]\n\n\r\n0\r\n\r\n") {
		t.Fatalf("stream did not end: %q", got)
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
