// Package apiproxy is, for tests, an HTTPS proxy that stands in for the API
// servers whose address a client library fixes (Pushover's, DingTalk's):
// a program given its Env sends its requests for those hosts through the
// proxy (HTTPS_PROXY, which Go's default transport reads), trusts the
// certificate the proxy shows for them (SSL_CERT_FILE), and the proxy
// forwards what it decrypts to a fake server of the test's, in plain HTTP.
// Nothing in the program under test changes: it is the path a user behind
// a proxy takes. A CONNECT to any other host is refused, so a test never
// reaches a real platform.
package apiproxy

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/f2b-notify/f2b-notify/internal/smtpsink"
)

// Proxy is a running proxy.
type Proxy struct {
	// Addr is its address, host:port.
	Addr string
	// CAFile is the PEM file of the certificate it shows for every host it
	// stands in for: the only root a client needs.
	CAFile string

	tls    *tls.Config
	l      net.Listener
	wg     sync.WaitGroup
	mu     sync.Mutex
	routes map[string]string // host → the fake's host:port ("" until routed)
	open   map[net.Conn]struct{}
	closed bool
}

// Start starts a proxy that stands in for hosts (port 443 each), writing its
// certificate into dir. Each host goes nowhere until Route says where.
func Start(dir string, hosts ...string) (*Proxy, error) {
	cert, err := smtpsink.NewCert(dir, "apiproxy test certificate", hosts, nil)
	if err != nil {
		return nil, fmt.Errorf("apiproxy: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("apiproxy: listen: %w", err)
	}
	p := &Proxy{
		Addr:   l.Addr().String(),
		CAFile: cert.CAFile,
		tls:    cert.Server,
		l:      l,
		routes: map[string]string{},
		open:   map[net.Conn]struct{}{},
	}
	for _, h := range hosts {
		p.routes[h] = ""
	}
	p.wg.Go(p.accept)
	return p, nil
}

// Route sends the requests for host (one of those Start was given) to the
// plain-HTTP server at target (host:port) from now on.
func (p *Proxy) Route(host, target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.routes[host]; !ok {
		panic("apiproxy: " + host + " is not a host the proxy stands in for")
	}
	p.routes[host] = target
}

// Env is the environment that sends a Go program's requests for the hosts
// through the proxy and makes it trust the proxy's certificate (and no
// other: SSL_CERT_FILE replaces the system's roots).
func (p *Proxy) Env() []string {
	return []string{
		"HTTPS_PROXY=http://" + p.Addr, "https_proxy=http://" + p.Addr,
		"NO_PROXY=", "no_proxy=",
		"SSL_CERT_FILE=" + p.CAFile,
	}
}

// Setenv sets Env in this process, for a test binary whose clients are
// built after it (Go reads the proxy variables once, at the first request).
func (p *Proxy) Setenv() error {
	for _, kv := range p.Env() {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return nil
}

// Close stops the proxy and ends the connections it holds.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	_ = p.l.Close()
	for c := range p.open {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.open[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.open, c)
	p.mu.Unlock()
	_ = c.Close()
}

func (p *Proxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		if p.track(c) {
			p.wg.Go(func() { p.tunnel(c) })
		}
	}
}

// tunnel answers one CONNECT: it ends TLS as the host asked for and copies
// the plain stream to and from the host's fake.
func (p *Proxy) tunnel(c net.Conn) {
	defer p.untrack(c)
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	host, port, err := net.SplitHostPort(req.Host)
	p.mu.Lock()
	target, known := p.routes[host]
	p.mu.Unlock()
	if req.Method != http.MethodConnect || err != nil || port != "443" || !known || target == "" {
		_, _ = fmt.Fprintf(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
		return
	}
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	tc := tls.Server(&bufferedConn{Conn: c, r: br}, p.tls)
	if err := tc.Handshake(); err != nil {
		return
	}
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	if !p.track(up) {
		return
	}
	defer p.untrack(up)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, tc); done <- struct{}{} }()
	go func() { _, _ = io.Copy(tc, up); done <- struct{}{} }()
	<-done // either side ending ends both (the deferred closes)
}

// bufferedConn reads what the CONNECT's reader already buffered first.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }
