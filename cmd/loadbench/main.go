//go:build linux

// Command loadbench measures qwenmock's throughput and memory against a bare net/http server
// that writes the same bytes, over loopback, in one run, so that the ratios hold on a busy or
// slow machine where absolute figures do not.
//
// It builds (or takes) the qwenmock binary, starts it and a bare server as two child processes,
// captures one JSON reply and one stream from qwenmock, makes the bare server replay exactly
// those bytes (the stream event by event, flushed like qwenmock flushes), then drives both with
// the same keep-alive HTTP/1.1 load and prints requests per second, the ratio, CPU seconds per
// thousand requests and resident memory (idle after start and after the load).
//
// With -streams N it also opens N concurrent paced streams against qwenmock and reports how many
// completed and the peak resident memory.
//
//	go run ./cmd/loadbench                      # JSON and stream phases, 10 s each
//	go run ./cmd/loadbench -duration 30s -conns 64
//	go run ./cmd/loadbench -streams 10000 -phases none
//
// Linux only (it reads /proc). Traffic goes to 127.0.0.1 only.

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	jsonBody   = `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}]}`
	streamBody = `{"model":"qwen3-max","messages":[{"role":"user","content":"hi"}],"stream":true}`
	chatPath   = "/compatible-mode/v1/chat/completions"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		serveBare(os.Args[2:])
		return
	}
	if err := bench(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

type options struct {
	bin          string
	duration     time.Duration
	warmup       time.Duration
	conns        int
	phases       string
	streams      int
	tokenLatency time.Duration
	extra        string
}

func bench(args []string) error {
	var o options
	fs := flag.NewFlagSet("loadbench", flag.ContinueOnError)
	fs.StringVar(&o.bin, "bin", "", "qwenmock binary (default: go build ./cmd/qwenmock into a temporary directory)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "load time of each phase")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each phase")
	fs.IntVar(&o.conns, "conns", 32, "concurrent keep-alive connections")
	fs.StringVar(&o.phases, "phases", "json,stream", "comma-separated phases to run: json, stream, or none")
	fs.IntVar(&o.streams, "streams", 0, "also open this many concurrent paced streams against qwenmock (0: skip)")
	fs.DurationVar(&o.tokenLatency, "token-latency", 20*time.Millisecond, "qwenmock --token-latency for the -streams test")
	fs.StringVar(&o.extra, "args", "", "extra qwenmock flags, space-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raiseFileLimit()

	if o.bin == "" {
		dir, err := os.MkdirTemp("", "loadbench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.bin = filepath.Join(dir, "qwenmock")
		build := exec.Command("go", "build", "-o", o.bin, "./cmd/qwenmock")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build ./cmd/qwenmock (run loadbench from the repository root, or pass -bin): %w", err)
		}
	}
	fmt.Printf("loadbench: %d connections, %s per phase (after %s warm-up), GOMAXPROCS of each server = its default\n",
		o.conns, o.duration, o.warmup)

	// Limits are raised out of the way but still counted: every request goes through the limiter.
	qargs := []string{"--addr", "127.0.0.1:0", "--rpm", "1000000000", "--tpm", "1000000000000"}
	qargs = append(qargs, strings.Fields(o.extra)...)
	q, err := start(o.bin, qargs...)
	if err != nil {
		return err
	}
	defer q.stop()
	time.Sleep(500 * time.Millisecond)
	idle := rssKiB(q.cmd.Process.Pid)

	jsonReply, err := fetch(q.addr, request(jsonBody))
	if err != nil {
		return fmt.Errorf("capturing a JSON reply: %w", err)
	}
	streamReply, err := fetch(q.addr, request(streamBody))
	if err != nil {
		return fmt.Errorf("capturing a stream: %w", err)
	}
	events := bytes.SplitAfter(streamReply, []byte("\n\n"))
	if len(events) > 0 && len(events[len(events)-1]) == 0 {
		events = events[:len(events)-1]
	}
	dir, err := os.MkdirTemp("", "loadbench-bodies")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	jsonFile, streamFile := filepath.Join(dir, "reply.json"), filepath.Join(dir, "stream.sse")
	if err := os.WriteFile(jsonFile, jsonReply, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(streamFile, streamReply, 0o600); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b, err := start(self, "bare", "-json", jsonFile, "-stream", streamFile)
	if err != nil {
		return err
	}
	defer b.stop()
	time.Sleep(300 * time.Millisecond)
	bareIdle := rssKiB(b.cmd.Process.Pid)
	fmt.Printf("reply: %d bytes JSON; stream: %d events, %d bytes\n", len(jsonReply), len(events), len(streamReply))
	fmt.Printf("RSS idle after start: qwenmock %.1f MiB, bare %.1f MiB\n", mib(idle), mib(bareIdle))

	for _, phase := range strings.Split(o.phases, ",") {
		var body string
		switch strings.TrimSpace(phase) {
		case "json":
			body = jsonBody
		case "stream":
			body = streamBody
		case "none", "":
			continue
		default:
			return fmt.Errorf("unknown phase %q", phase)
		}
		req := request(body)
		fmt.Printf("\n%s phase\n", phase)
		var rates [2]float64
		for i, srv := range []*child{q, b} {
			load(srv.addr, req, o.conns, o.warmup)
			cpu0 := cpuSeconds(srv.cmd.Process.Pid)
			res := load(srv.addr, req, o.conns, o.duration)
			cpu := cpuSeconds(srv.cmd.Process.Pid) - cpu0
			rates[i] = float64(res.ok) / o.duration.Seconds()
			fmt.Printf("  %-8s %9.0f req/s  %6d errors  %6.2f CPU s per 1000 req  RSS %.1f MiB\n",
				srv.name, rates[i], res.errors, 1000*cpu/float64(max(res.ok, 1)), mib(rssKiB(srv.cmd.Process.Pid)))
			if res.firstErr != nil {
				fmt.Printf("           first error: %v\n", res.firstErr)
			}
		}
		fmt.Printf("  ratio qwenmock/bare: %.2f\n", rates[0]/rates[1])
	}
	fmt.Printf("\nRSS after the load: qwenmock %.1f MiB (idle after start %.1f MiB)\n", mib(rssKiB(q.cmd.Process.Pid)), mib(idle))

	if o.streams > 0 {
		return concurrentStreams(o)
	}
	return nil
}

// concurrentStreams opens o.streams paced streams at once against a fresh qwenmock and reports
// how many completed and the server's peak resident memory.
func concurrentStreams(o options) error {
	// --max-connections bounds open connections (default below 10,000): raise it to the test's.
	args := []string{"--addr", "127.0.0.1:0", "--rpm", "0", "--tpm", "0", "--token-latency", o.tokenLatency.String(),
		"--max-connections", strconv.Itoa(o.streams + 64)}
	args = append(args, strings.Fields(o.extra)...)
	q, err := start(o.bin, args...)
	if err != nil {
		return err
	}
	defer q.stop()
	fmt.Printf("\n%d concurrent streams, --token-latency %s\n", o.streams, o.tokenLatency)
	var peak atomic.Int64
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if v := rssKiB(q.cmd.Process.Pid); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	req := request(streamBody)
	var ok, failed atomic.Int64
	var firstErr firstError
	var wg sync.WaitGroup
	began := time.Now()
	for i := 0; i < o.streams; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, err := fetch(q.addr, req)
			if err == nil && !bytes.HasSuffix(body, []byte("data: [DONE]\n\n")) {
				err = errors.New("stream did not end with [DONE]")
			}
			if err != nil {
				failed.Add(1)
				firstErr.set(err)
				return
			}
			ok.Add(1)
		}()
	}
	wg.Wait()
	close(done)
	fmt.Printf("  completed %d of %d in %s, failed %d; peak RSS %.1f MiB\n",
		ok.Load(), o.streams, time.Since(began).Round(time.Millisecond), failed.Load(), mib(peak.Load()))
	if e := firstErr.get(); e != nil {
		fmt.Printf("  first error: %v\n", e)
	}
	return nil
}

type child struct {
	name string
	addr string
	cmd  *exec.Cmd
}

// start runs a server child and waits for its listening line on stderr.
func start(bin string, args ...string) (*child, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "GOGC=", "QWENMOCK_LOG_FORMAT=json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			if line := sc.Text(); !sent && strings.Contains(line, "listening on http://") {
				lines <- line
				sent = true
			}
		}
	}()
	name := "qwenmock"
	if len(args) > 0 && args[0] == "bare" {
		name = "bare"
	}
	select {
	case line := <-lines:
		addr := line[strings.Index(line, "http://")+len("http://"):]
		return &child{name: name, addr: strings.TrimSpace(addr), cmd: cmd}, nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("%s did not print its listening line within 30 s", bin)
	}
}

func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
	}
}

// request is one raw HTTP/1.1 keep-alive POST of body.
func request(body string) []byte {
	return []byte("POST " + chatPath + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-loadbench\r\n" +
		"Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

type result struct {
	ok, errors int
	firstErr   error
}

// load sends req back to back on conns keep-alive connections for d and counts 200 answers.
func load(addr string, req []byte, conns int, d time.Duration) result {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var ok, bad atomic.Int64
	var firstErr firstError
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					bad.Add(1)
					firstErr.set(err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				br := bufio.NewReaderSize(conn, 32<<10)
				for ctx.Err() == nil {
					if _, err := conn.Write(req); err != nil {
						bad.Add(1)
						firstErr.set(err)
						break
					}
					if _, err := readResponse(br, io.Discard); err != nil {
						bad.Add(1)
						firstErr.set(err)
						break
					}
					ok.Add(1)
				}
				conn.Close()
			}
		}()
	}
	wg.Wait()
	r := result{ok: int(ok.Load()), errors: int(bad.Load())}
	if e := firstErr.get(); e != nil && !errors.Is(e, net.ErrClosed) {
		r.firstErr = e
	}
	return r
}

// fetch sends one request on a fresh connection and returns the decoded body.
func fetch(addr string, req []byte) ([]byte, error) {
	conn, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Minute))
	if _, err := conn.Write(req); err != nil {
		return nil, err
	}
	var body bytes.Buffer
	if _, err := readResponse(bufio.NewReader(conn), &body); err != nil {
		return nil, err
	}
	return body.Bytes(), nil
}

// readResponse reads one HTTP/1.1 response (Content-Length or chunked) and copies its body to
// w. A status other than 200 is an error.
func readResponse(br *bufio.Reader, w io.Writer) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || string(line[9:12]) != "200" {
		return 0, fmt.Errorf("status line %q", strings.TrimSpace(string(line)))
	}
	length, chunked := -1, false
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(h, []byte(":")); ok {
			v = bytes.TrimSpace(v)
			switch {
			case bytes.EqualFold(k, []byte("Content-Length")):
				length, _ = strconv.Atoi(string(v))
			case bytes.EqualFold(k, []byte("Transfer-Encoding")) && bytes.EqualFold(v, []byte("chunked")):
				chunked = true
			}
		}
	}
	if !chunked {
		if length < 0 {
			return 0, errors.New("response without Content-Length or chunked encoding")
		}
		n, err := io.CopyN(w, br, int64(length))
		return int(n), err
	}
	total := 0
	for {
		sz, err := br.ReadSlice('\n')
		if err != nil {
			return total, err
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(sz)), 16, 64)
		if err != nil {
			return total, fmt.Errorf("chunk size %q", sz)
		}
		if size == 0 {
			_, err := br.ReadSlice('\n') // the empty trailer
			return total, err
		}
		n, err := io.CopyN(w, br, size)
		total += int(n)
		if err != nil {
			return total, err
		}
		if _, err := br.Discard(2); err != nil {
			return total, err
		}
	}
}

// serveBare is the child that stands for the cost of HTTP alone: it answers every request with
// the captured bytes, the stream one event at a time with a flush after each.
func serveBare(args []string) {
	fs := flag.NewFlagSet("bare", flag.ExitOnError)
	jsonFile := fs.String("json", "", "JSON reply to replay")
	streamFile := fs.String("stream", "", "SSE stream to replay")
	_ = fs.Parse(args)
	reply, err := os.ReadFile(*jsonFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	stream, err := os.ReadFile(*streamFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	events := bytes.SplitAfter(stream, []byte("\n\n"))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "text/event-stream;charset=UTF-8")
			w.WriteHeader(http.StatusOK)
			f := w.(http.Flusher)
			for _, ev := range events {
				if len(ev) > 0 {
					_, _ = w.Write(ev)
					f.Flush()
				}
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(reply)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "bare listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: h}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, os.Interrupt)
		<-ch
		_ = srv.Close()
	}()
	_ = srv.Serve(ln)
}

// rssKiB is the resident set size of a process, from /proc.
func rssKiB(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// cpuSeconds is the user+system CPU time of a process so far, from /proc.
func cpuSeconds(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start after the last ')'.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ is 100 on Linux
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// raiseFileLimit lifts the open-file soft limit to the hard limit, for -streams; children
// inherit it.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// firstError keeps the first error reported to it, whatever its type.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
