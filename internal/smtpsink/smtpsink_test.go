package smtpsink_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/smtpsink"
)

// send delivers one message with the standard library's client.
func send(addr string, auth smtp.Auth, tlsCfg *tls.Config, from string, to []string, body string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if tlsCfg != nil {
		if err := c.StartTLS(tlsCfg); err != nil {
			return err
		}
	}
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestRecordStopRestart(t *testing.T) {
	s := smtpsink.Start(t)
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || s.Port() == 0 || s.Host() != "127.0.0.1" {
		t.Fatalf("Addr %q Host %q Port %d", s.Addr(), s.Host(), s.Port())
	}
	if err := send(s.Addr(), nil, nil, "a@example.org", []string{"b@example.com", "c@example.com"}, "Subject: one\r\n\r\nbody\r\n"); err != nil {
		t.Fatalf("send: %v", err)
	}
	m := s.WaitFor(t, 1, 5*time.Second)[0]
	if m.From != "a@example.org" || strings.Join(m.To, ",") != "b@example.com,c@example.com" || !strings.Contains(string(m.Data), "Subject: one") || m.TLS || m.User != "" {
		t.Errorf("recorded %+v", m)
	}

	port := s.Port()
	s.Stop()
	s.Stop() // twice is fine
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Fatal("connected to a stopped sink")
	}
	s.Restart(t)
	s.Restart(t) // running: nothing to do
	if s.Port() != port {
		t.Fatalf("restarted on port %d, want %d", s.Port(), port)
	}
	if err := send(s.Addr(), nil, nil, "a@example.org", []string{"b@example.com"}, "Subject: two\r\n\r\nbody\r\n"); err != nil {
		t.Fatalf("send after restart: %v", err)
	}
	if n := len(s.WaitFor(t, 2, 5*time.Second)); n != 2 {
		t.Errorf("%d messages, want 2 (kept across the restart)", n)
	}
}

func TestStopRightAfterStart(t *testing.T) {
	for range 20 {
		s := smtpsink.Start(t)
		s.Stop()
		s.Restart(t)
		s.Stop()
	}
}

func TestAuth(t *testing.T) {
	s := smtpsink.Start(t, smtpsink.WithAuth("user", "pass"))
	if err := send(s.Addr(), nil, nil, "a@example.org", []string{"b@example.com"}, "x\r\n"); code(err) != 502 {
		t.Errorf("MAIL without AUTH: %v, want 502", err)
	}
	if err := send(s.Addr(), smtp.PlainAuth("", "user", "wrong", "127.0.0.1"), nil, "a@example.org", []string{"b@example.com"}, "x\r\n"); code(err) != 535 {
		t.Errorf("wrong password: %v, want 535", err)
	}
	if err := send(s.Addr(), smtp.PlainAuth("", "user", "pass", "127.0.0.1"), nil, "a@example.org", []string{"b@example.com"}, "x\r\n"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if m := s.WaitFor(t, 1, 5*time.Second)[0]; m.User != "user" {
		t.Errorf("User %q, want user", m.User)
	}
}

func TestFail(t *testing.T) {
	s := smtpsink.Start(t)
	for _, tt := range []struct {
		stage smtpsink.Stage
		code  int
	}{{smtpsink.StageMail, 421}, {smtpsink.StageRcpt, 550}, {smtpsink.StageData, 451}} {
		s.Fail(tt.stage, tt.code, "injected")
		err := send(s.Addr(), nil, nil, "a@example.org", []string{"b@example.com"}, "x\r\n")
		if code(err) != tt.code || !strings.Contains(err.Error(), "injected") {
			t.Errorf("%s: %v, want %d injected", tt.stage, err, tt.code)
		}
		s.Fail(tt.stage, 0, "")
	}
	if err := send(s.Addr(), nil, nil, "a@example.org", []string{"b@example.com"}, "x\r\n"); err != nil {
		t.Fatalf("after clearing failures: %v", err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestTLS(t *testing.T) {
	cert := smtpsink.SelfSignedCert(t)
	s := smtpsink.Start(t, smtpsink.WithSTARTTLS(cert.Server))
	cfg := &tls.Config{RootCAs: cert.Pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if err := send(s.Addr(), nil, cfg, "a@example.org", []string{"b@example.com"}, "x\r\n"); err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	if m := s.WaitFor(t, 1, 5*time.Second)[0]; !m.TLS {
		t.Error("message not marked TLS")
	}

	implicit := smtpsink.Start(t, smtpsink.WithImplicitTLS(cert.Server))
	conn, err := tls.Dial("tcp", implicit.Addr(), cfg)
	if err != nil {
		t.Fatalf("implicit TLS dial: %v", err)
	}
	defer conn.Close()
	line, err := textproto.NewReader(bufio.NewReader(conn)).ReadLine()
	if err != nil || !strings.HasPrefix(line, "220 ") {
		t.Errorf("greeting %q, %v", line, err)
	}
}

func TestBlackhole(t *testing.T) {
	addr := smtpsink.Blackhole(t)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var b [1]byte
	_, err = conn.Read(b[:])
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read from blackhole: %v, want a timeout", err)
	}
}

func TestWaitForFails(t *testing.T) {
	s := smtpsink.Start(t)
	ft := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() { // Fatalf ends the goroutine, as in a real test
		defer close(done)
		s.WaitFor(ft, 1, 50*time.Millisecond)
	}()
	<-done
	if !strings.Contains(ft.msg, "got 0") {
		t.Errorf("WaitFor failure message %q", ft.msg)
	}
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the calling goroutine.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
