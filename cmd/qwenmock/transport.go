package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Connection bounds (--idle-timeout, --read-timeout, --max-connections): an idle keep-alive
// connection is closed after the idle timeout; a client gets the read timeout to send its
// headers and again to send its body (a stream being written is not cut: the body deadline
// is lifted once the body is read); past the connection cap, a new connection gets a 503
// and is closed.
const (
	defaultIdleTimeout    = 60 * time.Second
	defaultReadTimeout    = 30 * time.Second
	defaultMaxConnections = 1024
)

// newHTTPServer is the HTTP server of the command, with the connection bounds of s.
func newHTTPServer(h http.Handler, s settings) *http.Server {
	return &http.Server{
		Handler:           bodyDeadline(h, s.readTimeout),
		ReadHeaderTimeout: s.readTimeout,
		IdleTimeout:       s.idleTimeout,
	}
}

// bodyDeadline gives a request d to deliver its body. http.Server.ReadTimeout would do so
// too, but its deadline stays on the connection while the handler runs, and when it passes
// Go cancels the request's context: every stream longer than the timeout would be cut.
func bodyDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			if rc.SetReadDeadline(time.Now().Add(d)) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, lift: func() { _ = rc.SetReadDeadline(time.Time{}) }}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline once the body has been read to its end.
type deadlineBody struct {
	io.ReadCloser
	lift   func()
	lifted bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.lifted {
		b.lifted = true
		b.lift()
	}
	return n, err
}

// limitConnections caps the connections open at once at max. Past the cap a connection is
// answered 503 and closed by one of a few refusers (overflowRefusers); when they are all
// busy it is closed at once.
func limitConnections(ln net.Listener, max int) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, max), refusers: make(chan struct{}, overflowRefusers), max: max}
}

const overflowRefusers = 64

type limitListener struct {
	net.Listener
	slots    chan struct{}
	refusers chan struct{}
	max      int
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
		}
		select {
		case l.refusers <- struct{}{}:
			go func() {
				defer func() { <-l.refusers }()
				refuse(c, l.max)
			}()
		default:
			_ = c.Close()
		}
	}
}

// refuse answers a connection past the cap with a 503 whose body both wire shapes read: the
// native code and message at the top, the compatible error object under "error".
func refuse(c net.Conn, max int) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	// Read what the client sent first, so that closing does not reset the connection before
	// it reads the answer.
	buf := make([]byte, 4096)
	_, _ = c.Read(buf)
	msg := fmt.Sprintf("Too many connections: the server keeps at most %d open at once (--max-connections).", max)
	body := fmt.Sprintf(`{"code":"ServiceUnavailable","message":%q,"error":{"message":%q,"type":"ServiceUnavailable","param":null,"code":"ServiceUnavailable"}}`, msg, msg)
	_, _ = io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "+
		fmt.Sprint(len(body))+"\r\n\r\n"+body)
}

// limitConn frees its slot once, when closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// loopbackAddr reports whether a listen address accepts only local connections.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ensureAdminToken locks the control API of a server reachable from other machines (an
// address other than loopback, as the image's 0.0.0.0) with a fresh token, printed on stderr,
// unless a token is given or --insecure-control-api says otherwise.
func ensureAdminToken(s *settings, stderr io.Writer) error {
	if s.adminToken != "" || s.insecureControl || loopbackAddr(s.addr) {
		return nil
	}
	tok, err := newAdminToken()
	if err != nil {
		return err
	}
	s.adminToken = tok
	fmt.Fprintf(stderr, "qwenmock: control API admin token (use Authorization: Bearer <token> on /_mock/*): %s\n", tok)
	return nil
}

// newAdminToken makes a random admin token.
func newAdminToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making an admin token: %w", err)
	}
	return "qm-" + hex.EncodeToString(b), nil
}
