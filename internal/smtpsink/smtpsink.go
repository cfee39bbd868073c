// Package smtpsink is an SMTP server for tests. It listens on a random port of
// 127.0.0.1 and records every message it accepts with its envelope. A test can
// stop it (connections are then refused, as when a mail server is down),
// restart it on the same port, require AUTH PLAIN, offer STARTTLS or speak
// TLS from the first byte, and make it refuse MAIL, RCPT or DATA with a
// chosen reply code. Everything is torn down by t.Cleanup.
package smtpsink

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the sink accepted.
type Message struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To lists the envelope recipients (RCPT TO), in order.
	To []string
	// Data is the message as received after DATA, headers and body.
	Data []byte
	// User is the name the client authenticated as, or "".
	User string
	// TLS reports whether the session was encrypted.
	TLS bool
}

// Stage is an SMTP command that Fail can make the sink refuse.
type Stage string

// The stages Fail accepts.
const (
	StageMail Stage = "MAIL"
	StageRcpt Stage = "RCPT"
	StageData Stage = "DATA"
)

// Option changes how the sink is started.
type Option func(*config)

type config struct {
	username, password string
	startTLS           *tls.Config
	implicitTLS        *tls.Config
}

// WithAuth makes the sink offer AUTH PLAIN and require it before MAIL; only
// username with password is accepted. Plaintext AUTH is allowed.
func WithAuth(username, password string) Option {
	return func(c *config) { c.username, c.password = username, password }
}

// WithSTARTTLS makes the sink offer STARTTLS with the given server config
// (see SelfSignedCert).
func WithSTARTTLS(cfg *tls.Config) Option {
	return func(c *config) { c.startTLS = cfg }
}

// WithImplicitTLS makes the sink speak TLS from the first byte, like port 465.
func WithImplicitTLS(cfg *tls.Config) Option {
	return func(c *config) { c.implicitTLS = cfg }
}

// Sink is a running test SMTP server. Its methods are safe for concurrent use.
type Sink struct {
	cfg  config
	addr string // 127.0.0.1:port, fixed for the sink's life
	log  *testLogger

	mu       sync.Mutex
	server   *smtp.Server
	listener net.Listener
	served   chan struct{} // closed when the current Serve returns
	messages []Message
	changed  chan struct{} // closed and replaced on every new message
	fail     map[Stage]*smtp.SMTPError
}

// Start starts a sink on a random port of 127.0.0.1. It is stopped when the
// test ends.
func Start(t testing.TB, opts ...Option) *Sink {
	t.Helper()
	s := &Sink{
		log:     &testLogger{t: t},
		changed: make(chan struct{}),
		fail:    map[Stage]*smtp.SMTPError{},
	}
	for _, o := range opts {
		o(&s.cfg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtpsink: listen: %v", err)
	}
	s.addr = l.Addr().String()
	s.serve(l)
	t.Cleanup(func() {
		s.Stop()
		s.log.close()
	})
	return s
}

// Addr returns the sink's address, 127.0.0.1:port.
func (s *Sink) Addr() string { return s.addr }

// Host returns the sink's host, 127.0.0.1.
func (s *Sink) Host() string {
	h, _, _ := net.SplitHostPort(s.addr)
	return h
}

// Port returns the sink's port.
func (s *Sink) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Messages returns a copy of the messages accepted so far, oldest first.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		m.To = append([]string(nil), m.To...)
		m.Data = bytes.Clone(m.Data)
		out[i] = m
	}
	return out
}

// WaitFor waits until the sink holds at least n messages and returns them.
// It fails the test if that takes longer than timeout. Call it from the
// test's goroutine.
func (s *Sink) WaitFor(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		have, changed := len(s.messages), s.changed
		s.mu.Unlock()
		if have >= n {
			return s.Messages()
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("smtpsink %s: waited %s for %d message(s), got %d", s.addr, timeout, n, have)
			return nil
		}
	}
}

// Fail makes every following command of stage answer code with message
// (e.g. StageData, 451, "try again later"); code 0 makes it succeed again.
// A DATA failure is answered after the message was read, as servers do.
func (s *Sink) Fail(stage Stage, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.fail, stage)
		return
	}
	s.fail[stage] = &smtp.SMTPError{
		Code:         code,
		EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0},
		Message:      message,
	}
}

// Stop closes the listener and every open connection: new connections are
// refused until Restart. Stopping a stopped sink does nothing.
func (s *Sink) Stop() {
	s.mu.Lock()
	srv, l, served := s.server, s.listener, s.served
	s.server, s.listener, s.served = nil, nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	_ = srv.Close()
	// Close registers the listener only once Serve has started; closing it
	// here too ends a Serve that starts after Close.
	_ = l.Close()
	<-served
}

// Restart starts a stopped sink again on the same port, keeping the messages
// it has. Restarting a running sink does nothing.
func (s *Sink) Restart(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	running := s.server != nil
	s.mu.Unlock()
	if running {
		return
	}
	var (
		l   net.Listener
		err error
	)
	for range 50 { // the port may linger for a moment after Stop
		if l, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("smtpsink: restart on %s: %v", s.addr, err)
	}
	s.serve(l)
}

// serve runs a fresh server on l.
func (s *Sink) serve(l net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = s.log
	if s.cfg.startTLS != nil {
		srv.TLSConfig = s.cfg.startTLS
	}
	if s.cfg.implicitTLS != nil {
		l = tls.NewListener(l, s.cfg.implicitTLS)
	}
	served := make(chan struct{})
	s.mu.Lock()
	s.server, s.listener, s.served = srv, l, served
	s.mu.Unlock()
	go func() {
		defer close(served)
		_ = srv.Serve(l)
	}()
}

func (s *Sink) failure(stage Stage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.fail[stage]; e != nil {
		return e
	}
	return nil
}

func (s *Sink) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Sink) newSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{sink: s, conn: c, tls: isTLS}, nil
}

// session is one SMTP session; go-smtp calls its methods from one goroutine.
type session struct {
	sink *Sink
	conn *smtp.Conn
	tls  bool
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.sink.cfg.username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.sink.cfg.username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return smtp.ErrAuthFailed
		}
		if username != ss.sink.cfg.username || password != ss.sink.cfg.password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.sink.cfg.username != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	if err := ss.sink.failure(StageMail); err != nil {
		return err
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.sink.failure(StageRcpt); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := ss.sink.failure(StageData); err != nil {
		return err
	}
	if _, isTLS := ss.conn.TLSConnectionState(); isTLS {
		ss.tls = true
	}
	ss.sink.record(Message{From: ss.from, To: append([]string(nil), ss.to...), Data: data, User: ss.user, TLS: ss.tls})
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// testLogger sends the server's error log to t.Log until the test ends.
type testLogger struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

func (l *testLogger) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.t.Logf("smtpsink: "+format, v...)
	}
}

func (l *testLogger) Println(v ...any) {
	l.Printf("%s", fmt.Sprintln(v...))
}

func (l *testLogger) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
}

// Blackhole starts a listener on 127.0.0.1 that accepts connections and never
// answers, like a server that hangs, and returns its address. Connections are
// closed when the test ends.
func Blackhole(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtpsink: blackhole listen: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}
